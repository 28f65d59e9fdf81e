"""How a campaign mechanic takes part in an order, without the order domain knowing any mechanic.

A mechanic registers one `CampaignOrders` under its order kind ("group", later "bargain" …); the order
use cases call it at placement, payment and cancellation. This is the registry, not an `if kind ==`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper
from fissionmall.db.claims import Claims
from fissionmall.orders.models import Order
from fissionmall.orders.pricing import VoucherChoice


@dataclass
class CampaignPart:
    """What a campaign adds to an order being placed: its kind and the adjustments that set its price."""

    kind: str
    campaign_id: int
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    """Each: kind, name, amount_fen (negative is a discount), source_id."""
    deposit_fen: int | None = None
    """Set when the campaign takes a deposit now and the balance once it succeeds."""
    context: dict[str, Any] = field(default_factory=dict)
    """Whatever the mechanic needs again once the order exists."""
    claims: Claims = field(default_factory=Claims)
    """The campaign's units and the customer's allowance, applied by the order's placing last (a preview only
    checks them)."""


class CampaignOrders(Protocol):
    async def prepare(self, session: AsyncSession, runtime: Any, shopper: Shopper, choice: Any,
                      lines: Sequence[dict[str, Any]]) -> CampaignPart:
        """Validate the choice, price the lines, and say which campaign stock and limits the order claims (as
        values: nothing is written here, since a preview prepares too)."""
        ...

    async def placed(self, session: AsyncSession, runtime: Any, order_id: int, part: CampaignPart) -> None: ...

    async def paid(self, session: AsyncSession, runtime: Any, order: Order) -> None:
        """The order was just paid (still in status paid): seat it, ship it, or refund it."""
        ...

    async def released(self, session: AsyncSession, runtime: Any, orders: Sequence[Order]) -> None:
        """These orders were cancelled unpaid or fully refunded: give back campaign stock and limits."""
        ...

    async def balance_lapsed(self, session: AsyncSession, runtime: Any, orders: Sequence[Order]) -> None:
        """These orders' balances were not paid in time: apply the deposit rule the campaign published."""
        ...


MECHANICS: dict[str, CampaignOrders] = {}


def register(kind: str, mechanic: CampaignOrders) -> None:
    MECHANICS[kind] = mechanic


class Vouchers(Protocol):
    """Gift vouchers' part in checkout: a voucher the shopper holds, priced, locked, used, or given back."""

    async def choice(self, session: AsyncSession, customer_id: int, voucher_id: int, now: datetime) -> VoucherChoice:
        ...

    async def lock(self, session: AsyncSession, customer_id: int, voucher_id: int, order_id: int,
                   now: datetime) -> None: ...

    async def paid(self, session: AsyncSession, order_id: int, at: datetime) -> None: ...

    async def released(self, session: AsyncSession, order_ids: Sequence[int]) -> None: ...


VOUCHERS: list[Vouchers] = []
"""The one registered voucher keeper (gift vouchers), if any."""
