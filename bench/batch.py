"""Benchmark: the worker's batch jobs at scale on PostgreSQL, each through the project's own code.

    python -m bench.batch [--groups 100000] [--orders 500000] [--members 1000000] [--skip-dividend]

1. The expiry sweep of `--groups` groups that did not fill (one paid leader each): the sweep closes them and queues
   a full refund for every member, chunk by chunk (groupbuy.settle_expired).
2. Commission settlement: `--orders` received orders past their after-sale window, each with a level-1 and a level-2
   commission (2 × orders ledger entries): the worker's own ticks complete the orders and settle their commission.
3. The monthly dividend over `--members` members (bench.dividend).

Each step loads its rows with set-based SQL first, then times the project's code alone, prints rows per second and
how many transactions it took, and checks what must hold afterwards (every group failed and refunded exactly what
was paid; every entry settled and the ledger's sum unchanged). Nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from bench import dividend
from bench.server import test_deployment_settings
from fissionmall.campaigns.groupbuy import service as groupbuy
from fissionmall.composition import build_runtime
from fissionmall.config import load_settings
from fissionmall.core.clock import FrozenClock
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import in_chunks
from fissionmall.jobs.worker import tick
from fissionmall.migrate import upgrade_async

NOW = datetime(2026, 11, 20, 4, tzinfo=UTC)
console = Console()


async def sql(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def fetch(url: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return list(await connection.fetch(query))
    finally:
        await connection.close()


def load_shop(customers: int) -> list[str]:
    """One merchant, `customers` customers, one product with one SKU, and a group campaign (pairs) on it."""
    return [
        """INSERT INTO merchants (slug, name, payment_timeout_minutes, auto_receive_days, after_sale_days,
                                 shipping_fee_fen, coupons_on_campaign_orders, restore_coupons_on_refund, created_at)
           VALUES ('bench', 'bench', 30, 10, 7, 0, false, true, now())""",
        f"""INSERT INTO customers (merchant_id, openid, nickname, avatar_url, depth, created_at)
            SELECT 1, 'c' || g, 'c' || g, '', 0, now() FROM generate_series(1, {customers}) g""",
        """INSERT INTO products (merchant_id, title, subtitle, description, status, created_at)
           VALUES (1, '茶', '', '', 'on_sale', now())""",
        """INSERT INTO skus (merchant_id, product_id, code, name, price_fen, stock, active)
           VALUES (1, 1, 'tea', '茶', 1000, 1000000, true)""",
        """INSERT INTO campaigns (merchant_id, kind, name, status, settings, product_id, starts_at, ends_at, sold,
                                 created_at)
           VALUES (1, 'group', '两人团', 'active',
                   '{"product_id": 1, "skus": [{"sku_id": 1, "group_price_fen": 800}], "group_size": 2}',
                   1, now() - interval '30 days', now() + interval '30 days', 0, now())""",
    ]


def load_expired_groups(groups: int) -> list[str]:
    """`groups` groups that expired with their leader alone, each leader's order paid in full."""
    opened = f"'{NOW.isoformat()}'::timestamptz - interval '2 days'"
    return [
        f"""INSERT INTO orders (merchant_id, customer_id, order_no, kind, campaign_id, status, items_fen, total_fen,
                                paid_fen, refund_reserved_fen, refunded_fen, address, note, created_at, paid_at)
            SELECT 1, g, 'g' || g, 'group', 1, 'paid', 800, 800, 800, 0, 0, '{{}}', '',
                   {opened}, {opened}
            FROM generate_series(1, {groups}) g""",
        f"""INSERT INTO buying_groups (merchant_id, campaign_id, leader_id, size, paid_count, status, opened_at,
                                       expires_at)
            SELECT 1, 1, g, 2, 1, 'open', {opened},
                   '{NOW.isoformat()}'::timestamptz - interval '1 day' + (g % 1000) * interval '1 second'
            FROM generate_series(1, {groups}) g""",
        f"""INSERT INTO group_orders (order_id, merchant_id, campaign_id, group_id, customer_id, is_leader,
                                      unit_price_fen, quantity, seat_no, active)
            SELECT g, 1, 1, g, g, true, 800, 1, 1, true FROM generate_series(1, {groups}) g""",
        "ANALYZE",
    ]


def load_commission(orders: int, customers: int) -> list[str]:
    """`orders` orders received and past their after-sale window, each with a frozen level-1 and level-2 commission,
    and the merchant's distribution switched on."""
    first = 10_000_000
    return [
        """INSERT INTO distribution_configs (merchant_id, enabled, grades, auto_approve, self_purchase,
                                            withdraw_min_fen, withdraw_review, updated_at)
           VALUES (1, true, '[{"grade": 1, "name": "分销员", "level1_bp": 1000, "level2_bp": 500}]', true, false,
                   100, true, now())""",
        f"""INSERT INTO orders (id, merchant_id, customer_id, order_no, kind, status, items_fen, total_fen, paid_fen,
                                refund_reserved_fen, refunded_fen, address, note, created_at, paid_at, received_at,
                                due_at)
            SELECT {first} + g, 1, 1 + g % {customers}, 'r' || g, 'normal', 'received', 3000, 3000, 3000, 0, 0, '{{}}',
                   '', now(), now(), now(), '{NOW.isoformat()}'::timestamptz - interval '1 hour'
            FROM generate_series(1, {orders}) g""",
        f"""INSERT INTO commission_entries (merchant_id, beneficiary_id, order_id, buyer_id, level, kind, amount_fen,
                                            rate_bp, base_fen, status, entry_key, created_at)
            SELECT 1, 1 + (g * 7 + level) % {customers}, {first} + g, 1 + g % {customers}, level, 'commission',
                   CASE level WHEN 1 THEN 300 ELSE 150 END, CASE level WHEN 1 THEN 1000 ELSE 500 END, 3000, 'frozen',
                   'c:' || ({first} + g) || ':' || level, now()
            FROM generate_series(1, {orders}) g CROSS JOIN (VALUES (1), (2)) AS levels(level)""",
        "ANALYZE",
    ]


