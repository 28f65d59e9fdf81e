"""Campaign analytics (数据分析): keep the aggregates up to date with the event log, and answer from them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.analytics import repository, rules
from fissionmall.analytics.models import CAMPAIGN_ROW
from fissionmall.analytics.schemas import (
    CampaignMetrics,
    CampaignSummary,
    Counts,
    FunnelStep,
    Generation,
    Series,
    SeriesPoint,
    ShareMetrics,
    Sharer,
    TreeNode,
    TreePage,
)
from fissionmall.campaigns import service as campaigns
from fissionmall.core.pagination import parse_cursor

CHUNK = 20_000
"""Events folded per transaction."""
SETTLE = timedelta(seconds=5)
"""Events younger than this are left for the next pass: a transaction still open may commit a smaller id."""
BEIJING = timedelta(hours=8)


async def catch_up(session: AsyncSession, now: datetime, *, chunk: int = CHUNK, settle: timedelta = SETTLE) -> int:
    """Fold the next range of events after the watermark and move it, in the caller's transaction (the watermark
    row is locked to its end, so two workers never fold the same range). Events folded."""
    last = await repository.lock_watermark(session)
    upto = await repository.next_bound(session, last, chunk, now - settle)
    if upto <= last:
        return 0
    await repository.fold(session, last, upto)
    await repository.move_watermark(session, upto)
    return upto - last


async def rebuild(session: AsyncSession, merchant_id: int | None, *, chunk: int = CHUNK,
                  progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Forget the aggregates (of one merchant, or all) and fold again every event up to the watermark, in the
    caller's transaction, the watermark locked throughout. (events, watermark)."""
    last = await repository.lock_watermark(session)
    await repository.forget_merchant(session, merchant_id)
    first, n = await repository.event_ids(session, merchant_id, last)
    lo = max(0, first - 1)
    folds, refreshed = 0, 0
    while lo < last:
        hi = min(last, lo + chunk)
        await repository.fold(session, lo, hi, merchant_id)
        folds += 1
        if folds >= 2 * refreshed:  # the tables doubled since the last refresh: 1, 2, 4, 8 … chunks
            await repository.refresh_statistics(session)
            refreshed = folds
        if progress:
            progress(hi - max(0, first - 1), last - max(0, first - 1))
        lo = hi
    return n, last


def _counts(t: dict[str, int]) -> Counts:
    return Counts(**t, net_paid_fen=t["paid_fen"] - t["refunded_fen"])


def _funnel(t: dict[str, int]) -> list[FunnelStep]:
    return [FunnelStep(step=s, count=n, rate=r) for s, n, r in
            rules.funnel(t["shares"], t["clicks"], t["acts"], t["orders"])]


async def campaign_metrics(session: AsyncSession, merchant_id: int, campaign_id: int) -> CampaignMetrics:
    await campaigns.require(session, merchant_id, campaign_id)
    t = await repository.totals(session, merchant_id, campaign_id)
    by_depth = await repository.depths(session, merchant_id, campaign_id)
    sharers_at = {d: s for d, _, _, s in by_depth if s}
    new_at = {d: k for d, _, k, _ in by_depth if k}
    depths = {d: n for d, n, _, _ in by_depth if n}
    edges = sum(n for d, n, _, _ in by_depth if d > 0)
    virality, trees = (rules.structural_virality(await repository.parent_links(session, merchant_id, campaign_id))
                       if 0 < edges <= rules.VIRALITY_CAP else (None, []))
    cycles = await repository.cycle_buckets(session, merchant_id, campaign_id)
    sharers = sum(sharers_at.values())
    return CampaignMetrics(
        campaign_id=campaign_id, counts=_counts(t), funnel=_funnel(t), k=rules.rate(t["new_customers"], sharers),
        k_by_generation=[Generation(depth=g, sharers=s, new_customers=n, k=k)
                         for g, s, n, k in rules.k_by_generation(sharers_at, new_at)],
        cycle_median_seconds=rules.histogram_quantile(cycles, 0.5),
        cycle_p90_seconds=rules.histogram_quantile(cycles, 0.9),
        depth_distribution=depths, new_by_depth=new_at, beyond_first_hop=rules.beyond_first_hop(new_at),
        structural_virality=virality, virality_computed=edges <= rules.VIRALITY_CAP,
        virality_cap=rules.VIRALITY_CAP, largest_tree=max((n for n, _ in trees), default=0),
        cost_per_new_customer_fen=rules.per_new_customer(t["cost_fen"], t["new_customers"]))


