"""The coupon engine under every reward: templates, claims (stock and per-customer limits hold under any
concurrency), the customer's coupons with their status, and their part in checkout (locked by an unpaid order,
used once paid, given back when the order is cancelled, restored on a full refund if the merchant says so)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.core import counters
from fissionmall.core.audit import note_before
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import InvalidInput
from fissionmall.coupons import errors, repository
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.coupons.rules import CouponChoice
from fissionmall.coupons.schemas import CouponOut, TemplateIn, TemplateOut, TemplatePatch
from fissionmall.coupons.states import CouponStatus, TemplateStatus

CHUNK = 1000


def template_out(template: CouponTemplate) -> TemplateOut:
    return TemplateOut.model_validate(template, from_attributes=True)


async def create_template(session: AsyncSession, staff: StaffMember, body: TemplateIn, now: datetime) -> TemplateOut:
    await catalog.require_own(session, staff.merchant_id, body.scope, body.scope_ids)
    template = await repository.insert_template(session, merchant_id=staff.merchant_id, **body.model_dump(),
                                                issued=0, status=TemplateStatus.ACTIVE, created_at=now)
    return template_out(template)


async def require_template(session: AsyncSession, merchant_id: int, template_id: int) -> CouponTemplate:
    template = await repository.template_of(session, merchant_id, template_id)
    if template is None:
        raise errors.template_not_found(template_id)
    return template


async def patch_template(session: AsyncSession, staff: StaffMember, template_id: int,
                         body: TemplatePatch) -> TemplateOut:
    template = await require_template(session, staff.merchant_id, template_id)
    note_before(session, template, body.model_dump(exclude_unset=True))
    if body.stock is not None and not await repository.set_stock(session, template.id, body.stock):
        raise InvalidInput("invalid_request", f"{template.issued} already issued: the stock cannot be lower",
                           field="stock")
    if body.status is not None and body.status != template.status and not await repository.move_template(
            session, template.id, TemplateStatus(body.status)):
        raise errors.invalid_transition(template.status, body.status)
    await session.refresh(template)
    return template_out(template)


async def templates(session: AsyncSession, merchant_id: int, *, claimable_only: bool) -> list[TemplateOut]:
    return [template_out(t) for t in await repository.templates_of(session, merchant_id,
                                                                    claimable_only=claimable_only)]


async def claim(session: AsyncSession, clock: Clock, shopper: Shopper, template_id: int) -> CouponOut:
    """领券: one guarded statement on the stock, one on the customer's count; refused, nothing is taken."""
    template = await require_template(session, shopper.merchant_id, template_id)
    now = clock.now()
    if not template.claimable:
        raise errors.not_claimable(template.status)
    require_issuable(template, now)
    if not await repository.take_stock(session, template.id):
        raise errors.coupons_gone()
    if await counters.take(session, shopper.merchant_id, f"coupon:{template.id}:{shopper.customer_id}",
                           counters.TOTAL, template.per_customer_limit) is None:
        raise errors.claim_limit(template.per_customer_limit)
    [row] = _rows(template, [shopper.customer_id], now, ("claim", template.id), None)
    [coupon_id] = await repository.insert_coupons(session, [row])
    return CouponOut.model_validate(dict(row, id=coupon_id, order_id=None))  # as written: no read back


async def coupon(session: AsyncSession, coupon_id: int) -> CouponOut:
    return CouponOut.model_validate(await repository.coupon_of(session, coupon_id), from_attributes=True)


def require_issuable(template: CouponTemplate, now: datetime) -> None:
    """A paused, ended or expired template gives no more coupons (409 coupon_not_claimable)."""
    if template.status != TemplateStatus.ACTIVE or (template.valid_until and template.valid_until <= now):
        raise errors.not_claimable(TemplateStatus.ENDED if template.status == TemplateStatus.ACTIVE
                                   else template.status)


async def issue(session: AsyncSession, template: CouponTemplate, customer_ids: Sequence[int], now: datetime,
                source: tuple[str, int], *, amounts: Sequence[int] | None = None, stock: bool = True) -> list[int]:
    """Give coupons of this template (a campaign's grant, a packet's slots with their own amounts): the new ids,
    or [] when the template's stock cannot cover them all."""
    if stock and not await repository.take_stock(session, template.id, len(customer_ids)):
        return []
    return await repository.insert_coupons(session, _rows(template, customer_ids, now, source, amounts))


