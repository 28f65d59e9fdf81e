"""Benchmark: campaign analytics over 1,000,000 events of one campaign.

    .venv/bin/python -m bench.analytics [--events 1000000] [--requests 30]
                                        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/fissionmall_analytics_bench]

Creates the PostgreSQL database anew and migrates it, adds one merchant and one campaign, and COPYs `--events`
events into the log: a Galton–Watson cascade (each adopter shares once, four friends open the link, each orders
and pays with probability 0.24 — a first purchase) grown from enough roots to reach the count, plus a refund on
one order in twenty and a 1-yuan help reward on one click in ten. Then a full rebuild of the analytics tables
(`analytics.service.rebuild`, as `fissionmall analytics rebuild` runs it; goal under a minute), and the campaign
metrics answered in-process from the incremental tables `--requests` times (goal under 200 ms). Nothing here is a
test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bench import dataset
from bench.database import Postgres

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/fissionmall_analytics_bench"
INVITES, CONVERSION = 4, 0.24
console = Console(width=None if sys.stdout.isatty() else 150)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a PostgreSQL database, dropped and created anew")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seed", type=int, default=18)
    return parser.parse_args()


def cascade(target: int, start: datetime, rng: random.Random) -> list[tuple[Any, ...]]:
    """Event rows (id, merchant, kind, campaign, actor, inviter, depth, subject type, subject id, data, at)."""
    rows: list[tuple[Any, ...]] = []
    ids = iter(range(1, 10**12))
    people = iter(range(1, 10**12))

    def add(kind: str, minutes: float, actor: int, inviter: int | None, subject: tuple[str, int], depth: int,
            campaign: bool = True, **data: Any) -> None:
        rows.append((next(ids), 1, kind, 1 if campaign else None, actor, inviter, depth, subject[0], subject[1],
                     json.dumps(data), start + timedelta(minutes=minutes)))

    orders = iter(range(1, 10**12))
    while len(rows) < target:
        generation, depth, clock = [next(people)], 0, rng.uniform(0, 30 * 24 * 60)
        while generation and len(rows) < target:
            following = []
            for person in generation:
                share = next(ids)
                add("share", clock, person, None, ("share", share), depth)
                for _ in range(INVITES):
                    friend = next(people)
                    at = clock + rng.expovariate(1 / 90)
                    add("click", at, friend, person, ("share", share), depth + 1)
                    if rng.random() < 0.1:
                        add("help", at + 1, friend, person, ("bargain", share), depth + 1, reward_fen=100)
                    if rng.random() < CONVERSION:
                        order = next(orders)
                        add("order", at + 5, friend, person, ("order", order), depth + 1, total_fen=3990)
                        add("first_purchase", at + 8, friend, person, ("order", order), 0, campaign=False)
                        add("pay", at + 8, friend, person, ("order", order), 0, campaign=False, amount_fen=3990,
                            stage="full")
                        if rng.random() < 0.05:
                            add("refund_requested", at + 600, friend, person, ("order", order), 0, campaign=False,
                                amount_fen=3990, by="shopper")
                        following.append(friend)
            generation, depth, clock = following, depth + 1, clock + 120
    rows.sort(key=lambda r: r[-1])
    return [(i + 1, *r[1:]) for i, r in enumerate(rows[:target])]


async def load(url: str, n: int, seed: int) -> None:
    with console.status("creating and migrating the bench database …"):
        await dataset.create(url)
    pool = await asyncpg.create_pool(url.replace("postgresql+asyncpg", "postgresql"), min_size=1, max_size=2)
    try:
        now = datetime.now(UTC)
        await dataset._merchant(Postgres(pool), now)
        await pool.execute("INSERT INTO campaigns (merchant_id, kind, name, status, settings, starts_at, ends_at, sold,"
                           " created_at) VALUES (1, 'bargain', '百万事件砍价', 'active', '{}', $1, $2, 0, $1)",
                           now - timedelta(days=40), now + timedelta(days=10))
        began = time.perf_counter()
        with console.status(f"building {n:,} events …"):
            rows = cascade(n, now - timedelta(days=35), random.Random(seed))
        with console.status("COPY into events …"):
            async with pool.acquire() as connection:
                await connection.copy_records_to_table("events", records=rows, columns=[
                    "id", "merchant_id", "kind", "campaign_id", "actor_id", "inviter_id", "depth", "subject_type",
                    "subject_id", "data", "occurred_at"])
                await connection.execute("SELECT setval(pg_get_serial_sequence('events', 'id'), $1)", len(rows))
                await connection.execute("INSERT INTO analytics_watermarks (name, last_event_id) VALUES ('events', $1)",
                                         len(rows))
        with console.status("VACUUM ANALYZE …"):
            await pool.execute("VACUUM ANALYZE")
        console.print(f"loaded {len(rows):,} events in {time.perf_counter() - began:.1f} s")
    finally:
        await pool.close()


async def main(options: argparse.Namespace) -> int:
    if not options.database_url.startswith("postgresql"):
        console.print("[red]this benchmark runs on PostgreSQL[/]")
        return 2
    await load(options.database_url, options.events, options.seed)
    from fissionmall.analytics import service
    from fissionmall.mechanics import install

    install()
    engine = create_async_engine(options.database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        began = time.perf_counter()
        async with sessions() as session:
            events, _ = await service.rebuild(session, None)
            await session.commit()
        rebuild_s = time.perf_counter() - began
        async with sessions() as session:
            await session.execute(__import__("sqlalchemy").text("ANALYZE"))
            await session.commit()
        timings = []
        metrics = None
        for i in range(options.requests + 3):
            began = time.perf_counter()
            async with sessions() as session:
                metrics = await service.campaign_metrics(session, 1, 1)
            if i >= 3:
                timings.append((time.perf_counter() - began) * 1000)
    finally:
        await engine.dispose()
    assert metrics is not None
    table = Table("measure", "value", "goal")
    table.add_row("events folded", f"{events:,}", "")
    table.add_row("full rebuild", f"{rebuild_s:.1f} s", "< 60 s")
    table.add_row("campaign metrics p50", f"{statistics.median(timings):.1f} ms", "< 200 ms")
    table.add_row("campaign metrics p95", f"{statistics.quantiles(timings, n=20)[-1]:.1f} ms", "")
    table.add_row("campaign metrics max", f"{max(timings):.1f} ms", "")
    table.add_row("sharers / new customers / K", f"{metrics.counts.sharers:,} / {metrics.counts.new_customers:,} / "
                  f"{metrics.k:.3f}", f"R = {INVITES * CONVERSION:.2f}")
    table.add_row("tree edges (virality computed?)", f"{sum(metrics.depth_distribution.values()):,} nodes "
                  f"({'yes' if metrics.virality_computed else 'no, above the cap'})", "")
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(arguments())))
