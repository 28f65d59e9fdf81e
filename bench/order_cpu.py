"""What one newcomer's first order costs the application's own process, in-process and alone: the "order" scenario's
journey (sign in, claim a 10% coupon, order, pay, the provider's signed notification) driven through the ASGI app
with no HTTP server and no load, CPU read with `time.process_time()`, statements counted per request. The same
journeys under `py-spy record` give the profile of where that CPU goes.

    .venv/bin/python -m bench.order_cpu [--journeys 300] [--database-url postgresql+asyncpg://…/fm_order_cpu]
    .venv/bin/py-spy record -r 250 -f raw -o order.txt -- .venv/bin/python -m bench.order_cpu

The database is created anew (as `python -m bench` makes it, with a thousand customers). PostgreSQL's own CPU is not
in these figures (`python -m bench order` reads both from /proc under load); this is the server's share, measured
where nothing else disturbs it but the machine itself. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import event

from bench import database, dataset
from bench.journeys import sign_in_and_buy
from bench.wire import Reply
from fissionmall.app import create_app
from fissionmall.composition import build_runtime
from fissionmall.config import load_settings

SECRET, SANDBOX = "order-cpu-secret-" + "k" * 24, "order-cpu-sandbox-" + "s" * 24
WARM_UP = 20
"""Journeys run first and not counted: the first requests compile and prepare what later ones reuse."""


class AsgiCaller:
    """A journey's caller that calls the ASGI app directly: no HTTP parsing, no client library."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, label: str, method: str, path: str, *, body: bytes | None = None,
                   headers: dict[str, str] | None = None) -> Reply:
        path, _, query = path.partition("?")
        raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if body is not None:
            raw += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "headers": raw, "client": ("10.0.0.1", 40000), "server": ("bench", 80)}
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body or b"", "more_body": False}
            await asyncio.Event().wait()  # the client never goes away
            raise AssertionError

        answer: dict[str, Any] = {"status": 0, "body": b""}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return Reply(answer["status"], json.loads(answer["body"]) if answer["body"] else None)


async def main(options: argparse.Namespace) -> None:
    console = Console()
    url = options.database_url
    with console.status("creating the database …"):
        await dataset.create(url)
        await dataset.load(url, 1000, lambda _n: None)
    settings = load_settings(database_url=url, secret_key=SECRET, sandbox_key=SANDBOX, dev_login=True,
                             test_deployment=True)
    runtime = build_runtime(settings)
    app = create_app(runtime=runtime)
    caller = AsgiCaller(app)
    db = await database.connect(url)
    try:
        template = await db.value(
            "INSERT INTO coupon_templates (merchant_id, name, kind, amount_fen, percent_off, threshold_fen, scope, "
            "scope_ids, valid_days, per_customer_limit, stackable, claimable, status, issued, created_at) "
            "VALUES (1, '新人九折', 'percent', 0, 10, 0, 'all', '[]', 7, 1, false, true, 'active', 0, now()) "
            "RETURNING id")
        context = {"merchant": dataset.MERCHANT, "sandbox_key": SANDBOX}
        product = 6

        def user(n: int) -> dict[str, Any]:
            return {"id": 1_000_000 + n, "template_id": template, "sku_id": dataset.sku_of(product)}

        for n in range(WARM_UP):
            await sign_in_and_buy(caller, user(n), context)
        statements: Counter[str] = Counter()
        sync_engine = runtime.engine.sync_engine

        def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            statements[statement.split(None, 1)[0].upper()] += 1

        event.listen(sync_engine, "before_cursor_execute", count)
        await sign_in_and_buy(caller, user(WARM_UP), context)  # one journey counted through the session's way
        event.remove(sync_engine, "before_cursor_execute", count)
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(WARM_UP + 1, WARM_UP + 1 + options.journeys):
            await sign_in_and_buy(caller, user(n), context)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - started
        paid = await db.value("SELECT count(*) FROM orders WHERE status = 'to_ship'")
    finally:
        await db.close()
        await runtime.close()
    table = Table(title="one newcomer's first order, in-process (server's CPU only)", title_justify="left")
    for column in ("journeys", "orders to ship", "CPU per journey", "wall per journey", "statements per journey"):
        table.add_column(column, justify="right")
    table.add_row(f"{options.journeys:,}", f"{paid:,}", f"{cpu / options.journeys * 1000:.2f} ms",
                  f"{wall / options.journeys * 1000:.2f} ms",
                  f"{sum(statements.values())} ({', '.join(f'{k} {v}' for k, v in statements.most_common())})")
    console.print(table)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.order_cpu", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--journeys", type=int, default=300)
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/fm_order_cpu")
    options = parser.parse_args()
    options.database_url = database.absolute(options.database_url)
    return options


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(arguments()))
