"""Every query of analytics: the set-based fold of a range of events into the aggregates, and the reads.

The fold is a handful of INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE statements over `events` (ids in
(lo, hi]), the same text on SQLite and PostgreSQL but for three expressions (JSON fields, epoch seconds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.analytics.models import (
    CAMPAIGN_ROW,
    AnalyticsWatermark,
    CampaignDepth,
    CampaignHour,
    CampaignOrder,
    CampaignPerson,
    CascadeEdge,
    CycleBucket,
    ShareClicker,
)
from fissionmall.core.events import Event, settled_bound
from fissionmall.db.sql import dialect_of

WATERMARK = "events"
ACTS = ("help", "packet_claim", "group_join")
"""A friend's act on someone's share: a help (bargain, assist), a claim (share coupons), a group joined."""
TREE_ACTS = (*ACTS, "order", "register")
"""What places a customer in a campaign's cascade tree, the first time they do it through someone's link."""
ORDER_KINDS = ("pay", "refund_requested", "first_purchase", "commission")
MEASURES = ("shares", "sharers", "clicks", "unique_clickers", "acts", "orders", "paid_fen", "refunded_fen",
            "new_customers", "signups", "cost_fen")


class _Sql:
    """The dialect's spelling of the few expressions that differ."""

    def __init__(self, session: AsyncSession) -> None:
        self.pg = dialect_of(session) == "postgresql"

    def num(self, key: str, alias: str = "e") -> str:
        if self.pg:
            return f"COALESCE(CAST({alias}.data->>'{key}' AS BIGINT), 0)"
        return f"COALESCE(CAST(json_extract({alias}.data, '$.{key}') AS INTEGER), 0)"

    def txt(self, key: str, alias: str = "e") -> str:
        return f"COALESCE({alias}.data->>'{key}', '')" if self.pg else \
            f"COALESCE(json_extract({alias}.data, '$.{key}'), '')"

    def epoch(self, column: str) -> str:
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)" if self.pg else \
            f"CAST(strftime('%s', {column}) AS INTEGER)"

    def hour(self, column: str) -> str:
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column}) / 3600) AS BIGINT)" if self.pg else \
            f"(CAST(strftime('%s', {column}) AS INTEGER) / 3600)"


def _kinds(kinds: Sequence[str]) -> str:
    return ", ".join(f"'{k}'" for k in kinds)


def _upsert_hourly(select_sql: str) -> str:
    """Add the selected (merchant, campaign, share, hour, measures…) rows to the hourly table."""
    columns = ", ".join(MEASURES)
    adds = ", ".join(f"{m} = analytics_hourly.{m} + excluded.{m}" for m in MEASURES)
    return (f"INSERT INTO analytics_hourly (merchant_id, campaign_id, share_id, hour, {columns}) {select_sql} "
            f"ON CONFLICT (merchant_id, campaign_id, share_id, hour) DO UPDATE SET {adds}")


def _zeros(but: dict[str, str]) -> str:
    return ", ".join(but.get(m, "0") for m in MEASURES)


