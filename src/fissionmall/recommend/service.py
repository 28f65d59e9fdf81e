"""Recommendations (为你推荐): keep the item-to-item model up to date with the orders, incrementally after a watermark
in the event log (or rebuilt whole, for repair), and answer a shopper from it, their friends' purchases, the popular
and the new, leaving out what they cannot buy or already bought."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.core.events import settled_bound
from fissionmall.orders import service as orders
from fissionmall.recommend import errors, repository, rules
from fissionmall.recommend.schemas import Context, Recommendation, Recommendations

CHUNK = 5_000
"""Events read per transaction."""
SETTLE = timedelta(seconds=5)
"""Events younger than this are left for the next pass: a transaction still open may commit a smaller id."""
NEIGHBOUR_CHUNK = 200
"""Products whose neighbours are recomputed per round trip."""
POPULAR_DAYS = 30
POOL = 100
"""Candidates read from each of the friends, popular and new sources."""
LIMIT = 10
"""Recommendations an API answer holds unless asked for another number."""
ON_A_PAGE = 6
"""Tiles a shopper page shows: three rows on a phone, so the catalogue is not pushed out of sight."""


async def catch_up(session: AsyncSession, now: datetime, *, chunk: int = CHUNK, settle: timedelta = SETTLE) -> int:
    """Fold the next range of events after the watermark and move it, in the caller's transaction: new friendships
    from sign-ups and opened shares; for each customer who paid or was refunded, their purchases set to what the
    orders say, the counts moved by the difference, and the neighbours recomputed of the products it touched. The
    watermark row stays locked to the end, so two workers never fold at once. Events read."""
    last = await repository.lock_watermark(session)
    upto = await settled_bound(session, last, chunk, now - settle)
    if upto <= last:
        return 0
    await repository.add_friends_of_events(session, last, upto)
    for merchant_id, customers in sorted((await repository.buyers_touched(session, last, upto)).items()):
        await refresh_customers(session, merchant_id, customers)
    await repository.move_watermark(session, upto)
    return upto - last


async def refresh_customers(session: AsyncSession, merchant_id: int, customer_ids: Collection[int]) -> set[int]:
    """Bring these customers' purchases, and the counts and neighbours that follow from them, to what the orders say
    now. Idempotent: a customer whose purchases did not change changes nothing. The products recomputed."""
    truth = await repository.bought_by(session, merchant_id, customer_ids)
    stored = await repository.stored_purchases(session, merchant_id, customer_ids)
    buyer_deltas: Counter[int] = Counter()
    pair_deltas: Counter[rules.Pair] = Counter()
    added: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    for customer_id in sorted(customer_ids):
        before, after = stored[customer_id], truth[customer_id]
        if before == after:
            continue
        buyers, pairs = rules.basket_change(before, after)
        buyer_deltas.update(buyers)
        pair_deltas.update(pairs)
        added += [(customer_id, p) for p in sorted(after - before)]
        removed += [(customer_id, p) for p in sorted(before - after)]
    if not added and not removed:
        return set()
    await repository.change_purchases(session, merchant_id, added, removed)
    moved_buyers = {p: d for p, d in buyer_deltas.items() if d}
    moved_pairs = {pair: d for pair, d in pair_deltas.items() if d}
    now_buyers = await repository.buyer_counts(session, merchant_id, moved_buyers)
    await repository.set_buyers(session, merchant_id, {p: now_buyers.get(p, 0) + d for p, d in moved_buyers.items()})
    now_pairs = await repository.pair_counts(session, merchant_id, moved_pairs)
    await repository.set_pairs(session, merchant_id, {pair: now_pairs.get(pair, 0) + d
                                                      for pair, d in moved_pairs.items()})
    fallen = [p for p, d in moved_buyers.items() if d < 0]
    risen = [p for p, d in moved_buyers.items() if d > 0]
    stale = rules.stale_products(moved_buyers, moved_pairs,
                                 partners_of_fallen=await repository.partners(session, merchant_id, fallen),
                                 listing_risen=await repository.listing(session, merchant_id, risen))
    await recompute_neighbours(session, merchant_id, stale)
    return stale


async def recompute_neighbours(session: AsyncSession, merchant_id: int, product_ids: Iterable[int]) -> None:
    """Each product's top-K neighbours from the stored counts, written over its old list."""
    ids = sorted(set(product_ids))
    for start in range(0, len(ids), NEIGHBOUR_CHUNK):
        part = ids[start:start + NEIGHBOUR_CHUNK]
        partners = await repository.partners(session, merchant_id, part)
        involved = set(part).union(*partners.values())
        buyers = await repository.buyer_counts(session, merchant_id, involved)
        await repository.set_neighbours(session, merchant_id, {
            p: rules.top_neighbours(p, partners[p], buyers) for p in part})


