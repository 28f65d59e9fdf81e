"""Every query of the recommender: the purchases as the orders say (the truth the tables follow), the stored counts
and neighbours, the friends, and the candidates each source offers. The fold and the rebuild run under the locked
watermark row, one at a time, so their reads of the counts and their writes never interleave with another's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, literal, select, text, true, tuple_, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog.models import Product, Sku
from fissionmall.core.events import Event
from fissionmall.customers.models import Customer
from fissionmall.db.sql import dialect_insert, dialect_of, insert_ignoring_conflicts
from fissionmall.orders.models import Order, OrderItem
from fissionmall.orders.states import OrderStatus as S
from fissionmall.recommend.models import CoPurchase, Friend, Neighbour, ProductBuyers, Purchase, RecommendWatermark

WATERMARK = "events"
BOUGHT = (S.PAID, S.BALANCE_DUE, S.TO_SHIP, S.SHIPPED, S.RECEIVED, S.COMPLETED, S.REFUNDING)
"""An order whose lines count as bought: paid, and not refunded in full nor forfeited (a refund under way may yet be
rejected)."""
PURCHASE_EVENTS = ("pay", "refund", "deposit_forfeited")
"""Events after which a customer's purchases may differ: a payment, a refund that went through, a lapsed deposit."""
IN_CHUNK = 500
"""Values bound in one IN (…) list."""
RECENT_ORDERS = 5_000
"""The popular are counted over at most this many of the latest paid orders: a bounded read on every front page."""


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


# --- the watermark -----------------------------------------------------------------------------------------------

async def lock_watermark(session: AsyncSession) -> int:
    """The watermark row, locked to the end of the transaction (one folder at a time), created at 0 if absent."""
    statement = select(RecommendWatermark.last_event_id).where(RecommendWatermark.name == WATERMARK)
    found = (await session.execute(statement.with_for_update())).scalar()
    if found is None:
        await session.execute(insert_ignoring_conflicts(session, RecommendWatermark).values(
            name=WATERMARK, last_event_id=0))
        found = (await session.execute(statement.with_for_update())).scalar_one()
    return int(found)


async def move_watermark(session: AsyncSession, last_event_id: int) -> None:
    await session.execute(update(RecommendWatermark).where(RecommendWatermark.name == WATERMARK)
                          .values(last_event_id=last_event_id))


# --- what the events of a range touched --------------------------------------------------------------------------

async def buyers_touched(session: AsyncSession, lo: int, hi: int) -> dict[int, set[int]]:
    """merchant → customers who paid, were refunded or forfeited a deposit in events (lo, hi]."""
    statement = (select(Event.merchant_id, Event.actor_id).distinct()
                 .where(Event.id > lo, Event.id <= hi, Event.kind.in_(PURCHASE_EVENTS), Event.actor_id.is_not(None)))
    touched: dict[int, set[int]] = defaultdict(set)
    for merchant_id, customer_id in (await session.execute(statement)).all():
        if customer_id is not None:
            touched[merchant_id].add(customer_id)
    return touched


def _friend_edges(lo: int, hi: int | None = None, merchant_id: int | None = None) -> list[Any]:
    """(merchant, customer, friend) from the event log: both sides of a referral (a sign-up through a share), and
    a visitor → the sharer whose link they opened."""
    def within(statement: Any) -> Any:
        statement = statement.where(Event.id > lo, Event.actor_id.is_not(None), Event.inviter_id.is_not(None),
                                    Event.actor_id != Event.inviter_id)
        if hi is not None:
            statement = statement.where(Event.id <= hi)
        if merchant_id is not None:
            statement = statement.where(Event.merchant_id == merchant_id)
        return statement

    ways = [within(select(Event.merchant_id, Event.actor_id, Event.inviter_id).where(Event.kind.in_(("register",
                                                                                                     "click")))),
            within(select(Event.merchant_id, Event.inviter_id, Event.actor_id).where(Event.kind == "register"))]
    return ways


async def add_friends_of_events(session: AsyncSession, lo: int, hi: int) -> None:
    edges = union(*_friend_edges(lo, hi)).subquery()
    await session.execute(insert_ignoring_conflicts(session, Friend).from_select(
        ["merchant_id", "customer_id", "friend_id"], select(edges).where(true())))


# --- purchases: the truth and the stored ---------------------------------------------------------------------------

