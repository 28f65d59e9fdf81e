"""A built-in stand-in for WeChat Pay: prepay, then signed asynchronous notifications, retried until
acknowledged, and refunds with notifications of their own. It signs with its own key (HMAC-SHA256
over "timestamp\\nnonce\\nbody\\n", as WeChat Pay signs with RSA) and refuses stale timestamps, so the
mall's notification path runs exactly as in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fissionmall.core.clock import Clock
from fissionmall.core.outbox import NO_MERCHANT, commit_and_wake, enqueue, job
from fissionmall.core.payment_provider import (
    InvalidNotification,
    PrepayRequest,
    ProviderNotice,
    RefundRequest,
    TransferRequest,
    TransferResult,
)
from fissionmall.core.runtime import Runtime
from fissionmall.db.sql import insert_ignoring_conflicts
from fissionmall.payments.models import SandboxRefund, SandboxTransfer

MAX_SKEW = timedelta(minutes=5)
DELIVER_JOB = "sandbox.deliver_notification"
NOTIFY_PATH = "/api/v1/payments/notify/sandbox"


def sign(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def signed_headers(key: str, body: bytes, now: datetime) -> dict[str, str]:
    timestamp, nonce = str(int(now.timestamp())), secrets.token_hex(16)
    return {"Sandbox-Timestamp": timestamp, "Sandbox-Nonce": nonce,
            "Sandbox-Signature": sign(key, timestamp, nonce, body), "Content-Type": "application/json"}


class SandboxProvider:
    name = "sandbox"

    def __init__(self, key: str, clock: Clock, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """`sessionmaker`: the sandbox keeps its books (refunds and transfers accepted) in the mall's database."""
        self._key = key
        self.clock = clock
        self.sessionmaker = sessionmaker

    async def prepay(self, request: PrepayRequest) -> dict[str, object]:
        return {"sandbox": True, "out_trade_no": request.out_trade_no, "amount_fen": request.amount_fen}

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> ProviderNotice:
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            timestamp, nonce, signature = (lower[f"sandbox-{h}"] for h in ("timestamp", "nonce", "signature"))
            sent_at = int(timestamp)
        except (KeyError, ValueError):
            raise InvalidNotification("missing or malformed signature headers") from None
        if abs(self.clock.now().timestamp() - sent_at) > MAX_SKEW.total_seconds():
            raise InvalidNotification("timestamp outside the 5 minute window")
        if not hmac.compare_digest(sign(self._key, timestamp, nonce, body), signature):
            raise InvalidNotification("bad signature")
        try:
            data = json.loads(body)
            resource = data["resource"]
            kind = {"TRANSACTION.SUCCESS": "payment", "REFUND.SUCCESS": "refund"}[data["event_type"]]
            return ProviderNotice(
                event_id=str(data["id"]), kind=kind, succeeded=True,  # type: ignore[arg-type]
                out_trade_no=str(resource["out_trade_no"]), out_refund_no=resource.get("out_refund_no"),
                transaction_id=str(resource["transaction_id"]), amount_fen=int(resource["amount_fen"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidNotification(f"malformed body: {type(exc).__name__}") from None

    async def refund(self, request: RefundRequest) -> None:
        """Accept the refund once per out_refund_no, in the sandbox's own transaction, and notify later."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            accepted = await session.execute(
                insert_ignoring_conflicts(session, SandboxRefund)
                .values(out_refund_no=request.out_refund_no, out_trade_no=request.out_trade_no,
                        amount_fen=request.refund_fen, created_at=now)
                .returning(SandboxRefund.id)
            )
            if accepted.scalar() is not None:
                await _queue_notification(session, now, f"refund-{request.out_refund_no}", "REFUND.SUCCESS", {
                    "out_trade_no": request.out_trade_no, "out_refund_no": request.out_refund_no,
                    "transaction_id": f"sbx-refund-{request.out_refund_no}", "amount_fen": request.refund_fen,
                })
            await commit_and_wake(session)

    async def transfer(self, request: TransferRequest) -> TransferResult:
        """Pay out at once, once per out_bill_no, in the sandbox's own transaction (as a provider's books are)."""
        async with self.sessionmaker() as session:
            await session.execute(insert_ignoring_conflicts(session, SandboxTransfer).values(
                out_bill_no=request.out_bill_no, openid=request.openid, amount_fen=request.amount_fen,
                created_at=self.clock.now()))
            await session.commit()
        return TransferResult(state="paid", bill_no=f"sbx-{request.out_bill_no}")

    async def complete_payment(self, session: AsyncSession, out_trade_no: str, amount_fen: int) -> None:
        """The shopper 'pays' in the sandbox: a payment notification is queued for delivery."""
        await _queue_notification(session, self.clock.now(), f"pay-{out_trade_no}", "TRANSACTION.SUCCESS", {
            "out_trade_no": out_trade_no, "transaction_id": f"sbx-{out_trade_no}", "amount_fen": amount_fen,
        })


async def _queue_notification(session: AsyncSession, now: datetime, event_id: str, event_type: str,
                              resource: dict[str, Any]) -> None:
    """The provider's own delivery, a job of no merchant's."""
    body = {"id": event_id, "event_type": event_type, "create_time": now.isoformat(), "resource": resource}
    await enqueue(session, DELIVER_JOB, {"body": body}, now=now, merchant_id=NO_MERCHANT,
                  dedupe_key=f"sandbox:{event_id}")


@job(DELIVER_JOB)
async def deliver_notification(runtime: Runtime, payload: dict[str, Any]) -> None:
    """POST the signed notification to the mall; anything but a 2xx SUCCESS means: try again later."""
    body = json.dumps(payload["body"], separators=(",", ":")).encode()
    headers = signed_headers(runtime.settings.sandbox_key, body, runtime.clock.now())
    async with runtime.http_client() as client:
        response = await client.post(f"{runtime.settings.public_base_url}{NOTIFY_PATH}", content=body,
                                     headers=headers)
    if response.status_code != 200 or response.json().get("code") != "SUCCESS":
        raise RuntimeError(f"mall answered {response.status_code}: {response.text[:200]}")
