"""How the domains above orders take part in an order, without the order domain knowing any of them.

Each campaign mechanic provides one `CampaignOrders` under its order kind ("group", "bargain" …); gift vouchers
and loyalty points provide their keepers. `HOOKS` is filled once, from the one list of mechanics
(fissionmall.mechanics.install); the order use cases call through it, never an `if kind ==`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.runtime import Runtime
from fissionmall.db.claims import Claims
from fissionmall.orders.models import Order
from fissionmall.orders.schemas import CampaignChoice


@dataclass(frozen=True)
class VoucherChoice:
    voucher_id: int
    name: str
    product_id: int
    value_fen: int


@dataclass
class CampaignPart:
    """What a campaign adds to an order being placed: its kind and the adjustments that set its price."""

    kind: str
    campaign_id: int
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    """Each: kind, name, amount_fen (negative is a discount), source_id."""
    deposit_fen: int | None = None
    """Set when the campaign takes a deposit now and the balance once it succeeds."""
    payment_choices: list[tuple[str, str, str, bool]] = field(default_factory=list)
    """Where the campaign lets the shopper choose how to pay (campaign.payment): each way as (payment, title, what
    it means in the shopper's words, whether this order takes it); empty when there is one way."""
    context: dict[str, Any] = field(default_factory=dict)
    """Whatever the mechanic needs again once the order exists."""
    claims: Claims = field(default_factory=Claims)
    """The campaign's units and the customer's allowance, applied by the order's placing last (a preview only
    checks them)."""


class CampaignOrders(Protocol):
    async def prepare(self, session: AsyncSession, runtime: Runtime, shopper: Shopper, choice: CampaignChoice,
                      lines: Sequence[dict[str, Any]]) -> CampaignPart:
        """Validate the choice, price the lines, and say which campaign stock and limits the order claims (as
        values: nothing is written here, since a preview prepares too)."""
        ...

    async def placed(self, session: AsyncSession, clock: Clock, order_id: int, part: CampaignPart) -> None: ...

    async def paid(self, session: AsyncSession, runtime: Runtime, order: Order) -> None:
        """The order was just paid (still in status paid): seat it, ship it, or refund it."""
        ...

    async def released(self, session: AsyncSession, orders: Sequence[Order]) -> None:
        """These orders were cancelled unpaid or fully refunded: give back campaign stock and limits."""
        ...

    async def balance_lapsed(self, session: AsyncSession, clock: Clock, orders: Sequence[Order]) -> None:
        """These orders' balances were not paid in time: apply the deposit rule the campaign published."""
        ...


class Vouchers(Protocol):
    """Gift vouchers' part in checkout: a voucher the shopper holds, priced, locked, used, or given back."""

    async def choice(self, session: AsyncSession, customer_id: int, voucher_id: int, now: datetime) -> VoucherChoice:
        ...

    async def lock(self, session: AsyncSession, customer_id: int, voucher_id: int, order_id: int,
                   now: datetime) -> None: ...

    async def paid(self, session: AsyncSession, order_id: int, at: datetime) -> None: ...

    async def released(self, session: AsyncSession, order_ids: Sequence[int]) -> None: ...


class Points(Protocol):
    """Loyalty points' part in an order: what it spent, and giving them back when it is not kept."""

    async def spent_on(self, session: AsyncSession, order_id: int) -> int: ...

    async def give_back(self, session: AsyncSession, merchant_id: int, customer_id: int, points: int,
                        source: tuple[str, int], at: datetime) -> None: ...


class Shipments(Protocol):
    """Logistics' part in an order: told when it ships, so that its parcel is followed."""

    async def shipped(self, session: AsyncSession, merchant_id: int, order_id: int, at: datetime) -> None: ...


@dataclass
class Hooks:
    mechanics: dict[str, CampaignOrders] = field(default_factory=dict)
    """By order kind."""
    vouchers: Vouchers | None = None
    """The voucher keeper (gift vouchers), if the mall sells any."""
    points: Points | None = None
    shipments: Shipments | None = None
    """The parcel tracker (logistics), if installed."""

    def points_ledger(self) -> Points:
        if self.points is None:
            raise RuntimeError("loyalty points are not installed: call fissionmall.mechanics.install() first")
        return self.points


HOOKS = Hooks()
