"""Benchmark: how fast the merchant console's pages answer with 100,000 customers and 100,000 orders.

    .venv/bin/python -m bench.console_pages [--requests 40] [--customers 100000] [--orders 100000]
                                            [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/fissionmall_console_bench]

Creates the PostgreSQL database anew (dropped first) and migrates it, loads one merchant (bench/dataset.py) with
`--customers` customers who joined over 90 days (four in ten brought by an earlier customer, so referral trees run
deep) and `--orders` orders spread over the same 90 days in every status (unpaid, shipping, shipped, received,
completed, cancelled, refunds asked for and done), with their lines, price adjustments, payments and refunds, all
by COPY; then VACUUM ANALYZE. Starts `fissionmall serve` as in production, signs in to the console as the owner
through its sign-in form, and requests each console page `--requests` times over HTTP, one at a time, after a few
unmeasured requests each. Prints p50 / p95 / max per page; the goal is p95 under 300 ms. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from bench import dataset
from bench.server import System

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/fissionmall_console_bench"
DAYS = 90
GOAL_MS = 300.0
WARM_UP = 3
console = Console(width=None if sys.stdout.isatty() else 150)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.console_pages", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a PostgreSQL database, dropped and created anew")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40, help="measured requests per page")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (requests are sequential)")
    parser.add_argument("--seed", type=int, default=17)
    return parser.parse_args()


# --- the data ---------------------------------------------------------------------------------------------------

@dataclass
class Loaded:
    """What the page requests pick from: ids and search terms that exist."""

    order_ids: list[int] = field(default_factory=list)
    order_nos: list[str] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)
    biggest_inviter: int = 0


def _status(age: timedelta, roll: float) -> str:
    """Young orders are still moving; old ones have mostly completed."""
    if age < timedelta(hours=1):
        table = [("pending_payment", .5), ("to_ship", .4), ("cancelled", .1)]
    elif age < timedelta(days=1):
        table = [("to_ship", .6), ("shipped", .2), ("cancelled", .12), ("refunding", .05), ("pending_payment", .03)]
    elif age < timedelta(days=10):
        table = [("shipped", .45), ("received", .2), ("to_ship", .1), ("cancelled", .12), ("refunding", .03),
                 ("refunded", .1)]
    else:
        table = [("completed", .8), ("cancelled", .1), ("refunded", .07), ("received", .03)]
    for status, share in table:
        if roll < share:
            return status
        roll -= share
    return table[-1][0]


async def copy(connection: asyncpg.Connection, name: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    await connection.copy_records_to_table(name, records=[tuple(r[c] for c in columns) for r in rows],
                                           columns=columns)
    await connection.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")


def customers(count: int, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    start = now - timedelta(days=DAYS)
    moments = sorted(start + timedelta(seconds=rng.uniform(0, DAYS * 86400)) for _ in range(count))
    rows: list[dict[str, Any]] = []
    for n, joined in enumerate(moments, start=1):
        inviter = rng.randint(max(1, n - 5000), n - 1) if n > 1 and rng.random() < 0.4 else None
        rows.append(dict(id=n, merchant_id=1, openid=f"bench-{n}", unionid=None,
                         nickname=f"顾客{n}" if n % 7 else f"小{'红橙黄绿青蓝紫'[n % 7]}{n}", avatar_url="",
                         inviter_id=inviter, acquired_by_share_id=None,
                         depth=rows[inviter - 1]["depth"] + 1 if inviter else 0, signup_device_id=f"dev-{n}",
                         signup_ip="10.0.0.1", first_paid_at=None, created_at=joined))
    return rows


def orders(count: int, people: list[dict[str, Any]], now: datetime, rng: random.Random) -> dict[str, list[Any]]:
    start = now - timedelta(days=DAYS)
    moments = sorted(start + timedelta(seconds=rng.uniform(0, DAYS * 86400)) for _ in range(count))
    made: dict[str, list[Any]] = {"orders": [], "order_items": [], "order_adjustments": [], "payments": [],
                                  "refunds": []}
    for n, placed in enumerate(moments, start=1):
        buyer = people[rng.randrange(len(people))]
        status = _status(now - placed, rng.random())
        lines = []
        for product in rng.sample(range(1, dataset.PRODUCTS + 1), rng.choice((1, 1, 1, 2))):
            k = rng.choice((1, 2))
            lines.append(dict(id=len(made["order_items"]) + len(lines) + 1, merchant_id=1, order_id=n,
                              product_id=product, sku_id=dataset.sku_of(product, k),
                              title=f"压测商品 {product} · 规格 {k}", unit_price_fen=dataset.price_of(product, k),
                              quantity=rng.choice((1, 1, 2, 3))))
        made["order_items"].extend(lines)
        items_fen = sum(line["unit_price_fen"] * line["quantity"] for line in lines)
        adjustments = []
        if rng.random() < 0.25:
            adjustments.append(("coupon", "满 100 减 10 券", -1000 if items_fen >= 10000 else -300))
        if rng.random() < 0.05:
            adjustments.append(("merchant_adjustment", "老顾客优惠", -rng.randint(1, 20) * 100))
        for kind, name, amount in adjustments:
            made["order_adjustments"].append(dict(
                id=len(made["order_adjustments"]) + 1, merchant_id=1, order_id=n, kind=kind, name=name,
                amount_fen=amount, source_id=None, created_by=None, line_shares=None))
        total = max(0, items_fen + sum(a[2] for a in adjustments))
        paid = status not in ("pending_payment", "cancelled") and total > 0
        paid_at = placed + timedelta(minutes=rng.randint(1, 15)) if paid else None
        order_no = f"{placed:%y%m%d%H%M%S}{n:010d}"
        shipped_at = placed + timedelta(hours=rng.randint(2, 30)) \
            if status in ("shipped", "received", "completed") else None
        received_at = shipped_at + timedelta(days=rng.randint(1, 5)) \
            if shipped_at and status in ("received", "completed") else None
        refunded = reserved = 0
        if paid and (status in ("refunded", "refunding") or (status == "completed" and rng.random() < 0.05)):
            amount = total if status == "refunded" else max(1, total // 2)
            done = status != "refunding"
            made["refunds"].append(dict(
                id=len(made["refunds"]) + 1, merchant_id=1, order_id=n, seq=1, refund_no=f"{order_no}R1",
                out_trade_no=order_no, amount_fen=amount, sku_id=None, line_shares=None, reason="不想要了",
                status="succeeded" if done else "requested", requested_by="customer",
                created_at=placed + timedelta(days=1), decided_at=placed + timedelta(days=1, hours=2) if done else None,
                succeeded_at=placed + timedelta(days=1, hours=3) if done else None))
            reserved, refunded = amount, amount if done else 0
        if paid:
            made["payments"].append(dict(
                id=len(made["payments"]) + 1, merchant_id=1, order_id=n, stage="full", provider="sandbox",
                out_trade_no=order_no, amount_fen=total, status="succeeded", transaction_id=f"T{order_no}",
                created_at=placed, paid_at=paid_at))
            if buyer["first_paid_at"] is None or paid_at < buyer["first_paid_at"]:  # type: ignore[operator]
                buyer["first_paid_at"] = paid_at
        made["orders"].append(dict(
            id=n, merchant_id=1, store_id=None, customer_id=buyer["id"], order_no=order_no, kind="normal",
            campaign_id=None, status=status, resume_status="completed" if status == "refunding" else None,
            items_fen=items_fen, total_fen=total, deposit_fen=None, paid_fen=total if paid else 0,
            refund_reserved_fen=reserved, refunded_fen=refunded,
            address=json.dumps({"name": buyer["nickname"][:30], "phone": "13800138000", "region": "上海市",
                                "detail": f"南京西路 {n % 999 + 1} 号"}, ensure_ascii=False),
            note="", inviter_id=buyer["inviter_id"], share_id=None,
            carrier="顺丰速运" if shipped_at else None, tracking_no=f"SF{n:010d}" if shipped_at else None,
            due_at=placed + timedelta(minutes=30) if status == "pending_payment" else None, created_at=placed,
            paid_at=paid_at, shipped_at=shipped_at, received_at=received_at,
            closed_at=placed + timedelta(minutes=30) if status == "cancelled" else None, payment_started_at=None))
    return made


async def load(url: str, customer_count: int, order_count: int, seed: int) -> Loaded:
    with console.status("creating and migrating the bench database …"):
        await dataset.create(url)
    db = await asyncpg_pool(url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    began = time.perf_counter()
    try:
        from bench import database
        handle = database.Postgres(db)
        await dataset._merchant(handle, now)  # the merchant, its owner, categories, products and SKUs
        with console.status("building rows …"):
            people = customers(customer_count, now, rng)
            made = orders(order_count, people, now, rng)
        with console.status("COPY into customers, orders, their lines, adjustments, payments and refunds …"):
            async with db.acquire() as connection:
                await copy(connection, "customers", people)
                for name in ("orders", "order_items", "order_adjustments", "payments", "refunds"):
                    if made[name]:
                        await copy(connection, name, made[name])
        with console.status("VACUUM ANALYZE …"):
            await db.execute("VACUUM ANALYZE")
        counts = {name: len(rows) for name, rows in made.items()}
        console.print(f"loaded in {time.perf_counter() - began:.1f} s: {len(people):,} customers, "
                      + ", ".join(f"{n:,} {name}" for name, n in counts.items()))
        biggest = await db.fetchval("SELECT inviter_id FROM customers WHERE inviter_id IS NOT NULL "
                                    "GROUP BY inviter_id ORDER BY count(*) DESC LIMIT 1")
        return Loaded(order_ids=[o["id"] for o in made["orders"]], order_nos=[o["order_no"] for o in made["orders"]],
                      customer_ids=[c["id"] for c in people], biggest_inviter=int(biggest or 1))
    finally:
        await db.close()


async def asyncpg_pool(url: str) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(url.replace("postgresql+asyncpg://", "postgresql://"), min_size=1, max_size=2)
    assert pool is not None
    return pool


# --- the requests -----------------------------------------------------------------------------------------------

@dataclass
class Page:
    name: str
    paths: Sequence[str]
    """Requested in turn (a page of one order or customer asks for a different one each time)."""
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bytes: int = 0


OTHER_PAGES = ("/console/products", "/console/campaigns", "/console/campaigns/new", "/console/distribution",
               "/console/distribution/distributors", "/console/distribution/commissions",
               "/console/distribution/withdrawals", "/console/loyalty", "/console/loyalty/points",
               "/console/loyalty/tasks", "/console/loyalty/dividend", "/console/loyalty/preset", "/console/counter",
               "/console/reviews", "/console/staff", "/console/audit")
"""The rest of the menu, opened over the same database (their own lists are small here)."""


def pages(loaded: Loaded, rng: random.Random, n: int) -> list[Page]:
    def some(ids: Sequence[Any]) -> list[Any]:
        return [rng.choice(ids) for _ in range(n + WARM_UP)]

    week = (datetime.now(UTC) - timedelta(days=60)).date()
    middle = loaded.order_ids[len(loaded.order_ids) // 2]
    return [
        Page("dashboard /console", ["/console"]),
        Page("orders: all, first page", ["/console/orders"]),
        Page("orders: 待发货 tab", ["/console/orders?tab=to_ship"]),
        Page("orders: 退款 tab, a deep page", [f"/console/orders?tab=refund&cursor={middle}"]),
        Page("orders: by order number", [f"/console/orders?no={no}" for no in some(loaded.order_nos)]),
        Page("orders: by customer nickname", [f"/console/orders?customer=顾客{c}" for c in some(loaded.customer_ids)]),
        Page("orders: by customer id", [f"/console/orders?customer={c}" for c in some(loaded.customer_ids)]),
        Page("orders: a week 60 days ago", [f"/console/orders?since={week}&until={week + timedelta(days=6)}"]),
        Page("orders: 已完成 + days + nickname", [f"/console/orders?tab=done&customer=小红&since={week}"]),
        Page("order detail", [f"/console/orders/{i}" for i in some(loaded.order_ids)]),
        Page("customers: first page", ["/console/customers"]),
        Page("customers: search nickname", [f"/console/customers?q=顾客{c}" for c in some(loaded.customer_ids)]),
        Page("customers: a deep page", [f"/console/customers?cursor={len(loaded.customer_ids) // 3}"]),
        Page("customer detail", [f"/console/customers/{c}" for c in some(loaded.customer_ids)]),
        Page("customer detail: biggest inviter", [f"/console/customers/{loaded.biggest_inviter}"]),
        *[Page(f"{path.removeprefix('/console/')}", [path]) for path in OTHER_PAGES],
    ]


async def sign_in(client: httpx.AsyncClient) -> None:
    answer = await client.post("/console/login", data={"merchant_slug": dataset.MERCHANT, "username": dataset.OWNER,
                                                       "password": dataset.OWNER_PASSWORD, "next": "/console"})
    if answer.status_code != 303:
        raise RuntimeError(f"console sign-in refused: {answer.status_code} {answer.text[:200]}")


async def measure(client: httpx.AsyncClient, page: Page, n: int) -> None:
    for i in range(n + WARM_UP):
        path = page.paths[i % len(page.paths)]
        began = time.perf_counter()
        answer = await client.get(path)
        elapsed = (time.perf_counter() - began) * 1000
        if i >= WARM_UP:
            page.latencies_ms.append(elapsed)
            page.statuses[answer.status_code] = page.statuses.get(answer.status_code, 0) + 1
            page.bytes = max(page.bytes, len(answer.content))


async def export_once(client: httpx.AsyncClient, query: str) -> tuple[float, int, int]:
    began = time.perf_counter()
    answer = await client.get(f"/console/orders/export.csv?{query}")
    return (time.perf_counter() - began) * 1000, answer.status_code, answer.text.count("\n") - 1


def quantile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def show(measured: list[Page], exports: list[tuple[str, float, int, int]]) -> None:
    table = Table(title=f"console pages over HTTP, one request at a time (goal: p95 < {GOAL_MS:.0f} ms)")
    for column in ("page", "requests", "p50 ms", "p95 ms", "max ms", "mean ms", "statuses", "largest"):
        table.add_column(column, justify="left" if column in ("page", "statuses") else "right")
    for page in measured:
        p95 = quantile(page.latencies_ms, .95)
        table.add_row(page.name, str(len(page.latencies_ms)), f"{statistics.median(page.latencies_ms):.1f}",
                      f"[{'red' if p95 >= GOAL_MS else 'green'}]{p95:.1f}[/]", f"{max(page.latencies_ms):.1f}",
                      f"{statistics.fmean(page.latencies_ms):.1f}",
                      ", ".join(f"{status}: {k}" for status, k in sorted(page.statuses.items())),
                      f"{page.bytes / 1024:.0f} KiB")
    console.print(table)
    for name, ms, status, rows in exports:
        console.print(f"CSV export ({name}): {rows:,} rows in {ms:.0f} ms (status {status})")
    slow = [p.name for p in measured if quantile(p.latencies_ms, .95) >= GOAL_MS]
    failed = [p.name for p in measured if set(p.statuses) != {200}]
    console.print(f"[bold {'red' if slow else 'green'}]{len(measured) - len(slow)} of {len(measured)} pages "
                  f"under {GOAL_MS:.0f} ms at p95[/]" + (f"; slower: {', '.join(slow)}" if slow else ""))
    if failed:
        console.print(f"[bold red]answers other than 200: {', '.join(failed)}[/]")


async def main(options: argparse.Namespace) -> int:
    if not options.database_url.startswith("postgresql"):
        raise SystemExit("this bench runs on PostgreSQL (the console's 100,000-row goal is a production one)")
    loaded = await load(options.database_url, options.customers, options.orders, options.seed)
    system = System(options.database_url, None, options.workers)
    try:
        with console.status("starting the server …"):
            system.start_server()
        console.print(f"server: {system.base_url}, {system.workers} worker process(es)")
        async with httpx.AsyncClient(base_url=system.base_url, timeout=60,
                                     headers={"Origin": system.base_url}) as client:
            await sign_in(client)
            measured = pages(loaded, random.Random(options.seed), options.requests)
            for page in measured:
                with console.status(f"{page.name} …"):
                    await measure(client, page, options.requests)
            exports = [("待发货 tab", *await export_once(client, "tab=to_ship")),
                       ("all orders", *await export_once(client, ""))]
    finally:
        system.stop()
    show(measured, exports)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(arguments())))
