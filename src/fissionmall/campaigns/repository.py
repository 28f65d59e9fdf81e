"""Every query about campaigns, their stock caps and per-customer quotas. Claims are guarded statements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, insert, literal, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.models import Campaign, CampaignProduct, CampaignQuota
from fissionmall.campaigns.states import CAMPAIGN_STATES, CampaignStatus
from fissionmall.core.states import transition
from fissionmall.db.sql import Direct, table

_CAMPAIGNS, _QUOTAS = table(Campaign), table(CampaignQuota)
_CAMPAIGN = select(Campaign).where(Campaign.merchant_id == bindparam("merchant_id"),
                                   Campaign.id == bindparam("campaign_id")).execution_options(populate_existing=True)


def _units_left(prefix: str, quantity: Any) -> list[Any]:
    """The campaign is live (for this customer: started by `opens_by`, later than now with early access) and
    `quantity` more units stay under its cap."""
    return [_CAMPAIGNS.c.id == bindparam(f"{prefix}campaign_id"), _CAMPAIGNS.c.status == CampaignStatus.ACTIVE,
            _CAMPAIGNS.c.starts_at <= bindparam(f"{prefix}opens_by", type_=_CAMPAIGNS.c.starts_at.type),
            _CAMPAIGNS.c.ends_at > bindparam(f"{prefix}now", type_=_CAMPAIGNS.c.ends_at.type),
            _CAMPAIGNS.c.stock_cap.is_(None) | (_CAMPAIGNS.c.sold + quantity <= _CAMPAIGNS.c.stock_cap)]


def taking_units(prefix: str, insert: Any, after: Any) -> Any:
    """The guarded statement that claims campaign units while it is live and under its cap; it returns the units
    left (None without a cap). A contended claim (`db.claims.Claim`)."""
    quantity: Any = bindparam(f"{prefix}quantity")
    statement = (update(_CAMPAIGNS).where(*_units_left(prefix, quantity)).values(sold=_CAMPAIGNS.c.sold + quantity)
                 .returning((_CAMPAIGNS.c.stock_cap - _CAMPAIGNS.c.sold).label("units_left")))
    return statement if after is None else statement.where(after)


UNITS_LEFT = select(_CAMPAIGNS.c.id).where(*_units_left("", bindparam("quantity")))
"""Whether `taking_units` would go through now: a plain read, no write, no lock (a preview)."""


def taking_quota(prefix: str, insert: Any, after: Any) -> Any:
    """One use of the customer's allowance, created or counted up under the limit by one upsert (a contended claim:
    it comes after the campaign's units, in the order every give-back path takes them). An INSERT … SELECT, so that
    `after` can hold it back."""
    values = select(bindparam(f"{prefix}merchant", type_=_QUOTAS.c.merchant_id.type),
                    bindparam(f"{prefix}campaign", type_=_QUOTAS.c.campaign_id.type),
                    bindparam(f"{prefix}customer", type_=_QUOTAS.c.customer_id.type),
                    literal(1, type_=_QUOTAS.c.used.type)).where(true() if after is None else after)
    new = insert(_QUOTAS).from_select(["merchant_id", "campaign_id", "customer_id", "used"], values)
    return new.on_conflict_do_update(
        index_elements=[_QUOTAS.c.campaign_id, _QUOTAS.c.customer_id, _QUOTAS.c.merchant_id],
        set_={"used": _QUOTAS.c.used + 1},
        where=_QUOTAS.c.used < bindparam(f"{prefix}limit")).returning(_QUOTAS.c.id)


QUOTA_LEFT = select(literal(1)).where(~exists().where(
    _QUOTAS.c.campaign_id == bindparam("campaign"), _QUOTAS.c.customer_id == bindparam("customer"),
    _QUOTAS.c.used >= bindparam("limit")))
"""Whether `taking_quota` would go through now: a plain read, no write, no lock (a preview)."""


_ANY_LIVE: dict[tuple[str, ...], Direct] = {}
"""By the kinds asked about (a few fixed tuples: each reaction's own)."""


def _any_live(kinds: tuple[str, ...]) -> Direct:
    return Direct(lambda _: select(_CAMPAIGNS.c.id).where(
        _CAMPAIGNS.c.merchant_id == bindparam("merchant_id"), or_(*(_CAMPAIGNS.c.kind == kind for kind in kinds)),
        _CAMPAIGNS.c.status == CampaignStatus.ACTIVE).limit(1))


async def campaign_of(session: AsyncSession, merchant_id: int, campaign_id: int) -> Campaign | None:
    return (await session.execute(_CAMPAIGN, dict(merchant_id=merchant_id, campaign_id=campaign_id))
            ).scalar_one_or_none()


async def campaigns_of(session: AsyncSession, merchant_id: int, kind: str | None) -> list[Campaign]:
    statement = select(Campaign).where(Campaign.merchant_id == merchant_id).order_by(Campaign.id.desc())
    if kind is not None:
        statement = statement.where(Campaign.kind == kind)
    return list((await session.execute(statement)).scalars())


async def live_for_product(session: AsyncSession, merchant_id: int, product_id: int, now: datetime) -> list[Campaign]:
    """The live campaigns selling the product, as their main product or one of their others."""
    other = select(CampaignProduct.campaign_id).where(CampaignProduct.merchant_id == merchant_id,
                                                      CampaignProduct.product_id == product_id)
    statement = select(Campaign).where(
        Campaign.merchant_id == merchant_id, or_(Campaign.product_id == product_id, Campaign.id.in_(other)),
        Campaign.status == CampaignStatus.ACTIVE, Campaign.starts_at <= now, Campaign.ends_at > now)
    return list((await session.execute(statement.order_by(Campaign.id))).scalars())


async def set_other_products(session: AsyncSession, merchant_id: int, campaign_id: int,
                             product_ids: list[int]) -> None:
    """The products the campaign sells besides its main one, in place of those it had."""
    await session.execute(delete(CampaignProduct).where(CampaignProduct.merchant_id == merchant_id,
                                                        CampaignProduct.campaign_id == campaign_id))
    if product_ids:
        await session.execute(insert(CampaignProduct), [
            {"merchant_id": merchant_id, "campaign_id": campaign_id, "product_id": p} for p in product_ids])


async def return_stock(session: AsyncSession, campaign_id: int, quantity: int) -> None:
    await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(sold=Campaign.sold - quantity))