async def fold(session: AsyncSession, lo: int, hi: int, merchant_id: int | None = None) -> None:
    """Fold the events with lo < id <= hi (of one merchant, for a rebuild) into every aggregate. Called once per
    range, in the transaction that moves the watermark past it: each event is counted exactly once."""
    q = _Sql(session)
    p: dict[str, Any] = {"lo": lo, "hi": hi}
    batch = "e.id > :lo AND e.id <= :hi"
    if merchant_id is not None:
        batch += " AND e.merchant_id = :m"
        p["m"] = merchant_id
    not_self = "(e.inviter_id IS NULL OR e.actor_id IS NULL OR e.inviter_id <> e.actor_id)"

    async def run(sql: str) -> None:
        await session.execute(text(sql), p)

    # the campaign's orders (a buyer's order through their own link is not the campaign's doing)
    await run(f"""INSERT INTO analytics_orders (merchant_id, order_id, campaign_id, share_id, customer_id, discount_fen)
        SELECT e.merchant_id, e.subject_id, e.campaign_id, COALESCE(o.share_id, 0), e.actor_id,
               CASE WHEN o.items_fen > o.total_fen THEN o.items_fen - o.total_fen ELSE 0 END
        FROM events e LEFT JOIN orders o ON o.id = e.subject_id
        WHERE {batch} AND e.kind = 'order' AND e.campaign_id IS NOT NULL AND e.actor_id IS NOT NULL AND {not_self}
        ON CONFLICT (merchant_id, order_id) DO NOTHING""")
    # people: first share, first click (the funnel's distinct sharers and clickers)
    await run(f"""INSERT INTO analytics_people (merchant_id, campaign_id, customer_id, first_share_event,
                                                first_shared_at, first_click_event)
        SELECT e.merchant_id, e.campaign_id, e.actor_id, MIN(CASE WHEN e.kind = 'share' THEN e.id END),
               MIN(CASE WHEN e.kind = 'share' THEN e.occurred_at END), MIN(CASE WHEN e.kind = 'click' THEN e.id END)
        FROM events e
        WHERE {batch} AND e.kind IN ('share', 'click') AND e.campaign_id IS NOT NULL AND e.actor_id IS NOT NULL
              AND (e.kind = 'share' OR {not_self})
        GROUP BY e.merchant_id, e.campaign_id, e.actor_id
        ON CONFLICT (merchant_id, campaign_id, customer_id) DO UPDATE SET
            first_share_event = COALESCE(analytics_people.first_share_event, excluded.first_share_event),
            first_shared_at = COALESCE(analytics_people.first_shared_at, excluded.first_shared_at),
            first_click_event = COALESCE(analytics_people.first_click_event, excluded.first_click_event)""")
    await run(f"""INSERT INTO analytics_share_clickers (merchant_id, campaign_id, share_id, customer_id, first_event)
        SELECT e.merchant_id, e.campaign_id, e.subject_id, e.actor_id, MIN(e.id) FROM events e
        WHERE {batch} AND e.kind = 'click' AND e.campaign_id IS NOT NULL AND e.actor_id IS NOT NULL AND {not_self}
        GROUP BY e.merchant_id, e.campaign_id, e.subject_id, e.actor_id
        ON CONFLICT (merchant_id, share_id, customer_id) DO NOTHING""")

    # one row per counted event: its campaign, its share link (0 when none), its hour and what it adds
    stage_not_balance = f"{q.txt('stage')} <> 'balance'"
    facts = f"""SELECT e.merchant_id AS merchant_id, COALESCE(e.campaign_id, ao.campaign_id) AS campaign_id,
            COALESCE(CASE WHEN e.kind IN ('share', 'click') THEN e.subject_id
                          WHEN e.kind IN ({_kinds(ACTS)}) THEN s.id ELSE ao.share_id END, 0) AS share_id,
            {q.hour('e.occurred_at')} AS hour,
            CASE WHEN e.kind = 'share' THEN 1 ELSE 0 END AS shares,
            CASE WHEN e.kind = 'click' THEN 1 ELSE 0 END AS clicks,
            CASE WHEN e.kind IN ({_kinds(ACTS)}) THEN 1 ELSE 0 END AS acts,
            CASE WHEN e.kind = 'pay' AND {stage_not_balance} THEN 1 ELSE 0 END AS orders,
            CASE WHEN e.kind = 'pay' THEN {q.num('amount_fen')} ELSE 0 END AS paid_fen,
            CASE WHEN e.kind = 'refund_requested' THEN {q.num('amount_fen')} ELSE 0 END AS refunded_fen,
            CASE WHEN e.kind = 'first_purchase' AND e.inviter_id IS NOT NULL THEN 1 ELSE 0 END AS new_customers,
            CASE WHEN e.kind = 'register' AND e.inviter_id IS NOT NULL THEN 1 ELSE 0 END AS signups,
            CASE WHEN e.kind IN ('help', 'packet_claim') THEN {q.num('reward_fen')}
                 WHEN e.kind IN ('invite_reward', 'commission') THEN {q.num('amount_fen')}
                 WHEN e.kind = 'pay' AND {stage_not_balance} THEN ao.discount_fen ELSE 0 END AS cost_fen
        FROM events e
        LEFT JOIN analytics_orders ao ON e.kind IN ({_kinds(ORDER_KINDS)}) AND ao.merchant_id = e.merchant_id
                                         AND ao.order_id = e.subject_id
        LEFT JOIN shares s ON e.kind IN ({_kinds(ACTS)}) AND s.merchant_id = e.merchant_id
                              AND s.sharer_id = e.inviter_id AND s.target_type = e.subject_type
                              AND s.target_id = e.subject_id
        WHERE {batch}
          AND (e.kind IN ('share', 'invite_reward') OR (e.kind IN ('click', 'register', {_kinds(ACTS)}) AND {not_self})
               OR (e.kind IN ({_kinds(ORDER_KINDS)}) AND ao.order_id IS NOT NULL))
          AND COALESCE(e.campaign_id, ao.campaign_id) IS NOT NULL"""
    sums = ", ".join("SUM(f.sharers)" if m == "sharers" else "SUM(f.unique_clickers)" if m == "unique_clickers"
                     else f"SUM(f.{m})" for m in MEASURES)
    facts_full = facts.replace("AS shares,", "AS shares, 0 AS sharers, 0 AS unique_clickers,", 1)
    await run(_upsert_hourly(f"SELECT f.merchant_id, f.campaign_id, f.share_id, f.hour, {sums} "
                             f"FROM ({facts_full}) f WHERE f.share_id <> 0 "
                             "GROUP BY f.merchant_id, f.campaign_id, f.share_id, f.hour"))
    await run(_upsert_hourly(f"SELECT f.merchant_id, f.campaign_id, {CAMPAIGN_ROW}, f.hour, {sums} "
                             f"FROM ({facts_full}) f GROUP BY f.merchant_id, f.campaign_id, f.hour"))
    # first-time sharers and clickers of the range, by the hour of their first event: driven from the range's
    # events, each joined to its person by the unique key
    firsts = {"sharers": "SUM(CASE WHEN e.id = x.first_share_event THEN 1 ELSE 0 END)",
              "unique_clickers": "SUM(CASE WHEN e.id = x.first_click_event THEN 1 ELSE 0 END)"}
    await run(_upsert_hourly(
        f"SELECT e.merchant_id, e.campaign_id, {CAMPAIGN_ROW}, {q.hour('e.occurred_at')}, "
        f"{_zeros(firsts)} "
        "FROM events e JOIN analytics_people x ON x.merchant_id = e.merchant_id AND x.campaign_id = e.campaign_id "
        "AND x.customer_id = e.actor_id "
        f"WHERE {batch} AND e.kind IN ('share', 'click') "
        "AND (e.id = x.first_share_event OR e.id = x.first_click_event) "
        f"GROUP BY e.merchant_id, e.campaign_id, {q.hour('e.occurred_at')}"))
    await run(_upsert_hourly(
        f"SELECT e.merchant_id, e.campaign_id, e.subject_id, {q.hour('e.occurred_at')}, "
        f"{_zeros({'unique_clickers': 'COUNT(*)'})} "
        "FROM events e JOIN analytics_share_clickers x ON x.merchant_id = e.merchant_id AND x.share_id = e.subject_id "
        "AND x.customer_id = e.actor_id "
        f"WHERE {batch} AND e.kind = 'click' AND e.id = x.first_event "
        f"GROUP BY e.merchant_id, e.campaign_id, e.subject_id, {q.hour('e.occurred_at')}"))

    # the cascade tree: a customer's first act through someone else's link, unless they had shared first
    await run(f"""INSERT INTO analytics_edges (merchant_id, campaign_id, parent_id, child_id, depth, action,
                                               first_act_at, first_event, cycle_seconds, paid_fen, refunded_fen, is_new)
        SELECT e.merchant_id, e.campaign_id, e.inviter_id, e.actor_id, 0, e.kind, e.occurred_at, e.id, NULL, 0, 0,
               FALSE
        FROM events e WHERE e.id IN (
            SELECT MIN(e.id) FROM events e
            WHERE {batch} AND e.kind IN ({_kinds(TREE_ACTS)}) AND e.campaign_id IS NOT NULL
                  AND e.inviter_id IS NOT NULL AND e.actor_id IS NOT NULL AND e.inviter_id <> e.actor_id
                  AND NOT EXISTS (SELECT 1 FROM analytics_people x WHERE x.merchant_id = e.merchant_id
                                  AND x.campaign_id = e.campaign_id AND x.customer_id = e.actor_id
                                  AND x.first_share_event < e.id)
            GROUP BY e.merchant_id, e.campaign_id, e.actor_id)
        ON CONFLICT (merchant_id, campaign_id, child_id) DO NOTHING""")
    edge_batch = "analytics_edges.first_event > :lo AND analytics_edges.first_event <= :hi" + (
        " AND analytics_edges.merchant_id = :m" if merchant_id is not None else "")
    same_parent = ("p.merchant_id = analytics_edges.merchant_id AND p.campaign_id = analytics_edges.campaign_id "
                   "AND p.child_id = analytics_edges.parent_id")
    while True:  # place the new edges level by level: a parent's depth is known before its children's
        placed = await session.execute(text(
            f"UPDATE analytics_edges SET depth = COALESCE((SELECT p.depth FROM analytics_edges p WHERE {same_parent}),"
            f" 0) + 1 WHERE {edge_batch} AND analytics_edges.depth = 0 AND NOT EXISTS "
            f"(SELECT 1 FROM analytics_edges p WHERE {same_parent} AND p.depth = 0)"), p)
        if not placed.rowcount:  # type: ignore[attr-defined]
            break
    await run(f"""UPDATE analytics_edges SET cycle_seconds = {q.epoch('analytics_edges.first_act_at')} - (
            SELECT {q.epoch('x.first_shared_at')} FROM analytics_people x
            WHERE x.merchant_id = analytics_edges.merchant_id AND x.campaign_id = analytics_edges.campaign_id
            AND x.customer_id = analytics_edges.parent_id)
        WHERE {edge_batch}""")
    await _fold_summaries(session, p, batch)
    # what each child paid, had refunded, and whether the campaign made them a new customer
    rows = (await session.execute(text(f"""
        SELECT e.merchant_id, ao.campaign_id, ao.customer_id,
               SUM(CASE WHEN e.kind = 'pay' THEN {q.num('amount_fen')} ELSE 0 END),
               SUM(CASE WHEN e.kind = 'refund_requested' THEN {q.num('amount_fen')} ELSE 0 END),
               MAX(CASE WHEN e.kind = 'first_purchase' THEN 1 ELSE 0 END)
        FROM events e JOIN analytics_orders ao ON ao.merchant_id = e.merchant_id AND ao.order_id = e.subject_id
        WHERE {batch} AND e.kind IN ('pay', 'refund_requested', 'first_purchase')
        GROUP BY e.merchant_id, ao.campaign_id, ao.customer_id"""), p)).all()
    if rows:
        await session.execute(text(
            "UPDATE analytics_edges SET paid_fen = paid_fen + :paid, refunded_fen = refunded_fen + :ref, "
            "is_new = (is_new OR :new) WHERE merchant_id = :mid AND campaign_id = :cid AND child_id = :kid"),
            [{"mid": m, "cid": c, "kid": k, "paid": int(pf), "ref": int(rf), "new": bool(n)}
             for m, c, k, pf, rf, n in rows])


