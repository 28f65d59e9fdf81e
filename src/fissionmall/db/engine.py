"""Engine and session factory for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection

from fissionmall.db.failover import follow_the_primary

POOL_WAIT = Histogram(
    "fissionmall_db_pool_wait_seconds",
    "Time a database connection was waited for (checkout from the pool, including opening a new one).",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0),
)
POOL_TIMEOUTS = Counter("fissionmall_db_pool_timeouts_total",
                        "Checkouts that waited out the pool's timeout (answered 503 server_busy).")


class MeasuredPool(AsyncAdaptedQueuePool):
    """The usual queue pool, timing each checkout and counting those that wait out the timeout (/metrics): how long
    requests queue for a connection is the first sign that DATABASE_POOL_SIZE is too small for the load."""

    def connect(self) -> PoolProxiedConnection:
        started = time.perf_counter()
        try:
            return super().connect()
        except PoolTimeout:
            POOL_TIMEOUTS.inc()
            raise
        finally:
            POOL_WAIT.observe(time.perf_counter() - started)


def make_engine(database_url: str, *, pool_size: int = 4, max_overflow: int = 0, pool_timeout: float | None = None,
                echo: bool = False, pooler: str | None = None) -> AsyncEngine:
    """A request that waits longer than `pool_timeout` for a connection (default 30 s on PostgreSQL, 300 s for the
    one SQLite connection) is answered 503 `server_busy`. `pooler`: the DATABASE_POOLER in front of PostgreSQL."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection per process: SQLite lets one transaction run at a time anyway, and its lock is not
        # first come, first served (under load a request could wait out the busy timeout); the pool's queue is.
        queue = dict(pool_size=1, max_overflow=0, pool_timeout=300 if pool_timeout is None else pool_timeout,
                     poolclass=MeasuredPool) if path and path != ":memory:" else {}
        engine = create_async_engine(database_url, echo=echo, connect_args={"timeout": 30}, **queue)
        _serialize_sqlite_writers(engine)
        return engine
    # No ping before each checkout: it cost three round trips per request. A connection a database restart or a
    # failover broke fails the one request that meets it, and SQLAlchemy then replaces every connection of the pool.
    engine = create_async_engine(database_url, echo=echo, poolclass=MeasuredPool, pool_size=pool_size,
                                 max_overflow=max_overflow, pool_timeout=30 if pool_timeout is None else pool_timeout,
                                 pool_recycle=3600, connect_args=UNNAMED_STATEMENTS if pooler == "pgbouncer" else {})
    follow_the_primary(engine)
    return engine


UNNAMED_STATEMENTS: dict[str, Any] = {
    "prepared_statement_cache_size": 0, "prepared_statement_name_func": lambda: "", "statement_cache_size": 0}
"""For PgBouncer in transaction mode (1.18 does not follow prepared statements): each transaction may run on another
server connection, so a named statement kept from an earlier one is missing there, or its name, counted per client
connection, is already another client's. Every statement is instead the unnamed one, prepared and run inside the
request's transaction and replaced by the next: no cache (SQLAlchemy's nor asyncpg's), no name to collide, nothing to
close. The price: a round trip to prepare each statement before it runs (a cached one only runs), and a second Parse
(asyncpg sends it again with the run when its own cache is off)."""


def _serialize_sqlite_writers(engine: AsyncEngine) -> None:
    """WAL + BEGIN IMMEDIATE: SQLite then queues concurrent transactions instead of failing them.

    pysqlite's deferred BEGIN lets two readers both try to upgrade to writers, and one fails at once
    with 'database is locked'; taking the write lock at BEGIN makes the busy timeout apply.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