def _bought(merchant_id: int | None) -> Any:
    statement = (select(Order.merchant_id, Order.customer_id, OrderItem.product_id).distinct()
                 .join(OrderItem, and_(OrderItem.order_id == Order.id, OrderItem.merchant_id == Order.merchant_id))
                 .where(Order.status.in_(BOUGHT)))
    return statement if merchant_id is None else statement.where(Order.merchant_id == merchant_id)


async def bought_by(session: AsyncSession, merchant_id: int, customer_ids: Collection[int]) -> dict[int, set[int]]:
    """customer → the products they hold a paid, unrefunded order line of, as the orders say now."""
    baskets: dict[int, set[int]] = {c: set() for c in customer_ids}
    for ids in _chunks(sorted(customer_ids)):
        rows = await session.execute(_bought(merchant_id).where(Order.customer_id.in_(ids)))
        for _, customer_id, product_id in rows.all():
            baskets[customer_id].add(product_id)
    return baskets


async def stored_purchases(session: AsyncSession, merchant_id: int, customer_ids: Collection[int]
                           ) -> dict[int, set[int]]:
    baskets: dict[int, set[int]] = {c: set() for c in customer_ids}
    for ids in _chunks(sorted(customer_ids)):
        rows = await session.execute(select(Purchase.customer_id, Purchase.product_id).where(
            Purchase.merchant_id == merchant_id, Purchase.customer_id.in_(ids)))
        for customer_id, product_id in rows.all():
            baskets[customer_id].add(product_id)
    return baskets


async def change_purchases(session: AsyncSession, merchant_id: int, added: Sequence[tuple[int, int]],
                           removed: Sequence[tuple[int, int]]) -> None:
    """(customer, product) rows added and removed."""
    if added:
        await session.execute(insert_ignoring_conflicts(session, Purchase), [
            dict(merchant_id=merchant_id, customer_id=c, product_id=p) for c, p in added])
    for part in _chunks(removed):
        await session.execute(delete(Purchase).where(
            Purchase.merchant_id == merchant_id, tuple_(Purchase.customer_id, Purchase.product_id).in_(part)))


# --- counts ------------------------------------------------------------------------------------------------------