async def return_quota(session: AsyncSession, campaign_id: int, customer_id: int) -> None:
    await session.execute(
        update(CampaignQuota)
        .where(CampaignQuota.campaign_id == campaign_id, CampaignQuota.customer_id == customer_id,
               CampaignQuota.used > 0)
        .values(used=CampaignQuota.used - 1)
    )


async def move(session: AsyncSession, campaign_id: int, to: CampaignStatus) -> bool:
    return bool(await transition(session, CAMPAIGN_STATES, _CAMPAIGNS, [campaign_id], to))


async def live_in_shop(session: AsyncSession, merchant_id: int, now: datetime) -> list[Campaign]:
    statement = select(Campaign).where(Campaign.merchant_id == merchant_id, Campaign.status == CampaignStatus.ACTIVE,
                                       Campaign.starts_at <= now, Campaign.ends_at > now)
    return list((await session.execute(statement.order_by(Campaign.id))).scalars())


async def live_of_kind(session: AsyncSession, merchant_id: int, kind: str, now: datetime) -> list[Campaign]:
    statement = select(Campaign).where(Campaign.merchant_id == merchant_id, Campaign.kind == kind,
                                       Campaign.status == CampaignStatus.ACTIVE, Campaign.starts_at <= now,
                                       Campaign.ends_at > now)
    return list((await session.execute(statement.order_by(Campaign.id))).scalars())


async def any_live(session: AsyncSession, merchant_id: int, kinds: tuple[str, ...]) -> bool:
    """Whether the merchant runs a campaign of these kinds (active; the window is checked by who acts on it)."""
    statement = _ANY_LIVE.get(kinds) or _ANY_LIVE.setdefault(kinds, _any_live(kinds))
    return await statement.scalar(session, dict(merchant_id=merchant_id)) is not None


async def live_campaigns_by_kind(session: AsyncSession, merchant_id: int) -> dict[str, int]:
    rows = await session.execute(select(Campaign.kind, func.count())
                                 .where(Campaign.merchant_id == merchant_id, Campaign.status == CampaignStatus.ACTIVE)
                                 .group_by(Campaign.kind))
    return {kind: int(n) for kind, n in rows}


async def campaign_page(session: AsyncSession, merchant_id: int, kind: str | None, status: str | None,
                        before_id: int | None, limit: int) -> list[Campaign]:
    """The merchant's campaigns, newest first, of a kind and a status when asked (keyset on id)."""
    statement = select(Campaign).where(Campaign.merchant_id == merchant_id)
    if kind is not None:
        statement = statement.where(Campaign.kind == kind)
    if status is not None:
        statement = statement.where(Campaign.status == status)
    if before_id is not None:
        statement = statement.where(Campaign.id < before_id)
    return list((await session.execute(statement.order_by(Campaign.id.desc()).limit(limit))).scalars())