def _upsert_depths(select_sql: str, measure: str) -> str:
    """Add the selected (merchant, campaign, depth, n) rows to `measure` of the per-depth table."""
    others = {"nodes": "0", "new_customers": "0", "sharers": "0"}
    columns = ", ".join(others)
    values = ", ".join("d.n" if m == measure else "0" for m in others)
    return (f"INSERT INTO analytics_depths (merchant_id, campaign_id, depth, {columns}) "
            f"SELECT d.merchant_id, d.campaign_id, d.depth, {values} FROM ({select_sql}) d WHERE d.n <> 0 "
            "ON CONFLICT (merchant_id, campaign_id, depth) DO UPDATE SET "
            f"{measure} = analytics_depths.{measure} + excluded.{measure}")


CYCLE_BUCKET = ("CASE WHEN {c} >= 172800 THEN ({c} / 3600) * 3600 WHEN {c} >= 0 THEN ({c} / 60) * 60 "
                "ELSE -(((59 - {c}) / 60) * 60) END")
"""`rules.cycle_bucket` in SQL (integer division truncates toward zero: negatives are floored by hand)."""


async def _fold_summaries(session: AsyncSession, p: dict[str, Any], batch: str) -> None:
    """The tree summed by depth and by cycle time, from the edges this range added (each found from its first event,
    by the edges' unique key) and the people who shared for the first time in it. Runs after the new edges are placed
    and timed, and before their children's first purchases mark them new (it counts those marks as they happen)."""

    async def run(sql: str) -> None:
        await session.execute(text(sql), p)

    new_edges = (f"SELECT ed.* FROM events e JOIN analytics_edges ed ON ed.merchant_id = e.merchant_id "
                 f"AND ed.campaign_id = e.campaign_id AND ed.child_id = e.actor_id AND ed.first_event = e.id "
                 f"WHERE {batch} AND e.kind IN ({_kinds(TREE_ACTS)}) AND e.campaign_id IS NOT NULL")
    await run(_upsert_depths(f"SELECT ne.merchant_id, ne.campaign_id, ne.depth, COUNT(*) AS n FROM ({new_edges}) ne "
                             "WHERE ne.depth > 0 GROUP BY ne.merchant_id, ne.campaign_id, ne.depth", "nodes"))
    # the roots: parents of a depth-1 edge who are nobody's child. A parent's first depth-1 child makes it one
    # (unless it is a child itself); a root that becomes a child stops being one
    older = "o.merchant_id = ne.merchant_id AND o.campaign_id = ne.campaign_id"
    await run(_upsert_depths(f"""SELECT r.merchant_id, r.campaign_id, 0 AS depth, SUM(r.n) AS n FROM (
            SELECT DISTINCT ne.merchant_id, ne.campaign_id, ne.parent_id AS customer_id, 1 AS n FROM ({new_edges}) ne
            WHERE ne.depth = 1
              AND NOT EXISTS (SELECT 1 FROM analytics_edges o WHERE {older} AND o.parent_id = ne.parent_id
                              AND o.depth = 1 AND o.first_event <= :lo)
              AND NOT EXISTS (SELECT 1 FROM analytics_edges o WHERE {older} AND o.child_id = ne.parent_id)
            UNION ALL
            SELECT ne.merchant_id, ne.campaign_id, ne.child_id, -1 FROM ({new_edges}) ne
            WHERE EXISTS (SELECT 1 FROM analytics_edges o WHERE {older} AND o.parent_id = ne.child_id
                          AND o.depth = 1 AND o.first_event <= :lo)) r
        GROUP BY r.merchant_id, r.campaign_id""", "nodes"))
    bucket = CYCLE_BUCKET.format(c="ne.cycle_seconds")
    await run(f"""INSERT INTO analytics_cycles (merchant_id, campaign_id, start_seconds, edges)
        SELECT ne.merchant_id, ne.campaign_id, {bucket}, COUNT(*) FROM ({new_edges}) ne
        WHERE ne.cycle_seconds IS NOT NULL GROUP BY ne.merchant_id, ne.campaign_id, {bucket}
        ON CONFLICT (merchant_id, campaign_id, start_seconds) DO UPDATE SET
            edges = analytics_cycles.edges + excluded.edges""")
    # first-time sharers of the range, at the depth of their own edge (placed by now: it came before their share)
    await run(_upsert_depths(f"""SELECT e.merchant_id, e.campaign_id, COALESCE(ed.depth, 0) AS depth, COUNT(*) AS n
        FROM events e JOIN analytics_people x ON x.merchant_id = e.merchant_id AND x.campaign_id = e.campaign_id
                                            AND x.customer_id = e.actor_id AND x.first_share_event = e.id
        LEFT JOIN analytics_edges ed ON ed.merchant_id = e.merchant_id AND ed.campaign_id = e.campaign_id
                                     AND ed.child_id = e.actor_id
        WHERE {batch} AND e.kind = 'share' AND e.campaign_id IS NOT NULL
        GROUP BY e.merchant_id, e.campaign_id, COALESCE(ed.depth, 0)""", "sharers"))
    # edges whose child makes a first purchase in the range and is not yet marked new
    await run(_upsert_depths(f"""SELECT ed.merchant_id, ed.campaign_id, ed.depth, COUNT(DISTINCT ed.child_id) AS n
        FROM events e JOIN analytics_orders ao ON ao.merchant_id = e.merchant_id AND ao.order_id = e.subject_id
        JOIN analytics_edges ed ON ed.merchant_id = ao.merchant_id AND ed.campaign_id = ao.campaign_id
                                AND ed.child_id = ao.customer_id
        WHERE {batch} AND e.kind = 'first_purchase' AND NOT ed.is_new
        GROUP BY ed.merchant_id, ed.campaign_id, ed.depth""", "new_customers"))
    # a root that became a child in the range, and had no other count at depth 0, leaves no row behind
    await run("DELETE FROM analytics_depths WHERE depth = 0 AND nodes = 0 AND new_customers = 0 AND sharers = 0")


