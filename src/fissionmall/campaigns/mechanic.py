"""One descriptor per campaign kind: everything the rest of the mall needs to know of a mechanic.

Each mechanic folder defines its `MECHANIC`; fissionmall.mechanics lists them all once and installs them into
`KINDS` here and into the order and sharing hooks. A new mechanic is a new folder and one line in that list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.schemas import Finding
from fissionmall.core.clock import Clock
from fissionmall.orders.hooks import CampaignOrders, Vouchers
from fissionmall.sharing.targets import ShareTarget

PageLoader = Callable[[AsyncSession, Clock, int, int], Awaitable[dict[str, Any]]]
"""(session, clock, merchant id, record id) -> what the page's template shows."""

RulesReader = Callable[[AsyncSession, int, Any], Awaitable[list[str]]]
"""(session, merchant id, settings) -> the published rules, one line each."""


def pure_rules(describe: Callable[[Any], list[str]]) -> RulesReader:
    """A mechanic whose rules need nothing but its settings."""

    async def read(session: AsyncSession, merchant_id: int, settings: Any) -> list[str]:
        return describe(settings)

    return read


@dataclass(frozen=True)
class Page:
    """The shopper page of one record of the mechanic (a group, a bargain …), at /m/{merchant}/{path}/{id}, and
    where its share links land."""

    path: str
    template: str
    load: PageLoader


@dataclass(frozen=True)
class Mechanic:
    kind: str
    settings_model: type[BaseModel]
    rules_text: str
    """What the shopper reads on the rules page: short, what is certain and what is left to chance."""
    product_of: Callable[[Any], int | None]
    """Which product the campaign sells, read from its settings (None for campaigns on no product)."""
    check: Callable[[AsyncSession, int, Any], Awaitable[list[Finding]]]
    """The linter: checks that need the database (prices against the catalog …) plus the pure rules."""
    summary: Callable[[Any], dict[str, Any]]
    """What a product page shows of a live campaign (prices, group size …)."""
    on_activate: Callable[[AsyncSession, Campaign, Any], Awaitable[None]] | None = None
    """(session, campaign, settings): what must exist before customers act (an assist pool's prizes …)."""
    orders: CampaignOrders | None = None
    """Its part in orders of its kind, when customers buy through it."""
    vouchers: Vouchers | None = None
    """The voucher keeper checkout redeems with, for the mechanic that sells vouchers."""
    share_target: ShareTarget | None = None
    """What of it can be shared (a group, a bargain …): the check that a shared one exists, and its poster's facts."""
    page: Page | None = None
    """The shopper page of its shared record, when it has one."""
    tasks: str | None = None
    """The module of its worker jobs and sweeps, loaded by the worker."""
    describe: RulesReader | None = None
    """The rules its shopper pages publish, computed from the settings (what the merchant previews before launch)."""
    products_of: Callable[[Any], list[tuple[str, int]]] | None = None
    """Every product a campaign of several sells, its main one first, each with the setting that names it
    ("products.1.product_id"): each must be the merchant's, and each one's page lists the campaign. None: the one
    product of `product_of`."""


KINDS: dict[str, Mechanic] = {}
"""By campaign kind; filled by fissionmall.mechanics.install()."""
