"""Test harness: a migration-built database (SQLite or PostgreSQL, chosen by FISSIONMALL_TEST_DB),
emptied before each test, and the real app driven over HTTP in-process.

Outgoing HTTP from the app (sandbox notifications) is routed back into the same app, so the worker
delivers signed notifications through the real endpoint.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher

import tests.support
from fissionmall.app import create_app
from fissionmall.composition import build_runtime
from fissionmall.config import load_settings
from fissionmall.core.clock import FrozenClock
from fissionmall.core.runtime import Runtime
from fissionmall.db.engine import make_engine
from fissionmall.migrate import upgrade_async
from fissionmall.tables import Base
from tests.support import PASSWORD, Mall, sign_staff_tokens
from tests.wechat_stand_in import WechatStandIn

BACKEND = os.environ.get("FISSIONMALL_TEST_DB", "sqlite")
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/fissionmall_test")
POOLER = {"database_pooler": os.environ["TEST_DATABASE_POOLER"]} if os.environ.get("TEST_DATABASE_POOLER") else {}
"""TEST_DATABASE_POOLER=pgbouncer when TEST_DATABASE_URL is a PgBouncer in transaction mode (docs/scaling.md)."""
PUBLIC_BASE = "http://mall.test"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The suite runs once per backend: race tests (and the API contract walk) only in the PostgreSQL run, tests that
    touch no test database (pure functions, the command line on a database of its own) only in the SQLite run, the
    failover test alone in a run of its own. The backend_free mark must say exactly that, both ways: a test without
    the database that is not marked would run twice for nothing."""
    misplaced, unmarked = [], []
    for item in items:
        uses_database = "engine" in getattr(item, "fixturenames", ())
        marked = "backend_free" in item.keywords
        if marked and uses_database:
            misplaced.append(item.nodeid)
        elif not marked and not uses_database:
            unmarked.append(item.nodeid)
    if misplaced:
        raise pytest.UsageError(f"marked backend_free but uses the test database: {', '.join(misplaced)}")
    if unmarked:
        raise pytest.UsageError(f"uses no test database but is not marked backend_free: {', '.join(unmarked)}")
    if BACKEND == "postgres":
        marker, reason = "backend_free", "uses no test database: runs in the SQLite run"
    else:
        marker, reason = "postgres", "race test: runs on PostgreSQL (FISSIONMALL_TEST_DB=postgres)"
    for item in items:
        if ("failover" in item.keywords) != (BACKEND == "failover"):
            item.add_marker(pytest.mark.skip(reason="the failover test runs alone, on a formation of its own "
                                                    "(FISSIONMALL_TEST_DB=failover: make test-failover)"))
        elif marker in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


async def _fresh_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if BACKEND == "postgres":
        await _fresh_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    await upgrade_async(url)
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str):
    engine = make_engine(database_url, pool_size=30, max_overflow=60,  # race tests hold many transactions at once
                         pooler=POOLER.get("database_pooler"))
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> None:
    if "engine" not in request.fixturenames:
        return
    engine = request.getfixturevalue("engine")
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # DELETE and a sequence reset in one round trip: the tables are tiny, and TRUNCATE of forty tables
            # costs a hundred times more per test
            raw = await connection.get_raw_connection()
            await raw.driver_connection.execute(await _emptying_script(raw.driver_connection, tables))
        else:
            # one script, not a statement per table: 2.5 ms a test instead of 28
            raw = await connection.get_raw_connection()
            await raw.driver_connection.executescript(
                "BEGIN; " + "".join(f"DELETE FROM {table}; " for table in tables) + "COMMIT;")


_SCRIPT: list[str] = []


async def _emptying_script(driver: Any, tables: list[str]) -> str:
    if not _SCRIPT:
        sequences = [row[0] for row in await driver.fetch(
            "SELECT pg_get_serial_sequence(quote_ident(table_name), column_name) FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'id'") if row[0]]
        _SCRIPT.append("".join(f"DELETE FROM {table};" for table in tables)
                       + "SELECT " + ", ".join(f"setval('{sequence}', 1, false)" for sequence in sequences))
    return _SCRIPT[0]


class RouteToApp(httpx.AsyncBaseTransport):
    """Requests for the mall's own public URL go to the app in-process; others go to the network."""

    def __init__(self) -> None:
        self.app_transport: httpx.ASGITransport | None = None
        self.network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "mall.test" and self.app_transport is not None:
            return await self.app_transport.handle_async_request(request)
        return await self.network.handle_async_request(request)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Tests may override settings by redefining this fixture."""
    return {}


@pytest.fixture
async def runtime(engine, database_url: str, clock: FrozenClock, tmp_path: Path,
                  settings_overrides: dict[str, object]) -> AsyncIterator[Runtime]:
    settings = load_settings(**{"database_url": database_url, "public_base_url": PUBLIC_BASE,
                                "media_dir": tmp_path / "media", "dev_login": True, "test_deployment": True,
                                "api_docs": True, "secret_key": "test-secret-key-0123456789abcdef",
                                "sandbox_key": "test-sandbox-key-0123456789abcdef", **POOLER,
                                **settings_overrides})
    yield build_runtime(settings, engine=engine, clock=clock, http_transport=RouteToApp())


@pytest.fixture
async def app(runtime: Runtime):
    application = create_app(runtime=runtime)
    runtime.http_transport.app_transport = httpx.ASGITransport(app=application)  # type: ignore[union-attr]
    return application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"{PUBLIC_BASE}/api/v1") as c:
        yield c


@pytest.fixture
async def mall(client: httpx.AsyncClient, runtime: Runtime) -> Mall:
    """A merchant with staff of every role, a store and a product: the usual starting point."""
    return await Mall.create(client, runtime, slug="acme")


@pytest.fixture
async def beta(client: httpx.AsyncClient, runtime: Runtime, mall: Mall) -> Mall:
    """A second merchant, to check that nothing crosses merchants."""
    return await Mall.create(client, runtime, slug="beta")


@pytest.fixture
async def signed_staff_tokens(mall: Mall) -> None:
    """For modules that name it (`pytest.mark.usefixtures`): the mall's staff hold long-lived tokens signed directly,
    with no argon2 login."""
    await sign_staff_tokens(mall)


LIGHT_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@pytest.fixture
def light_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff get argon2 hashes with light parameters, so each real login costs ~1 ms instead of ~130 ms (for modules
    that log in through the real endpoint many times)."""
    monkeypatch.setattr(tests.support, "password_hash", lambda: LIGHT_HASH)


@pytest.fixture(scope="module")
def wechat_server() -> Iterator[WechatStandIn]:
    stand_in = WechatStandIn()
    thread = threading.Thread(target=stand_in.server.serve_forever, daemon=True)
    thread.start()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()
    thread.join()


@pytest.fixture
def wechat(wechat_server: WechatStandIn) -> WechatStandIn:
    wechat_server.requests.clear()
    return wechat_server