def _rows(template: CouponTemplate, customer_ids: Sequence[int], now: datetime, source: tuple[str, int],
          amounts: Sequence[int] | None) -> list[dict[str, Any]]:
    """The coupons of a template as rows, one per customer."""
    valid_from = template.valid_from or now
    valid_until = template.valid_until or max(now, valid_from) + timedelta(days=template.valid_days or 3650)
    return [
        dict(merchant_id=template.merchant_id, template_id=template.id, customer_id=customer_id, name=template.name,
             kind=template.kind, amount_fen=amounts[i] if amounts else template.amount_fen,
             percent_off=template.percent_off, cap_fen=template.cap_fen, threshold_fen=template.threshold_fen,
             stackable=template.stackable, status=CouponStatus.AVAILABLE, source_type=source[0], source_id=source[1],
             valid_from=valid_from, valid_until=valid_until, claimed_at=now)
        for i, customer_id in enumerate(customer_ids)]


def _out(coupon: Coupon, now: datetime) -> CouponOut:
    out = CouponOut.model_validate(coupon, from_attributes=True)
    if coupon.status == CouponStatus.AVAILABLE and coupon.valid_until <= now:
        out.status = CouponStatus.EXPIRED  # the sweep has not reached it yet
    return out


async def my_coupons(session: AsyncSession, clock: Clock, shopper: Shopper, status: str | None) -> list[CouponOut]:
    if status is not None and status not in set(CouponStatus):
        raise InvalidInput("invalid_status", f"unknown coupon status {status!r}", field="status")
    now = clock.now()
    found = [_out(c, now) for c in await repository.coupons_of(session, shopper.merchant_id, shopper.customer_id,
                                                              None, 500)]
    return [c for c in found if status is None or c.status == status]


def _choice(coupon: Coupon, template: CouponTemplate) -> CouponChoice:
    return CouponChoice(coupon_id=coupon.id, name=coupon.name, kind=coupon.kind,  # type: ignore[arg-type]
                        amount_fen=coupon.amount_fen, percent_off=coupon.percent_off, cap_fen=coupon.cap_fen,
                        threshold_fen=coupon.threshold_fen, scope=template.scope,  # type: ignore[arg-type]
                        scope_ids=frozenset(template.scope_ids), stackable=coupon.stackable)


async def chosen(session: AsyncSession, customer_id: int, coupon_ids: Sequence[int],
                 now: datetime) -> list[CouponChoice]:
    """The shopper's chosen coupons as checkout prices them, in the order chosen; 422 if any is not usable."""
    if not coupon_ids:
        return []
    found = {c.id: _choice(c, t) for c, t in await repository.usable(session, customer_id, now, coupon_ids)}
    missing = [i for i in coupon_ids if i not in found]
    if missing:
        raise errors.unusable(missing)
    return [found[i] for i in coupon_ids]


async def held(session: AsyncSession, customer_id: int, now: datetime) -> list[CouponChoice]:
    return [_choice(c, t) for c, t in await repository.usable(session, customer_id, now)]


async def lock_for_order(session: AsyncSession, customer_id: int, coupon_ids: Sequence[int], order_id: int,
                         now: datetime) -> None:
    if coupon_ids and await repository.lock(session, coupon_ids, customer_id, order_id, now) != len(coupon_ids):
        raise errors.unusable(list(coupon_ids))


async def use_for_order(session: AsyncSession, order_id: int, now: datetime) -> None:
    await repository.use_for_order(session, order_id, now)


async def release_for_orders(session: AsyncSession, order_ids: Sequence[int], *, restore_used: bool) -> None:
    """Orders not kept: their locked coupons come back, and used ones too when the merchant restores them."""
    await repository.give_back(session, order_ids, [CouponStatus.LOCKED, CouponStatus.USED] if restore_used
                               else [CouponStatus.LOCKED])


async def expire(session: AsyncSession, now: datetime) -> int:
    return await repository.expire_due(session, now, CHUNK)


async def coupons_of_customer(session: AsyncSession, now: datetime, merchant_id: int, customer_id: int,
                              limit: int = 50) -> list[CouponOut]:
    """A customer's coupons as the merchant sees them (the console's customer page), soonest to expire first."""
    return [_out(c, now) for c in await repository.coupons_of(session, merchant_id, customer_id, None, limit)]