async def rebuild(session: AsyncSession, merchant_id: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Forget the model (of one merchant, or all) and build it again from the orders, the referrals and the event
    log, in the caller's transaction, the watermark locked throughout: the repair for anything the incremental path
    could have missed. (products with neighbours recomputed, watermark)."""
    last = await repository.lock_watermark(session)
    await repository.forget_merchant(session, merchant_id)
    await repository.rebuild_counts(session, merchant_id)
    await repository.refresh_statistics(session)
    by_merchant = await repository.bought_products(session, merchant_id)
    total, done = sum(len(ids) for ids in by_merchant.values()), 0
    for m, ids in sorted(by_merchant.items()):
        for start in range(0, len(ids), NEIGHBOUR_CHUNK):
            part = ids[start:start + NEIGHBOUR_CHUNK]
            await recompute_neighbours(session, m, part)
            done += len(part)
            if progress:
                progress(done, total)
    return total, last


# --- serving -----------------------------------------------------------------------------------------------------

async def _recommend(session: AsyncSession, merchant_id: int, customer_id: int | None, now: datetime, context: Context,
                     *, seeds: Collection[int] | None = None, friends: bool = True, new: bool = True,
                     exclude: Collection[int] = (), limit: int = LIMIT) -> Recommendations:
    """Blend the sources for one customer (or a visitor not signed in): co-purchase neighbours of `seeds` (by
    default of everything the customer bought), friends' purchases, the popular, the new; never a product that is
    off sale, out of stock, already bought, or in `exclude`."""
    bought = (await repository.bought_by(session, merchant_id, [customer_id]))[customer_id] if customer_id else set()
    basis = bought if seeds is None else set(seeds)
    neighbours = await repository.neighbours_of(session, merchant_id, basis) if basis else {}
    sources: dict[rules.Source, dict[int, float]] = {rules.ALSO_BOUGHT: rules.item_scores(basis, neighbours)}
    if friends and customer_id:
        sources[rules.FRIENDS] = {p: float(n) for p, n in (await repository.friends_bought(
            session, merchant_id, customer_id, POOL)).items()}
    sources[rules.POPULAR] = {p: float(n) for p, n in (await repository.popular(
        session, merchant_id, now - timedelta(days=POPULAR_DAYS), POOL)).items()}
    if new:
        sources[rules.NEW] = rules.newest_scores(await repository.newest(session, merchant_id, POOL))
    candidates = set().union(*sources.values())
    shown_elsewhere = bought | set(exclude)
    can_buy = await repository.available(session, merchant_id, candidates - shown_elsewhere)
    picks = rules.blend(sources, exclude=shown_elsewhere | rules.unavailable(candidates, can_buy), limit=limit)
    cards = {card.id: card for card in await catalog.cards(session, merchant_id, [p.product_id for p in picks])}
    return Recommendations(context=context, items=[
        Recommendation(product=cards[p.product_id], source=p.source, reason=rules.REASONS[p.source])
        for p in picks if p.product_id in cards])


async def for_home(session: AsyncSession, merchant_id: int, customer_id: int | None, now: datetime,
                   limit: int = LIMIT) -> Recommendations:
    """为你推荐 on the mall's front page."""
    return await _recommend(session, merchant_id, customer_id, now, "home", limit=limit)


async def for_product(session: AsyncSession, merchant_id: int, customer_id: int | None, product_id: int | None,
                      now: datetime, limit: int = LIMIT) -> Recommendations:
    """买了又买 on a product's page: its co-purchase neighbours first, the popular after them."""
    if product_id is None:
        raise errors.anchor_required("product", "product_id")
    await catalog.require_product(session, merchant_id, product_id)
    return await _recommend(session, merchant_id, customer_id, now, "product", seeds=[product_id], friends=False,
                            new=False, exclude=[product_id], limit=limit)


async def for_order(session: AsyncSession, merchant_id: int, customer_id: int, order_id: int | None, now: datetime,
                    limit: int = LIMIT) -> Recommendations:
    """After paying: what goes with what was just bought, then friends' purchases and the popular."""
    if order_id is None:
        raise errors.anchor_required("order", "order_id")
    order = await orders.get_order(session, merchant_id, order_id, customer_id=customer_id)
    seeds = {item.product_id for item in order.items}
    return await _recommend(session, merchant_id, customer_id, now, "order", seeds=seeds, new=False, exclude=seeds,
                            limit=limit)
