"""Every query about gift vouchers. Every change of hands or status is one guarded statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.giftcards.models import Voucher
from fissionmall.campaigns.giftcards.states import USABLE, VOUCHER_STATES, VoucherStatus
from fissionmall.catalog.models import Product
from fissionmall.core.states import transition
from fissionmall.customers.models import Customer
from fissionmall.db.sql import table
from fissionmall.merchants.models import Store

_VOUCHERS = table(Voucher)


async def insert_vouchers(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await session.execute(insert(Voucher), rows)


async def voucher_of(session: AsyncSession, merchant_id: int, voucher_id: int) -> Voucher | None:
    statement = select(Voucher).where(Voucher.merchant_id == merchant_id, Voucher.id == voucher_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def voucher_of_holder(session: AsyncSession, customer_id: int, voucher_id: int) -> Voucher | None:
    statement = select(Voucher).where(Voucher.id == voucher_id, Voucher.holder_id == customer_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def held_by(session: AsyncSession, merchant_id: int, customer_id: int) -> list[Voucher]:
    statement = (select(Voucher).where(Voucher.merchant_id == merchant_id,
                                       (Voucher.holder_id == customer_id) | (Voucher.buyer_id == customer_id))
                 .order_by(Voucher.id.desc()).limit(200))
    return list((await session.execute(statement)).scalars())


async def move(session: AsyncSession, voucher_id: int, to: VoucherStatus, *criteria: Any, **values: Any) -> bool:
    """Move one voucher where its table allows it and `criteria` hold."""
    return bool(await transition(session, VOUCHER_STATES, _VOUCHERS, [voucher_id], to, where=criteria,
                                 values=values))


async def redeem_by_code(session: AsyncSession, merchant_id: int, code: str, now: datetime,
                         **values: Any) -> Voucher | None:
    result = await session.execute(
        update(Voucher).where(Voucher.merchant_id == merchant_id, Voucher.code == code,
                              Voucher.status == VoucherStatus.ACTIVE,  # an order's locked voucher is not the store's
                              Voucher.valid_until > now)
        .values(status=VoucherStatus.REDEEMED, redeemed_at=now, **values).returning(Voucher)
        .execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def by_code(session: AsyncSession, merchant_id: int, code: str) -> Voucher | None:
    statement = select(Voucher).where(Voucher.merchant_id == merchant_id, Voucher.code == code)
    return (await session.execute(statement)).scalar_one_or_none()


_REDEEM_FOR_ORDER = (
    update(_VOUCHERS).where(_VOUCHERS.c.redeemed_order_id == bindparam("paid_order"),
                            _VOUCHERS.c.status == VoucherStatus.LOCKED)  # the order's own, not one it could take
    .values(status=VoucherStatus.REDEEMED, redeemed_at=bindparam("at", type_=_VOUCHERS.c.redeemed_at.type))
)


async def redeem_for_order(session: AsyncSession, order_id: int, at: datetime) -> None:
    """The voucher an order locked is redeemed once it is paid (every payment asks: one prebuilt statement)."""
    await session.execute(_REDEEM_FOR_ORDER, dict(paid_order=order_id, at=at))


async def give_back(session: AsyncSession, order_ids: Sequence[int]) -> None:
    """The vouchers these orders locked or redeemed, back in their holders' hands."""
    await session.execute(
        update(Voucher).where(Voucher.redeemed_order_id.in_(order_ids),
                              VOUCHER_STATES.guard(Voucher.status, VoucherStatus.ACTIVE))
        .values(status=VoucherStatus.ACTIVE, redeemed_order_id=None, redeemed_at=None))


async def return_unclaimed(session: AsyncSession, now: datetime, limit: int) -> int:
    due = select(Voucher.id).where(Voucher.status == VoucherStatus.SENT, Voucher.claim_deadline <= now).limit(limit)
    ids = list((await session.execute(due)).scalars())
    await transition(session, VOUCHER_STATES, _VOUCHERS, ids, VoucherStatus.ACTIVE,
                     where=[_VOUCHERS.c.status == VoucherStatus.SENT],  # still unclaimed, not since claimed and used
                     values={"claim_token_hash": None, "claim_deadline": None})
    return len(ids)


async def expire_due(session: AsyncSession, now: datetime, limit: int) -> list[tuple[int, int]]:
    """Vouchers past their validity, unredeemed: marked expired; the orders to refund them through (merchant, order)."""
    due = (select(Voucher.id, Voucher.merchant_id, Voucher.order_id)
           .where(Voucher.status.in_(sorted(USABLE)), Voucher.valid_until <= now))
    order_of = {voucher_id: (merchant_id, order_id)
                for voucher_id, merchant_id, order_id in (await session.execute(due.limit(limit))).all()}
    expired = await transition(session, VOUCHER_STATES, _VOUCHERS, list(order_of), VoucherStatus.EXPIRED,
                               values={"claim_token_hash": None})
    return sorted({order_of[voucher_id] for voucher_id in expired})


async def expired_of_order(session: AsyncSession, order_id: int) -> list[Voucher]:
    statement = select(Voucher).where(Voucher.order_id == order_id, Voucher.status == VoucherStatus.EXPIRED)
    return list((await session.execute(statement)).scalars())


async def mark_refunded(session: AsyncSession, voucher_ids: Sequence[int]) -> None:
    await transition(session, VOUCHER_STATES, _VOUCHERS, voucher_ids, VoucherStatus.REFUNDED)


StoreRedemption = tuple[Voucher, str, str | None, str | None]
"""(voucher, holder's nickname, product title, store name)"""


async def store_redemptions(session: AsyncSession, merchant_id: int, *, before: tuple[datetime, int] | None,
                            limit: int, voucher_id: int | None = None) -> list[StoreRedemption]:
    """Vouchers redeemed in this merchant's stores, latest first (one keyset page on (redeemed_at, id)), each with
    its holder's nickname, product title and store name; or the one voucher `voucher_id`."""
    statement = (
        select(Voucher, Customer.nickname, Product.title, Store.name)
        .join(Customer, Customer.id == Voucher.holder_id)
        .outerjoin(Product, (Product.id == Voucher.product_id) & (Product.merchant_id == merchant_id))
        .outerjoin(Store, (Store.id == Voucher.redeemed_store_id) & (Store.merchant_id == merchant_id))
        .where(Voucher.merchant_id == merchant_id, Voucher.status == VoucherStatus.REDEEMED,
               Voucher.redeemed_at.is_not(None), Voucher.redeemed_store_id.is_not(None))
        .order_by(Voucher.redeemed_at.desc(), Voucher.id.desc()).limit(limit)
    )
    if voucher_id is not None:
        statement = statement.where(Voucher.id == voucher_id)
    if before is not None:
        at, last_id = before
        statement = statement.where((Voucher.redeemed_at < at) | ((Voucher.redeemed_at == at) & (Voucher.id < last_id)))
    return [(row[0], row[1], row[2], row[3]) for row in (await session.execute(statement)).all()]