async def buyer_counts(session: AsyncSession, merchant_id: int, product_ids: Collection[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for ids in _chunks(sorted(product_ids)):
        rows = await session.execute(select(ProductBuyers.product_id, ProductBuyers.buyers).where(
            ProductBuyers.merchant_id == merchant_id, ProductBuyers.product_id.in_(ids)))
        counts.update({p: n for p, n in rows.all()})
    return counts


async def pair_counts(session: AsyncSession, merchant_id: int, pairs: Collection[tuple[int, int]]
                      ) -> dict[tuple[int, int], int]:
    counts: dict[tuple[int, int], int] = {}
    for part in _chunks(sorted(pairs)):
        rows = await session.execute(select(CoPurchase.product_id, CoPurchase.other_id, CoPurchase.together).where(
            CoPurchase.merchant_id == merchant_id, tuple_(CoPurchase.product_id, CoPurchase.other_id).in_(part)))
        counts.update({(a, b): n for a, b, n in rows.all()})
    return counts


async def partners(session: AsyncSession, merchant_id: int, product_ids: Collection[int]) -> dict[int, dict[int, int]]:
    """product → {partner → customers who bought both}."""
    found: dict[int, dict[int, int]] = {p: {} for p in product_ids}
    for ids in _chunks(sorted(product_ids)):
        rows = await session.execute(select(CoPurchase.product_id, CoPurchase.other_id, CoPurchase.together).where(
            CoPurchase.merchant_id == merchant_id, CoPurchase.product_id.in_(ids)))
        for a, b, n in rows.all():
            found[a][b] = n
    return found


async def listing(session: AsyncSession, merchant_id: int, product_ids: Collection[int]) -> dict[int, set[int]]:
    """product → the products whose neighbour lists hold it now."""
    found: dict[int, set[int]] = {p: set() for p in product_ids}
    for ids in _chunks(sorted(product_ids)):
        rows = await session.execute(select(Neighbour.neighbour_id, Neighbour.product_id).where(
            Neighbour.merchant_id == merchant_id, Neighbour.neighbour_id.in_(ids)))
        for other, p in rows.all():
            found[other].add(p)
    return found


async def set_buyers(session: AsyncSession, merchant_id: int, counts: Mapping[int, int]) -> None:
    """Write these buyer counts (absolute; 0 deletes the row)."""
    gone = [p for p, n in counts.items() if n <= 0]
    kept = [dict(merchant_id=merchant_id, product_id=p, buyers=n) for p, n in counts.items() if n > 0]
    for ids in _chunks(gone):
        await session.execute(delete(ProductBuyers).where(ProductBuyers.merchant_id == merchant_id,
                                                          ProductBuyers.product_id.in_(ids)))
    if kept:
        upsert = dialect_insert(session, ProductBuyers)
        await session.execute(upsert.on_conflict_do_update(
            index_elements=["merchant_id", "product_id"], set_={"buyers": upsert.excluded.buyers}), kept)


async def set_pairs(session: AsyncSession, merchant_id: int, counts: Mapping[tuple[int, int], int]) -> None:
    """Write these pair counts (absolute; 0 deletes the row)."""
    gone = [pair for pair, n in counts.items() if n <= 0]
    kept = [dict(merchant_id=merchant_id, product_id=a, other_id=b, together=n)
            for (a, b), n in counts.items() if n > 0]
    for part in _chunks(gone):
        await session.execute(delete(CoPurchase).where(
            CoPurchase.merchant_id == merchant_id, tuple_(CoPurchase.product_id, CoPurchase.other_id).in_(part)))
    if kept:
        upsert = dialect_insert(session, CoPurchase)
        await session.execute(upsert.on_conflict_do_update(
            index_elements=["merchant_id", "product_id", "other_id"], set_={"together": upsert.excluded.together}),
            kept)


async def set_neighbours(session: AsyncSession, merchant_id: int,
                         lists: Mapping[int, Sequence[tuple[int, float]]]) -> None:
    """Replace the neighbour lists of these products (an empty list leaves none)."""
    for ids in _chunks(sorted(lists)):
        await session.execute(delete(Neighbour).where(Neighbour.merchant_id == merchant_id,
                                                      Neighbour.product_id.in_(ids)))
    rows = [dict(merchant_id=merchant_id, product_id=p, rank=rank, neighbour_id=other, score=score)
            for p, found in lists.items() for rank, (other, score) in enumerate(found, start=1)]
    if rows:
        await session.execute(insert_ignoring_conflicts(session, Neighbour), rows)


# --- the full rebuild --------------------------------------------------------------------------------------------

async def forget_merchant(session: AsyncSession, merchant_id: int | None) -> None:
    for model in (Purchase, ProductBuyers, CoPurchase, Neighbour, Friend):
        statement = delete(model)
        if merchant_id is not None:
            statement = statement.where(model.merchant_id == merchant_id)
        await session.execute(statement)


async def rebuild_counts(session: AsyncSession, merchant_id: int | None) -> None:
    """Purchases from the orders, then buyers and pairs from the purchases, then friends from the customers'
    referrals and the event log: set-based, one statement each."""
    bought = _bought(merchant_id).subquery()
    await session.execute(insert_ignoring_conflicts(session, Purchase).from_select(
        ["merchant_id", "customer_id", "product_id"], select(bought).where(true())))
    counted = select(Purchase.merchant_id, Purchase.product_id, func.count()).where(true()).group_by(
        Purchase.merchant_id, Purchase.product_id)
    a, b = Purchase.__table__.alias("a"), Purchase.__table__.alias("b")
    together = (select(a.c.merchant_id, a.c.product_id, b.c.product_id, func.count())
                .join(b, and_(b.c.merchant_id == a.c.merchant_id, b.c.customer_id == a.c.customer_id,
                              b.c.product_id != a.c.product_id))
                .where(true()).group_by(a.c.merchant_id, a.c.product_id, b.c.product_id))
    if merchant_id is not None:
        counted = counted.where(Purchase.merchant_id == merchant_id)
        together = together.where(a.c.merchant_id == merchant_id)
    await session.execute(insert_ignoring_conflicts(session, ProductBuyers).from_select(
        ["merchant_id", "product_id", "buyers"], counted))
    await session.execute(insert_ignoring_conflicts(session, CoPurchase).from_select(
        ["merchant_id", "product_id", "other_id", "together"], together))
    referred = [select(Customer.merchant_id, Customer.id, Customer.inviter_id),
                select(Customer.merchant_id, Customer.inviter_id, Customer.id)]
    referred = [s.where(Customer.inviter_id.is_not(None), Customer.inviter_id != Customer.id) for s in referred]
    if merchant_id is not None:
        referred = [s.where(Customer.merchant_id == merchant_id) for s in referred]
    edges = union(*referred, *_friend_edges(0, merchant_id=merchant_id)).subquery()
    await session.execute(insert_ignoring_conflicts(session, Friend).from_select(
        ["merchant_id", "customer_id", "friend_id"], select(edges).where(true())))


async def bought_products(session: AsyncSession, merchant_id: int | None) -> dict[int, list[int]]:
    """merchant → every product with a buyer."""
    statement = select(ProductBuyers.merchant_id, ProductBuyers.product_id).order_by(
        ProductBuyers.merchant_id, ProductBuyers.product_id)
    if merchant_id is not None:
        statement = statement.where(ProductBuyers.merchant_id == merchant_id)
    found: dict[int, list[int]] = defaultdict(list)
    for m, p in (await session.execute(statement)).all():
        found[m].append(p)
    return found


async def refresh_statistics(session: AsyncSession) -> None:
    """A rebuild fills the tables from empty: PostgreSQL must hear they grew before it plans the next reads."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("ANALYZE recommend_purchases, recommend_buyers, recommend_pairs"))


# --- serving -----------------------------------------------------------------------------------------------------

async def neighbours_of(session: AsyncSession, merchant_id: int, product_ids: Collection[int]
                        ) -> dict[int, list[tuple[int, float]]]:
    found: dict[int, list[tuple[int, float]]] = {p: [] for p in product_ids}
    for ids in _chunks(sorted(product_ids)):
        rows = await session.execute(
            select(Neighbour.product_id, Neighbour.neighbour_id, Neighbour.score)
            .where(Neighbour.merchant_id == merchant_id, Neighbour.product_id.in_(ids))
            .order_by(Neighbour.product_id, Neighbour.rank))
        for p, other, score in rows.all():
            found[p].append((other, score))
    return found


async def friends_bought(session: AsyncSession, merchant_id: int, customer_id: int, limit: int) -> dict[int, int]:
    """product → how many of the customer's friends bought it, the most-bought first."""
    friends = func.count(Purchase.customer_id)
    statement = (select(Purchase.product_id, friends)
                 .join(Friend, and_(Friend.merchant_id == Purchase.merchant_id,
                                    Friend.friend_id == Purchase.customer_id))
                 .where(Friend.merchant_id == merchant_id, Friend.customer_id == customer_id)
                 .group_by(Purchase.product_id).order_by(friends.desc(), Purchase.product_id).limit(limit))
    return {p: n for p, n in (await session.execute(statement)).all()}


async def popular(session: AsyncSession, merchant_id: int, since: datetime, limit: int,
                  orders: int = RECENT_ORDERS) -> dict[int, int]:
    """product → customers who paid for it in the last `orders` paid orders since `since` (not refunded): a read of
    bounded size (an index range of `ix_orders_merchant_paid`), however busy the shop."""
    recent = (select(Order.id, Order.customer_id)
              .where(Order.merchant_id == merchant_id, Order.paid_at >= since, Order.status.in_(BOUGHT))
              .order_by(Order.paid_at.desc()).limit(orders).subquery())
    buyers = func.count(recent.c.customer_id.distinct())
    statement = (select(OrderItem.product_id, buyers)
                 .join(recent, recent.c.id == OrderItem.order_id).where(OrderItem.merchant_id == merchant_id)
                 .group_by(OrderItem.product_id).order_by(buyers.desc(), OrderItem.product_id).limit(limit))
    return {p: n for p, n in (await session.execute(statement)).all()}


def _in_stock() -> Any:
    return (select(literal(1)).where(Sku.merchant_id == Product.merchant_id, Sku.product_id == Product.id,
                                     Sku.active, Sku.stock > 0).exists())


async def newest(session: AsyncSession, merchant_id: int, limit: int) -> list[int]:
    """The most recently listed products that can be bought now, newest first."""
    statement = (select(Product.id).where(Product.merchant_id == merchant_id, Product.status == "on_sale", _in_stock())
                 .order_by(Product.created_at.desc(), Product.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())


async def available(session: AsyncSession, merchant_id: int, product_ids: Collection[int]) -> set[int]:
    """Of these products, those a customer can buy now: on sale, with an active SKU in stock."""
    found: set[int] = set()
    for ids in _chunks(sorted(product_ids)):
        statement = select(Product.id).where(Product.merchant_id == merchant_id, Product.id.in_(ids),
                                             Product.status == "on_sale", _in_stock())
        found.update((await session.execute(statement)).scalars())
    return found