# ---- the watermark

async def lock_watermark(session: AsyncSession) -> int:
    """The watermark row, locked to the end of the transaction (one folder at a time), created at 0 if absent."""
    statement = select(AnalyticsWatermark.last_event_id).where(AnalyticsWatermark.name == WATERMARK)
    found = (await session.execute(statement.with_for_update())).scalar()
    if found is None:
        await session.execute(text("INSERT INTO analytics_watermarks (name, last_event_id) VALUES (:n, 0) "
                                   "ON CONFLICT (name) DO NOTHING"), {"n": WATERMARK})
        found = (await session.execute(statement.with_for_update())).scalar_one()
    return int(found)


async def move_watermark(session: AsyncSession, last_event_id: int) -> None:
    await session.execute(update(AnalyticsWatermark).where(AnalyticsWatermark.name == WATERMARK)
                          .values(last_event_id=last_event_id))


async def next_bound(session: AsyncSession, after: int, chunk: int, settled_before: Any) -> int:
    """The last id of the next range to fold (`core.events.settled_bound`)."""
    return await settled_bound(session, after, chunk, settled_before)


async def refresh_statistics(session: AsyncSession) -> None:
    """PostgreSQL plans the fold's joins from table statistics: while a rebuild fills the tables from empty, they
    must be told the tables grew, or they scan them row by row (measured: 110 s instead of 3 for 100,000 events). A
rebuild refreshes them each time they have doubled."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("ANALYZE analytics_hourly, analytics_people, analytics_share_clickers, "
                                   "analytics_orders, analytics_edges, analytics_depths, analytics_cycles"))


async def forget_merchant(session: AsyncSession, merchant_id: int | None) -> None:
    for model in (CampaignHour, CampaignPerson, ShareClicker, CampaignOrder, CascadeEdge, CampaignDepth,
                  CycleBucket):
        statement = delete(model)
        if merchant_id is not None:
            statement = statement.where(model.merchant_id == merchant_id)  # type: ignore[attr-defined]
        await session.execute(statement)


async def event_ids(session: AsyncSession, merchant_id: int | None, upto: int) -> tuple[int, int]:
    statement = select(func.min(Event.id), func.count()).where(Event.id <= upto)
    if merchant_id is not None:
        statement = statement.where(Event.merchant_id == merchant_id)
    first, n = (await session.execute(statement)).one()
    return int(first or 0), int(n)


# ---- reads

async def totals(session: AsyncSession, merchant_id: int, campaign_id: int, share_id: int = CAMPAIGN_ROW
                 ) -> dict[str, int]:
    statement = select(*(func.coalesce(func.sum(getattr(CampaignHour, m)), 0) for m in MEASURES)).where(
        CampaignHour.merchant_id == merchant_id, CampaignHour.campaign_id == campaign_id,
        CampaignHour.share_id == share_id)
    row = (await session.execute(statement)).one()
    return {m: int(v) for m, v in zip(MEASURES, row, strict=True)}


async def hours(session: AsyncSession, merchant_id: int, campaign_id: int, share_id: int = CAMPAIGN_ROW
                ) -> list[tuple[int, dict[str, int]]]:
    statement = select(CampaignHour.hour, *(getattr(CampaignHour, m) for m in MEASURES)).where(
        CampaignHour.merchant_id == merchant_id, CampaignHour.campaign_id == campaign_id,
        CampaignHour.share_id == share_id).order_by(CampaignHour.hour)
    return [(int(r[0]), {m: int(v) for m, v in zip(MEASURES, r[1:], strict=True)})
            for r in (await session.execute(statement)).all()]


async def depths(session: AsyncSession, merchant_id: int, campaign_id: int) -> list[tuple[int, int, int, int]]:
    """(depth, customers, new customers, sharers) of the campaign's tree, by depth (0: its roots and the sharers
    brought by no one)."""
    statement = select(CampaignDepth.depth, CampaignDepth.nodes, CampaignDepth.new_customers, CampaignDepth.sharers
                       ).where(CampaignDepth.merchant_id == merchant_id, CampaignDepth.campaign_id == campaign_id
                               ).order_by(CampaignDepth.depth)
    return [(int(d), int(n), int(k), int(s)) for d, n, k, s in (await session.execute(statement)).all()]


async def cycle_buckets(session: AsyncSession, merchant_id: int, campaign_id: int) -> list[tuple[int, int]]:
    """(bucket start in seconds, edges) of the campaign's cycle-time histogram, ascending."""
    statement = select(CycleBucket.start_seconds, CycleBucket.edges).where(
        CycleBucket.merchant_id == merchant_id, CycleBucket.campaign_id == campaign_id).order_by(
        CycleBucket.start_seconds)
    return [(int(a), int(n)) for a, n in (await session.execute(statement)).all()]


