"""Campaign analytics on a cascade drawn by hand, every metric checked against values worked out below."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from fissionmall.analytics import repository, rules, service
from fissionmall.core.runtime import Runtime
from tests.analytics.history import T0, History, draw_cascade
from tests.support import Mall, problem, rows

FOLD_NOW = T0 + timedelta(days=2)
TABLES = ("analytics_hourly", "analytics_people", "analytics_share_clickers", "analytics_orders", "analytics_edges",
          "analytics_depths", "analytics_cycles")


async def catch_up(runtime: Runtime, chunk: int = 10_000, now: datetime = FOLD_NOW) -> int:
    total = 0
    while True:
        async with runtime.sessionmaker() as session:
            n = await service.catch_up(session, now, chunk=chunk, settle=timedelta(0))
            await session.commit()
        total += n
        if n == 0:
            return total


async def aggregates(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every aggregate row without its surrogate id, sorted: what two ways of folding must agree on."""
    out = {}
    for name in TABLES:
        found = await rows(runtime, f"SELECT * FROM {name}")
        out[name] = sorted(tuple(str(v) for v in row[:-1]) for row in found)  # id is the last column
    return out


async def test_hand_drawn_cascade(mall: Mall, runtime: Runtime) -> None:
    """Ten people, A to J, in one bargain campaign (minutes after T0):

        0  A shares (link a).          10  B and C click a; 12 B clicks a again.   20  B helps A (reward 1.00).
       30  C orders through a, pays 50.00 at 35: a first purchase.                40  B shares (link b).
       60  D, E, F click b.            70  D helps B (reward 1.00).
       75  E orders through b, pays 30.00 at 80, first purchase; B earns 3.00 commission on it.
       85  F orders through b, pays 20.00 at 90: F had bought before, not new.
      120  E shares (link e).         180  G clicks e, orders at 180, pays 40.00 at 185, first purchase.
      210  G's 40.00 is refunded.
      240  H shares, opens his own link, and buys through it (10.00, first purchase): a self-referral, not counted.
      300  I clicks a and does nothing more; J clicks b and helps B (reward 1.00).

    By hand:
    - shares 4 (A, B, E, H), sharers 4; clicks 9 (B twice, C, D, E, F, G, I, J; H's own not counted), unique
      clickers 8; acts 3 helps; paid orders 4 (C, E, F, G), paid 140.00, refunded 40.00, net 100.00;
      new customers 3 (C, E, G); cost = 3 rewards of 1.00 + 3.00 commission = 6.00, per new customer 2.00.
    - funnel share 4 → click 9 (2.25) → act 3 (1/3) → pay 4 (4/3).
    - K = 3 new / 4 sharers = 0.75.
    - tree A→B, A→C, B→D, B→E, B→F, B→J, E→G: depths {0: 1 (A), 1: 2, 2: 4, 3: 1}; new at depth 1, 2, 3 one each,
      so 2 of 3 new customers beyond the first hop. By generation: depth 0 has 2 sharers (A, H) and 1 new child
      (K 0.5); depth 1 one sharer (B), 1 new child E (K 1); depth 2 one sharer (E), 1 new child G (K 1).
    - cycle (parent's first share → child's first act), seconds: B 1200, C 1800, D 1800 (70 − 40 min),
      E 2100 (75 − 40), F 2700, J 15600 (300 − 40), G 3600 (180 − 120): sorted 1200 1800 1800 2100 2700 3600 15600;
      median (rank ⌈3.5⌉ = 4) 2100, p90 (rank ⌈6.3⌉ = 7) 15600.
    - structural virality of the 8-node tree: subtree sizes B 6, C 1, D 1, E 2, F 1, J 1, G 1; Σ s(8 − s) =
      12 + 7 + 7 + 12 + 7 + 7 + 7 = 59, so 2·59 / (8·7) = 118/56 (checked below against all 28 pairs' distances).
    - top sharers: B brought 4 (1 new, net 50.00), A 2 (1 new, net 50.00), E 1 (1 new, net 0).
    - link b: 1 share, 4 clicks by 4 people (D, E, F, J), 2 helps (D, J).
    """
    h = await draw_cascade(runtime, mall.merchant_id)
    await catch_up(runtime)
    staff = await mall.staff("support")
    body = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}", headers=staff)).json()
    assert body["counts"] == {"shares": 4, "sharers": 4, "clicks": 9, "unique_clickers": 8, "acts": 3, "orders": 4,
                              "paid_fen": 14000, "refunded_fen": 4000, "net_paid_fen": 10000, "new_customers": 3,
                              "signups": 0, "cost_fen": 600}
    assert [(s["step"], s["count"], s["rate"]) for s in body["funnel"]] == [
        ("share", 4, None), ("click", 9, 2.25), ("act", 3, 3 / 9), ("pay", 4, 4 / 3)]
    assert body["k"] == 0.75
    assert [(g["depth"], g["sharers"], g["new_customers"], g["k"]) for g in body["k_by_generation"]] == [
        (0, 2, 1, 0.5), (1, 1, 1, 1.0), (2, 1, 1, 1.0)]
    assert body["depth_distribution"] == {"0": 1, "1": 2, "2": 4, "3": 1}
    assert body["new_by_depth"] == {"1": 1, "2": 1, "3": 1}
    assert body["beyond_first_hop"] == 2 / 3
    assert (body["cycle_median_seconds"], body["cycle_p90_seconds"]) == (2100, 15600)
    assert body["structural_virality"] == pytest.approx(118 / 56)
    assert body["virality_computed"] and body["largest_tree"] == 8
    assert body["cost_per_new_customer_fen"] == 200

    # what the metrics read: the tree by depth (customers, new customers, sharers) and the cycle-time histogram
    assert await rows(runtime, "SELECT depth, nodes, new_customers, sharers FROM analytics_depths "
                      "WHERE campaign_id = :c ORDER BY depth", c=h.campaign_id) == [
        (0, 1, 0, 2), (1, 2, 1, 1), (2, 4, 1, 1), (3, 1, 1, 0)]
    assert await rows(runtime, "SELECT start_seconds, edges FROM analytics_cycles WHERE campaign_id = :c "
                      "ORDER BY start_seconds", c=h.campaign_id) == [
        (1200, 1), (1800, 2), (2100, 1), (2700, 1), (3600, 1), (15600, 1)]

    top = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}/top-sharers", headers=staff)).json()
    p = h.people
    assert [(s["customer_id"], s["brought"], s["new_customers"], s["net_paid_fen"]) for s in top] == [
        (p["B"], 4, 1, 5000), (p["A"], 2, 1, 5000), (p["E"], 1, 1, 0)]

    link = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}/shares/{h.shares['B']}",
                                  headers=staff)).json()
    assert {k: link["counts"][k] for k in ("shares", "clicks", "unique_clickers", "acts")} == {
        "shares": 1, "clicks": 4, "unique_clickers": 4, "acts": 2}

    first = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}/tree", headers=staff)).json()
    assert [(n["customer_id"], n["action"], n["children"], n["depth"]) for n in first["nodes"]] == [
        (p["B"], "help", 4, 1), (p["C"], "order", 0, 1)]
    under_b = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}/tree",
                                     params={"parent_id": p["B"], "limit": 3}, headers=staff)).json()
    assert [n["customer_id"] for n in under_b["nodes"]] == [p["D"], p["E"], p["F"]]
    rest = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}/tree",
                                  params={"parent_id": p["B"], "cursor": under_b["next_cursor"]}, headers=staff)).json()
    assert [n["customer_id"] for n in rest["nodes"]] == [p["J"]] and rest["next_cursor"] is None
    g = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}/tree",
                               params={"parent_id": p["E"]}, headers=staff)).json()["nodes"][0]
    assert (g["customer_id"], g["paid_fen"], g["refunded_fen"], g["is_new"], g["depth"]) == (p["G"], 4000, 4000,
                                                                                            True, 3)

    day = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}/series", headers=staff)).json()
    assert [pt["start"] for pt in day["points"]] == ["2026-03-01"]
    assert day["points"][0]["counts"] == body["counts"] and day["points"][0]["k_to_date"] == 0.75
    hourly = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}/series",
                                    params={"bucket": "hour"}, headers=staff)).json()["points"]
    assert [pt["start"] for pt in hourly] == ["2026-03-01T10:00", "2026-03-01T11:00", "2026-03-01T12:00",
                                              "2026-03-01T13:00", "2026-03-01T14:00", "2026-03-01T15:00"]
    assert sum(pt["counts"]["clicks"] for pt in hourly) == 9
    assert [pt["counts"]["sharers"] for pt in hourly] == [2, 0, 1, 0, 1, 0]  # A and B at 10:xx
    problem(await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}/series", params={"bucket": "week"},
                                  headers=staff), 422, "invalid_request")


