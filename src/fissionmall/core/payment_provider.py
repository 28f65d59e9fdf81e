"""The contract every payment provider meets: prepay, verify a notification, refund, pay out."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from fissionmall.core.money import Fen


def provider_number(prefix: str, now: datetime, merchant_id: int) -> str:
    """A number the provider keeps (an order's, which its trade numbers are made of; a payout's bill number): the
    moment, ten random digits and the merchant's id. One provider account serves every merchant, so no two merchants'
    numbers may coincide, while the database's keys hold them unique per merchant (as a schema sharded by merchant
    must): closing each number with its merchant's id keeps two merchants' numbers apart whatever the random digits.
    32 characters, the provider's limit, hold merchant ids below 10⁹."""
    return f"{prefix}{now:%y%m%d%H%M%S}{secrets.randbelow(10**10):010d}{merchant_id}"


@dataclass(frozen=True)
class PrepayRequest:
    out_trade_no: str
    amount_fen: Fen
    description: str
    payer_openid: str | None
    expires_at_iso: str


@dataclass(frozen=True)
class RefundRequest:
    out_trade_no: str
    out_refund_no: str
    """Deterministic per refund, so a retried call cannot refund twice."""
    refund_fen: Fen
    total_fen: Fen
    reason: str


@dataclass(frozen=True)
class ProviderNotice:
    """A verified, decoded notification: what the provider says happened."""

    event_id: str
    kind: Literal["payment", "refund"]
    succeeded: bool
    out_trade_no: str
    out_refund_no: str | None
    transaction_id: str
    amount_fen: Fen


@dataclass(frozen=True)
class TransferRequest:
    """Money paid out to a customer (商家转账): a withdrawal of commission."""

    out_bill_no: str
    """Deterministic per withdrawal, so a retried payout cannot pay twice."""
    openid: str
    amount_fen: Fen
    remark: str
    real_name: str
    """The payee's name as checked; WeChat Pay matches it to the account on large transfers."""


@dataclass(frozen=True)
class TransferResult:
    state: Literal["paid", "pending", "failed"]
    bill_no: str | None = None
    package_info: str | None = None
    """Set while the customer still has to confirm receipt in the mini-program (wx.requestMerchantTransfer)."""
    reason: str | None = None


class InvalidNotification(Exception):
    """Signature, timestamp, decryption or merchant identity check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PaymentProviderError(Exception):
    """The provider refused or could not be reached; `code` is the provider's error code or our tag."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class PaymentProvider(Protocol):
    name: str

    async def prepay(self, request: PrepayRequest) -> dict[str, object]:
        """Return the parameters the shopper's client needs to pay."""
        ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> ProviderNotice:
        """Verify on the raw body and decode; raise InvalidNotification on any doubt."""
        ...

    async def refund(self, request: RefundRequest) -> None:
        """Ask the provider to refund; idempotent on out_refund_no; result arrives by notification."""
        ...

    async def transfer(self, request: TransferRequest) -> TransferResult:
        """Pay out to a customer, or report the state of the bill already made under `out_bill_no`."""
        ...
