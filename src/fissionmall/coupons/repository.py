"""Every query about coupons. Claims and every change of a coupon's status are guarded statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.states import transition
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.coupons.states import COUPON_STATES, TEMPLATE_STATES, CouponStatus, TemplateStatus
from fissionmall.db.sql import Direct, table

_COUPONS = table(Coupon)


async def insert_template(session: AsyncSession, **values: Any) -> CouponTemplate:
    result = await session.execute(insert(CouponTemplate).values(**values).returning(CouponTemplate))
    return result.scalar_one()


async def template_of(session: AsyncSession, merchant_id: int, template_id: int) -> CouponTemplate | None:
    statement = select(CouponTemplate).where(CouponTemplate.merchant_id == merchant_id,
                                             CouponTemplate.id == template_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def templates_of(session: AsyncSession, merchant_id: int, *, claimable_only: bool) -> list[CouponTemplate]:
    statement = select(CouponTemplate).where(CouponTemplate.merchant_id == merchant_id).order_by(CouponTemplate.id)
    if claimable_only:
        statement = statement.where(CouponTemplate.claimable, CouponTemplate.status == TemplateStatus.ACTIVE)
    return list((await session.execute(statement)).scalars())


async def set_stock(session: AsyncSession, template_id: int, stock: int) -> bool:
    """A stock below what was issued is refused by the guard."""
    result = await session.execute(update(CouponTemplate).where(CouponTemplate.id == template_id,
                                                                CouponTemplate.issued <= stock).values(stock=stock))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def move_template(session: AsyncSession, template_id: int, to: TemplateStatus) -> bool:
    return bool(await transition(session, TEMPLATE_STATES, CouponTemplate, [template_id], to))


_TEMPLATES = table(CouponTemplate)
_TAKE_STOCK = Direct(lambda _: update(_TEMPLATES).where(
    _TEMPLATES.c.id == bindparam("template"), _TEMPLATES.c.status == TemplateStatus.ACTIVE,
    or_(_TEMPLATES.c.stock.is_(None), _TEMPLATES.c.issued + bindparam("n") <= _TEMPLATES.c.stock),
).values(issued=_TEMPLATES.c.issued + bindparam("n")).returning(_TEMPLATES.c.id))


async def take_stock(session: AsyncSession, template_id: int, n: int = 1) -> bool:
    return bool(await _TAKE_STOCK.rows(session, dict(template=template_id, n=n)))


_INSERT_COUPON = Direct(lambda _: insert(_COUPONS).returning(_COUPONS.c.id))


async def insert_coupons(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """One coupon (a claim, a packet's slot) by the direct path; a campaign's grant to many in one executemany."""
    if len(rows) == 1:
        return [await _INSERT_COUPON.scalar(session, rows[0])]
    result = await session.execute(insert(Coupon).returning(Coupon.id), rows)
    return list(result.scalars())


async def coupon_of(session: AsyncSession, coupon_id: int) -> Coupon:
    return (await session.execute(select(Coupon).where(Coupon.id == coupon_id))).scalar_one()


async def coupons_of(session: AsyncSession, merchant_id: int, customer_id: int, status: str | None,
                     limit: int) -> list[Coupon]:
    statement = (select(Coupon).where(Coupon.merchant_id == merchant_id, Coupon.customer_id == customer_id)
                 .order_by(Coupon.valid_until, Coupon.id).limit(limit))
    if status is not None:
        statement = statement.where(Coupon.status == status)
    return list((await session.execute(statement)).scalars())


async def usable(session: AsyncSession, customer_id: int, now: datetime,
                 coupon_ids: Sequence[int] | None = None) -> list[tuple[Coupon, CouponTemplate]]:
    """The customer's coupons usable now (with their template's scope), soonest to expire first."""
    statement = (
        select(Coupon, CouponTemplate).join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(Coupon.customer_id == customer_id, Coupon.status == CouponStatus.AVAILABLE, Coupon.valid_from <= now,
               Coupon.valid_until > now)
        .order_by(Coupon.valid_until, Coupon.id)
    )
    if coupon_ids is not None:
        statement = statement.where(Coupon.id.in_(coupon_ids))
    return [(c, t) for c, t in (await session.execute(statement)).all()]


async def lock(session: AsyncSession, coupon_ids: Sequence[int], customer_id: int, order_id: int,
               now: datetime) -> int:
    result = await session.execute(
        update(Coupon)
        .where(Coupon.id.in_(coupon_ids), Coupon.customer_id == customer_id,
               COUPON_STATES.guard(Coupon.status, CouponStatus.LOCKED), Coupon.valid_until > now)
        .values(status=CouponStatus.LOCKED, order_id=order_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


_USE_FOR_ORDER = Direct(lambda _: update(_COUPONS).where(_COUPONS.c.order_id == bindparam("paid_order"),
                                         COUPON_STATES.guard(_COUPONS.c.status, CouponStatus.USED))
                  .values(status=CouponStatus.USED, used_at=bindparam("at", type_=_COUPONS.c.used_at.type)))


async def use_for_order(session: AsyncSession, order_id: int, at: datetime) -> None:
    """The coupons an order locked are used once it is paid (every payment asks: one prebuilt statement)."""
    await _USE_FOR_ORDER.rows(session, dict(paid_order=order_id, at=at))


async def give_back(session: AsyncSession, order_ids: Sequence[int], taken_from: Sequence[CouponStatus]) -> None:
    """The coupons these orders hold, in one of the states `taken_from`, available again to their owners."""
    sources = COUPON_STATES.sources(CouponStatus.AVAILABLE).intersection(taken_from)
    await session.execute(update(Coupon).where(Coupon.order_id.in_(order_ids), Coupon.status.in_(sorted(sources)))
                          .values(status=CouponStatus.AVAILABLE, order_id=None, used_at=None))


async def expire_due(session: AsyncSession, now: datetime, limit: int) -> int:
    due = select(Coupon.id).where(Coupon.status == CouponStatus.AVAILABLE, Coupon.valid_until <= now).limit(limit)
    ids = list((await session.execute(due)).scalars())
    await transition(session, COUPON_STATES, _COUPONS, ids, CouponStatus.EXPIRED)
    return len(ids)