async def test_pieces_equal_a_rebuild_and_folding_is_exactly_once(mall: Mall, beta: Mall, runtime: Runtime) -> None:
    """Folded three events at a time, the tables equal a full rebuild; a pass with nothing new changes nothing,
    and the worker's own pass after them neither (the watermark moved with the rows)."""
    await draw_cascade(runtime, mall.merchant_id)
    await draw_cascade(runtime, beta.merchant_id)
    folded = await catch_up(runtime, chunk=3)
    assert folded == (await rows(runtime, "SELECT max(id) FROM events"))[0][0]
    pieces = await aggregates(runtime)
    assert await catch_up(runtime) == 0
    await mall.work()
    assert await aggregates(runtime) == pieces
    async with runtime.sessionmaker() as session:
        n, last = await service.rebuild(session, None, chunk=7)
        await session.commit()
    assert last == folded and n == folded
    assert await aggregates(runtime) == pieces
    async with runtime.sessionmaker() as session:
        await service.rebuild(session, beta.merchant_id)
        await session.commit()
    assert await aggregates(runtime) == pieces


async def test_merchants_see_only_their_campaigns(mall: Mall, beta: Mall, runtime: Runtime) -> None:
    h = await draw_cascade(runtime, mall.merchant_id)
    async with runtime.sessionmaker() as session:
        other = await History.start(session, beta.merchant_id, ["X", "Y"], name="beta 拼团")
        await other.share(0, "X", 7)
        await other.click(1, "Y", "X")
        await session.commit()
    await catch_up(runtime)
    mine = (await mall.client.get(f"/admin/analytics/campaigns/{h.campaign_id}", headers=await mall.staff())).json()
    assert mine["counts"]["shares"] == 4 and mine["counts"]["clicks"] == 9
    problem(await beta.client.get(f"/admin/analytics/campaigns/{h.campaign_id}", headers=await beta.staff()),
            404, "campaign_not_found")
    compared = (await beta.client.get("/admin/analytics/campaigns", headers=await beta.staff())).json()
    assert [(c["campaign_id"], c["new_customers"]) for c in compared] == [(other.campaign_id, 0)]
    compared = (await mall.client.get("/admin/analytics/campaigns", headers=await mall.staff())).json()
    assert [(c["campaign_id"], c["new_customers"], c["k"]) for c in compared] == [(h.campaign_id, 3, 0.75)]


