"""Benchmark: the monthly dividend pool over a million members on PostgreSQL.

    python -m bench.dividend [--members 1000000] [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/fm_bench_dividend]

Creates its own database, loads one merchant with N customers and one paid order each in the month (spends
spread over every activity level), then times computing the shares (one set-based statement) and crediting
them (chunks of 50,000, each its own transaction), and checks that the shares sum to the pool exactly and every
wallet holds its share. Prints rows per second; nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bench.server import test_deployment_settings
from fissionmall.composition import build_runtime
from fissionmall.config import load_settings
from fissionmall.core.clock import FrozenClock
from fissionmall.loyalty.dividend import repository, service, tasks
from fissionmall.migrate import upgrade_async

MONTH = "2026-10"
LEVELS = [
    {"min_spend_fen": 10_000, "points": 100},
    {"min_spend_fen": 89_900, "points": 3596},
    {"min_spend_fen": 179_800, "points": 7192},
    {"min_spend_fen": 359_600, "points": 14_384},
]


async def fresh_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def load(url: str, members: int) -> None:
    """One merchant, `members` customers, one paid order each in October 2026 (a spread of spends)."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute("""
            INSERT INTO merchants (slug, name, payment_timeout_minutes, auto_receive_days, after_sale_days,
                                   shipping_fee_fen, coupons_on_campaign_orders, restore_coupons_on_refund, created_at)
            VALUES ('bench', 'bench', 30, 10, 7, 0, false, true, now())""")
        await connection.execute(f"""
            INSERT INTO customers (merchant_id, openid, nickname, avatar_url, depth, created_at)
            SELECT 1, 'm' || g, 'm' || g, '', 0, now() FROM generate_series(1, {members}) g""")
        await connection.execute(f"""
            INSERT INTO orders (merchant_id, customer_id, order_no, kind, status, items_fen, total_fen, paid_fen,
                                refund_reserved_fen, refunded_fen, address, note, created_at, paid_at)
            SELECT 1, g, 'b' || g, 'normal', 'completed', s, s, s, 0, 0, '{{}}', '', now(),
                   '2026-10-15T04:00:00+00'
            FROM (SELECT g, 5000 + (g::bigint * 7919) % 400000 AS s FROM generate_series(1, {members}) g) spends""")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def main(url: str, members: int) -> None:
    console = Console()
    with console.status(f"creating the database and loading {members:,} members …"):
        await fresh_database(url)
        await upgrade_async(url)
        started = time.perf_counter()
        await load(url, members)
        loaded = time.perf_counter() - started
    settings = load_settings(database_url=url, **{k.lower(): v for k, v in test_deployment_settings().items()})
    runtime = build_runtime(settings, clock=FrozenClock(datetime(2026, 11, 2, 4, tzinfo=UTC)))
    try:
        async with runtime.sessionmaker() as session:
            await repository.save_plan(
                session,
                1,
                enabled=True,
                pool_bp=500,
                levels=LEVELS,
                threshold_points=100,
                pay_day=1,
                updated_at=runtime.clock.now(),
            )
            await session.commit()
        started = time.perf_counter()
        async with runtime.sessionmaker() as session:
            run = await service.compute(session, runtime.clock.now(), 1, MONTH)
            await session.commit()
        computed = time.perf_counter() - started
        started = time.perf_counter()
        with Progress(
            TextColumn("crediting"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,}"),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("credit", total=run.members)
            credited = await tasks.credit(runtime, run.id, progress=lambda n: progress.advance(task, n))
        crediting = time.perf_counter() - started
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            shares = await connection.fetchval("SELECT sum(amount_fen) FROM dividend_shares WHERE run_id = $1", run.id)
            wallets = await connection.fetchval("SELECT sum(balance_fen) FROM wallets")
            entries = await connection.fetchval("SELECT count(*) FROM wallet_entries WHERE kind = 'dividend'")
        finally:
            await connection.close()
    finally:
        await runtime.close()
    table = Table(title=f"Dividend pool over {members:,} members (PostgreSQL)")
    for column in ("step", "rows", "seconds", "rows/s"):
        table.add_column(column, justify="right")
    table.add_row("load (SQL)", f"{2 * members:,}", f"{loaded:.1f}", f"{2 * members / loaded:,.0f}")
    table.add_row("compute shares", f"{run.members:,}", f"{computed:.1f}", f"{run.members / computed:,.0f}")
    table.add_row("credit wallets", f"{credited:,}", f"{crediting:.1f}", f"{credited / crediting:,.0f}")
    table.add_row(
        "total (compute + credit)",
        f"{run.members:,}",
        f"{computed + crediting:.1f}",
        f"{run.members / (computed + crediting):,.0f}",
    )
    console.print(table)
    exact = shares == run.pool_fen == wallets
    console.print(
        f"pool {run.pool_fen:,} fen of net sales {run.net_sales_fen:,}; shares sum {shares:,}; wallets sum "
        f"{wallets:,}; {entries:,} credit entries: {'exact to the fen' if exact else 'MISMATCH'}"
    )
    if not exact:
        raise SystemExit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/fm_bench_dividend")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database_url, arguments.members))
