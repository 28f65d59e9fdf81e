"""What a request meets when the database goes away under the pool (a failover, a restart), on the test database:
a clear 503 to repeat, never a 500 and never a write taken for done; the pool's other connections replaced, so
the requests after it succeed; and a URL naming several hosts connects to the one that takes writes.

The whole failover, with pg_auto_failover and a primary killed during orders, is tests/db/test_failover.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from fissionmall.app import create_app
from fissionmall.composition import build_runtime
from fissionmall.db.engine import make_engine
from tests.conftest import PUBLIC_BASE
from tests.jobs.test_worker_killed import free_port
from tests.support import ADDRESS, Mall, problem, value

pytestmark = pytest.mark.postgres


@asynccontextmanager
async def client_on(engine: AsyncEngine, runtime) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """The app on an engine of its own, disposed of at the end."""
    own = build_runtime(runtime.settings, engine=engine, clock=runtime.clock, http_transport=runtime.http_transport)
    transport = httpx.ASGITransport(app=create_app(runtime=own))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=f"{PUBLIC_BASE}/api/v1") as client:
            yield client
    finally:
        await engine.dispose()


async def pooled_backends(engine: AsyncEngine, count: int) -> list[int]:
    """Open `count` connections at once and give them back to the pool: their server processes' ids."""
    connections = [await engine.connect() for _ in range(count)]
    try:
        return [await c.scalar(text("SELECT pg_backend_pid()")) for c in connections]
    finally:
        for connection in connections:
            await connection.close()


def unavailable(answer: httpx.Response) -> None:
    problem(answer, 503, "database_unavailable")
    assert answer.headers["Retry-After"] == "1"


async def order(client: httpx.AsyncClient, mall: Mall, who: dict[str, str], key: str) -> httpx.Response:
    return await client.post("/orders", headers={**who, "Idempotency-Key": key}, json={
        "items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS})


async def test_connections_the_database_dropped_fail_one_request_and_the_pool_is_renewed(mall, runtime,
                                                                                       database_url):
    """Both pooled connections are terminated by the server (as a primary that shuts down does): the order that
    meets the first is answered 503 database_unavailable and writes nothing; its retry with the same key is placed
    once, on a fresh connection, and the second dead connection is never used."""
    alice = await mall.shopper("alice")
    engine = make_engine(database_url, pool_size=2)
    async with client_on(engine, runtime) as client:
        backends = await pooled_backends(engine, 2)
        await value(runtime, "SELECT count(pg_terminate_backend(pid)) FROM unnest(CAST(:pids AS int[])) pid",
                    pids=backends)
        unavailable(await order(client, mall, alice, "lost-1"))
        assert await value(runtime, "SELECT count(*) FROM orders") == 0

        placed = await order(client, mall, alice, "lost-1")
        assert placed.status_code == 201, placed.text
        assert (await order(client, mall, alice, "lost-1")).headers["Idempotent-Replayed"] == "true"
        assert (await client.get("/products", params={"merchant": "acme"})).status_code == 200
        assert await value(runtime, "SELECT count(*) FROM orders") == 1
        assert not set(await pooled_backends(engine, 2)) & set(backends)


async def test_a_write_on_a_node_turned_read_only_is_refused_and_its_connection_dropped(mall, runtime, database_url):
    """A pooled connection whose server now refuses writes (a demoted primary answers SQLSTATE 25006, read-only
    transaction): the order is answered 503, not taken for done, and nothing is written; the connection is dropped,
    so the retry is placed on a fresh one."""
    alice = await mall.shopper("alice")
    engine = make_engine(database_url, pool_size=1)
    async with client_on(engine, runtime) as client:
        async with engine.connect() as connection:
            await connection.execute(text("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"))
            await connection.commit()
        unavailable(await order(client, mall, alice, "read-only-1"))
        assert await value(runtime, "SELECT count(*) FROM orders") == 0
        assert (await order(client, mall, alice, "read-only-1")).status_code == 201
        assert await value(runtime, "SELECT count(*) FROM orders") == 1


async def test_no_database_to_connect_to_is_a_503(mall, runtime):
    """Nothing listens where the URL points (every node down): 503 database_unavailable, not a 500."""
    engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere")
    async with client_on(engine, runtime) as client:
        unavailable(await client.get("/products", params={"merchant": "acme"}))


async def test_a_url_naming_several_hosts_connects_to_the_one_that_takes_writes(mall, runtime, database_url):
    """The first host named is down: the connection goes to the next, and orders are placed there."""
    alice = await mall.shopper("alice")
    url = make_url(database_url)
    several = url.set(host=None, port=None, query={
        "host": [f"127.0.0.1:{free_port()}", f"{url.host}:{url.port or 5432}"], "target_session_attrs": "read-write"})
    async with client_on(make_engine(several.render_as_string(hide_password=False)), runtime) as client:
        assert (await order(client, mall, alice, "several-1")).status_code == 201
