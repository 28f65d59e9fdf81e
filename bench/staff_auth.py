"""Benchmark: what checking the staff row on every staff request costs.

    .venv/bin/python -m bench.staff_auth [--requests 2000] [--rounds 3] [--database-url URL]

Builds a fresh database (a SQLite file under bench/out by default; a PostgreSQL URL names a database that is dropped
and created), one merchant and its owner, signs in over HTTP, prints the statements one admin GET issues, then times
`--requests` sequential GET /admin/stores in-process (the ASGI app, no network), alternating rounds of the token
alone (the old check, put back for the measurement as a dependency override) and the token plus the staff row (the
current check). Prints requests per second for each. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request
from rich.console import Console
from rich.table import Table
from sqlalchemy import event

from bench.dividend import fresh_database as fresh_postgres
from bench.server import test_deployment_settings
from fissionmall.app import create_app
from fissionmall.composition import build_runtime
from fissionmall.config import load_settings
from fissionmall.core.auth import StaffMember, bearer_claims, current_staff, hash_password
from fissionmall.merchants.models import Merchant, Staff
from fissionmall.migrate import upgrade_async

DEFAULT_URL = "sqlite+aiosqlite:///bench/out/staff_auth.db"
PASSWORD = "bench passphrase 0123"
console = Console()


async def token_alone(request: Request) -> StaffMember:
    """The staff check as it was before sessions could be revoked: the token's word, no database read."""
    claims = bearer_claims(request, "staff")
    assert claims is not None
    return StaffMember(int(claims["sub"]), int(claims["mid"]), "owner")


def fresh_file(url: str) -> None:
    path = Path(url.split(":///", 1)[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)


async def fresh_database(url: str) -> None:
    if url.startswith("sqlite"):
        fresh_file(url)
    else:
        await fresh_postgres(url)
    await upgrade_async(url)


async def run(url: str, requests: int, rounds: int) -> None:
    await fresh_database(url)
    settings = load_settings(database_url=url, log_level="WARNING",
                             **{k.lower(): v for k, v in test_deployment_settings().items()})
    runtime = build_runtime(settings)
    async with runtime.sessionmaker() as session:
        merchant = Merchant(slug="bench", name="bench mall", created_at=runtime.clock.now())
        session.add(merchant)
        await session.flush()
        session.add(Staff(merchant_id=merchant.id, username="owner", role="owner",
                          password_hash=hash_password(PASSWORD)))
        await session.commit()
    app = create_app(runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench/api/v1") as client:
        token = (await client.post("/admin/auth/login", json={"merchant_slug": "bench", "username": "owner",
                                                              "password": PASSWORD})).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(" ".join(statement.split()))

        event.listen(runtime.engine.sync_engine, "before_cursor_execute", seen)
        assert (await client.get("/admin/stores", headers=headers)).status_code == 200
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", seen)
        console.print("[bold]Statements of one GET /admin/stores[/bold]")
        for statement in statements:
            console.print(f"  {statement}")

        async def timed() -> float:
            started = time.perf_counter()
            for _ in range(requests):
                response = await client.get("/admin/stores", headers=headers)
                assert response.status_code == 200, response.text
            return requests / (time.perf_counter() - started)

        await timed()  # warm-up: compiled statement caches, pool
        rates: dict[str, list[float]] = {"token alone (before)": [], "token + staff row (after)": []}
        for _ in range(rounds):
            app.dependency_overrides[current_staff] = token_alone
            rates["token alone (before)"].append(await timed())
            app.dependency_overrides.clear()
            rates["token + staff row (after)"].append(await timed())
    await runtime.close()

    dialect = runtime.engine.dialect.name
    table = Table(title=f"{requests} sequential GET /admin/stores per round, {rounds} rounds, {dialect}")
    table.add_column("staff check")
    table.add_column("requests/s (median)", justify="right")
    table.add_column("rounds", justify="right")
    for name, values in rates.items():
        table.add_row(name, f"{statistics.median(values):.0f}", ", ".join(f"{v:.0f}" for v in values))
    console.print(table)
    before, after = (statistics.median(values) for values in rates.values())
    console.print(f"per request: {1000 / after - 1000 / before:+.3f} ms ({after / before - 1:+.1%} throughput)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.requests, args.rounds))


if __name__ == "__main__":
    main()