async def share_metrics(session: AsyncSession, merchant_id: int, campaign_id: int, share_id: int) -> ShareMetrics:
    await campaigns.require(session, merchant_id, campaign_id)
    t = await repository.totals(session, merchant_id, campaign_id, share_id)
    return ShareMetrics(campaign_id=campaign_id, share_id=share_id, counts=_counts(t), funnel=_funnel(t))


async def series(session: AsyncSession, merchant_id: int, campaign_id: int, bucket: str,
                 share_id: int = CAMPAIGN_ROW) -> Series:
    await campaigns.require(session, merchant_id, campaign_id)
    hours = await repository.hours(session, merchant_id, campaign_id, share_id)
    rows = hours if bucket == "hour" else rules.days(hours)
    ks = rules.cumulative_k(rows)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    points = []
    for (n, row), k in zip(rows, ks, strict=True):
        start = epoch + (timedelta(hours=n) + BEIJING if bucket == "hour" else timedelta(days=n))
        points.append(SeriesPoint(start=start.strftime("%Y-%m-%dT%H:00" if bucket == "hour" else "%Y-%m-%d"),
                                  counts=_counts(row), k_to_date=k))
    return Series(campaign_id=campaign_id, share_id=share_id, bucket=bucket, points=points)


async def tree(session: AsyncSession, merchant_id: int, campaign_id: int, parent_id: int | None,
               cursor: str | None, limit: int) -> TreePage:
    """One level of the cascade tree: the first level, or a node's children, by customer id, a page at a time;
    each node says how many children it has, so a page can open it on demand."""
    await campaigns.require(session, merchant_id, campaign_id)
    edges = await repository.children(session, merchant_id, campaign_id, None if parent_id is None else [parent_id],
                                      after=parse_cursor(cursor) or 0, limit=limit)
    counts = await repository.child_counts(session, merchant_id, campaign_id, [e.child_id for e in edges])
    nodes = [TreeNode(customer_id=e.child_id, parent_id=e.parent_id, depth=e.depth, action=e.action,
                      first_act_at=(e.first_act_at + BEIJING).strftime("%Y-%m-%dT%H:%M"), paid_fen=e.paid_fen,
                      refunded_fen=e.refunded_fen, is_new=e.is_new, children=counts.get(e.child_id, 0))
             for e in edges]
    return TreePage(campaign_id=campaign_id, parent_id=parent_id, nodes=nodes,
                    next_cursor=str(edges[-1].child_id) if len(edges) == limit else None)


async def tree_levels(session: AsyncSession, merchant_id: int, campaign_id: int, max_nodes: int
                      ) -> tuple[list[tuple[int, int]], int] | None:
    """The whole tree's links when it has at most `max_nodes` edges (for a drawing), with its edge count."""
    n = await repository.edge_count(session, merchant_id, campaign_id)
    return (await repository.parent_links(session, merchant_id, campaign_id), n) if n <= max_nodes else None


async def top_sharers(session: AsyncSession, merchant_id: int, campaign_id: int, limit: int) -> list[Sharer]:
    await campaigns.require(session, merchant_id, campaign_id)
    return [Sharer(customer_id=c, brought=n, new_customers=k, net_paid_fen=f)
            for c, n, k, f in await repository.top_sharers(session, merchant_id, campaign_id, limit)]


async def compare(session: AsyncSession, merchant_id: int) -> list[CampaignSummary]:
    """Every campaign of the merchant that has analytics, side by side."""
    out = []
    measured = set(await repository.campaign_ids(session, merchant_id))
    for campaign in await campaigns.list_campaigns(session, merchant_id, None):
        if campaign.id not in measured:
            continue
        campaign_id = campaign.id
        t = await repository.totals(session, merchant_id, campaign_id)
        out.append(CampaignSummary(campaign_id=campaign_id, name=campaign.name, kind=campaign.kind,
                                   new_customers=t["new_customers"], k=rules.rate(t["new_customers"], t["sharers"]),
                                   net_paid_fen=t["paid_fen"] - t["refunded_fen"], cost_fen=t["cost_fen"]))
    return out