async def edge_count(session: AsyncSession, merchant_id: int, campaign_id: int) -> int:
    return int((await session.execute(select(func.count()).where(
        CascadeEdge.merchant_id == merchant_id, CascadeEdge.campaign_id == campaign_id))).scalar_one())


async def parent_links(session: AsyncSession, merchant_id: int, campaign_id: int) -> list[tuple[int, int]]:
    statement = select(CascadeEdge.parent_id, CascadeEdge.child_id).where(
        CascadeEdge.merchant_id == merchant_id, CascadeEdge.campaign_id == campaign_id)
    return [(int(a), int(b)) for a, b in (await session.execute(statement)).all()]


async def children(session: AsyncSession, merchant_id: int, campaign_id: int, parent_ids: Sequence[int] | None,
                   *, after: int, limit: int) -> list[CascadeEdge]:
    """Edges under the given parents (None: the tree's first level, depth 1), by child id, after a cursor."""
    statement = select(CascadeEdge).where(CascadeEdge.merchant_id == merchant_id,
                                          CascadeEdge.campaign_id == campaign_id, CascadeEdge.child_id > after)
    statement = statement.where(CascadeEdge.depth == 1) if parent_ids is None else \
        statement.where(CascadeEdge.parent_id.in_(parent_ids))
    return list((await session.execute(statement.order_by(CascadeEdge.child_id).limit(limit))).scalars())