async def timed(label: str, total: int, run: Callable[[Callable[[int], None]], Awaitable[int]]) -> tuple[int, float]:
    """Run with a progress bar over `total` rows: (transactions, seconds)."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=total)
        started = time.perf_counter()
        transactions = await run(lambda rows: progress.advance(task, rows))
        return transactions, time.perf_counter() - started


async def expire_groups(runtime: Runtime, advance: Callable[[int], None]) -> int:
    """The sweep, one chunk per transaction, as the worker runs it."""
    chunks = 0

    async def step(session: AsyncSession) -> int:
        nonlocal chunks
        done = await groupbuy.settle_expired(session, runtime)
        chunks += 1
        advance(done)
        return done

    await in_chunks(runtime, step, groupbuy.CHUNK)
    return chunks


async def settle_commission(runtime: Runtime, url: str, entries: int, advance: Callable[[int], None]) -> int:
    """The worker's own ticks (sweeps, then jobs) until every entry has settled."""
    ticks, settled = 0, 0
    while settled < entries:
        await tick(runtime, max_batches=1000)
        ticks += 1
        now_settled = (await fetch(url, "SELECT count(*) FROM commission_entries WHERE status = 'settled'"))[0][0]
        advance(now_settled - settled)
        settled = now_settled
    return ticks


async def main(url: str, groups: int, orders: int, members: int, skip_dividend: bool) -> None:
    customers = max(groups, 100_000)
    with console.status(f"creating the database, loading {groups:,} groups and {orders:,} orders …"):
        await dividend.fresh_database(url)
        await upgrade_async(url)
        await sql(url, *load_shop(customers), *load_expired_groups(groups), *load_commission(orders, customers))
    settings = load_settings(database_url=url, **{k.lower(): v for k, v in test_deployment_settings().items()})
    runtime = build_runtime(settings, clock=FrozenClock(NOW))
    table = Table(title="Batch jobs on PostgreSQL (2 cores)")
    for column in ("job", "rows", "transactions", "seconds", "rows/s", "checked"):
        table.add_column(column, justify="right")
    problems: list[str] = []
    try:
        chunks, seconds = await timed("expiring groups", groups, lambda advance: expire_groups(runtime, advance))
        [(failed, refunds, refunded, paid, jobs)] = await fetch(
            url,
            """
            SELECT (SELECT count(*) FROM buying_groups WHERE status = 'failed'),
                   (SELECT count(*) FROM refunds WHERE status = 'processing'),
                   (SELECT coalesce(sum(amount_fen), 0) FROM refunds),
                   (SELECT coalesce(sum(paid_fen), 0) FROM orders WHERE kind = 'group'),
                   (SELECT count(*) FROM outbox_jobs WHERE kind = 'payments.refund')""",
        )
        ok = failed == refunds == jobs == groups and refunded == paid
        problems += [] if ok else [f"groups: {failed} failed, {refunds} refunds, {jobs} jobs, {refunded} of {paid}"]
        table.add_row(
            "group expiry sweep (refunds queued)",
            f"{groups:,}",
            f"{chunks:,}",
            f"{seconds:.1f}",
            f"{groups / seconds:,.0f}",
            "ok" if ok else "MISMATCH",
        )

        await sql(url, "DELETE FROM outbox_jobs")
        runtime.clock.advance(seconds=1)  # type: ignore[attr-defined]
        entries = 2 * orders
        [(before,)] = await fetch(url, "SELECT sum(amount_fen) FROM commission_entries")
        ticks, seconds = await timed(
            "settling commission", entries, lambda advance: settle_commission(runtime, url, entries, advance)
        )
        [(settled, total, completed)] = await fetch(
            url,
            """
            SELECT (SELECT count(*) FROM commission_entries WHERE status = 'settled'),
                   (SELECT sum(amount_fen) FROM commission_entries),
                   (SELECT count(*) FROM orders WHERE status = 'completed')""",
        )
        ok = settled == entries and total == before and completed == orders
        problems += [] if ok else [f"settlement: {settled} settled, sum {total} (was {before})"]
        table.add_row(
            "complete orders + settle commission (worker ticks)",
            f"{entries:,}",
            f"{ticks:,} ticks",
            f"{seconds:.1f}",
            f"{entries / seconds:,.0f}",
            "ok" if ok else "MISMATCH",
        )
    finally:
        await runtime.close()
    console.print(table)
    if not skip_dividend:
        await dividend.main(url.rsplit("/", 1)[0] + "/fm_bench_dividend", members)
    if problems:
        console.print("[bold red]" + "; ".join(problems))
        raise SystemExit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--skip-dividend", action="store_true")
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/fm_bench_batch")
    arguments = parser.parse_args()
    asyncio.run(
        main(arguments.database_url, arguments.groups, arguments.orders, arguments.members, arguments.skip_dividend)
    )