async def recount(runtime: Runtime, campaign_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    """The per-depth rows and the cycle histogram counted afresh from the edges and the people (the queries the
    metrics ran before the summaries were kept)."""
    depths: dict[int, list[int]] = {}
    roots = await rows(runtime, """SELECT COUNT(DISTINCT e.parent_id) FROM analytics_edges e WHERE e.campaign_id = :c
        AND e.depth = 1 AND e.parent_id NOT IN (SELECT child_id FROM analytics_edges WHERE campaign_id = :c)""",
                       c=campaign_id)
    if roots[0][0]:
        depths[0] = [roots[0][0], 0, 0]
    for d, n, k in await rows(runtime, "SELECT depth, COUNT(*), SUM(CASE WHEN is_new THEN 1 ELSE 0 END) "
                              "FROM analytics_edges WHERE campaign_id = :c GROUP BY depth", c=campaign_id):
        depths.setdefault(d, [0, 0, 0])[:2] = [n, k]
    for d, n in await rows(runtime, """SELECT COALESCE(e.depth, 0), COUNT(*) FROM analytics_people p
            LEFT JOIN analytics_edges e ON e.campaign_id = p.campaign_id AND e.child_id = p.customer_id
            WHERE p.campaign_id = :c AND p.first_share_event IS NOT NULL GROUP BY COALESCE(e.depth, 0)""",
                           c=campaign_id):
        depths.setdefault(d, [0, 0, 0])[2] = n
    cycles: dict[int, int] = {}
    for (seconds,) in await rows(runtime, "SELECT cycle_seconds FROM analytics_edges WHERE campaign_id = :c "
                                 "AND cycle_seconds IS NOT NULL", c=campaign_id):
        bucket = rules.cycle_bucket(seconds)
        cycles[bucket] = cycles.get(bucket, 0) + 1
    return sorted((d, *v) for d, v in depths.items()), sorted(cycles.items())


async def kept(runtime: Runtime, campaign_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    return (await rows(runtime, "SELECT depth, nodes, new_customers, sharers FROM analytics_depths "
                       "WHERE campaign_id = :c ORDER BY depth", c=campaign_id),
            [(int(a), int(n)) for a, n in await rows(runtime, "SELECT start_seconds, edges FROM analytics_cycles "
                                                     "WHERE campaign_id = :c ORDER BY start_seconds", c=campaign_id)])


async def test_summaries_equal_a_recount_of_the_tree(mall: Mall, runtime: Runtime) -> None:
    """Folded one event at a time, the per-depth rows and the histogram equal a count over the edges, also when a
    root stops being one: K registers through X, who shared nothing, and later helps through A's link, so X becomes
    A's child (A's tree gains X, X's first-level child K stays at depth 1). And L helps through A's link three days
    in: a cycle time counted by the hour (73 h 20 min → the 73-hour bucket)."""
    h = await draw_cascade(runtime, mall.merchant_id)
    async with runtime.sessionmaker() as session:
        h.session = session
        await h.add_people(["K", "X", "L"])
        await h.event("register", 400, "K", "X")
        await h.help(500, "X", "A", 499, 0)
        await h.help(4400, "L", "A", 499, 0)
        await session.commit()
    await catch_up(runtime, chunk=1, now=T0 + timedelta(days=4))
    depths, cycles = await kept(runtime, h.campaign_id)
    assert (depths, cycles) == await recount(runtime, h.campaign_id)
    assert depths[0] == (0, 1, 0, 2)  # A alone: X became a child
    assert (4400 * 60 // 3600 * 3600, 1) in cycles
    async with runtime.sessionmaker() as session:
        metrics = await service.campaign_metrics(session, mall.merchant_id, h.campaign_id)
    every = sorted(s for (s,) in await rows(runtime, "SELECT cycle_seconds FROM analytics_edges WHERE campaign_id = :c "
                                            "AND cycle_seconds IS NOT NULL", c=h.campaign_id))
    exact = [every[rules.nearest_rank(q, len(every)) - 1] for q in (0.5, 0.9)]
    assert [metrics.cycle_median_seconds, metrics.cycle_p90_seconds] == [rules.cycle_bucket(s) for s in exact]


async def test_cycle_buckets_in_sql_as_in_rules(runtime: Runtime) -> None:
    """The fold's SQL spelling of the buckets floors like Python, negatives and the 48-hour edge included."""
    values = [-3601, -61, -60, -59, -1, 0, 59, 60, 2100, 172_799, 172_800, 172_801, 176_399, 176_400, 264_000]
    sql = ", ".join(repository.CYCLE_BUCKET.format(c=f"CAST({v} AS INTEGER)") for v in values)
    assert list((await rows(runtime, f"SELECT {sql}"))[0]) == [rules.cycle_bucket(v) for v in values]