async def child_counts(session: AsyncSession, merchant_id: int, campaign_id: int, parent_ids: Sequence[int]
                       ) -> dict[int, int]:
    if not parent_ids:
        return {}
    statement = select(CascadeEdge.parent_id, func.count()).where(
        CascadeEdge.merchant_id == merchant_id, CascadeEdge.campaign_id == campaign_id,
        CascadeEdge.parent_id.in_(parent_ids)).group_by(CascadeEdge.parent_id)
    return {int(a): int(n) for a, n in (await session.execute(statement)).all()}


async def top_sharers(session: AsyncSession, merchant_id: int, campaign_id: int, limit: int
                      ) -> list[tuple[int, int, int, int]]:
    """(customer, friends brought, of them new customers, their paid fen), most brought first."""
    new = func.sum(func.cast(CascadeEdge.is_new, CascadeEdge.depth.type))
    net = func.sum(CascadeEdge.paid_fen - CascadeEdge.refunded_fen)
    statement = (select(CascadeEdge.parent_id, func.count(), new, net)
                 .where(CascadeEdge.merchant_id == merchant_id, CascadeEdge.campaign_id == campaign_id)
                 .group_by(CascadeEdge.parent_id).order_by(func.count().desc(), new.desc(), CascadeEdge.parent_id)
                 .limit(limit))
    return [(int(a), int(n), int(k or 0), int(f or 0)) for a, n, k, f in (await session.execute(statement)).all()]


async def campaign_ids(session: AsyncSession, merchant_id: int) -> list[int]:
    statement = select(CampaignHour.campaign_id).where(CampaignHour.merchant_id == merchant_id,
                                                       CampaignHour.share_id == CAMPAIGN_ROW).distinct()
    return sorted(int(c) for c in (await session.execute(statement)).scalars())
