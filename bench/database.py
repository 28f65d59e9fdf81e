"""The bench's own handle on the database under test, to load it and to read the invariants back: asyncpg on
PostgreSQL, aiosqlite on the embedded SQLite file. Both take the same SQL with `$n` placeholders (SQLite reads
them as its numbered `?n`), so a check is written once and runs on both.
"""

from __future__ import annotations

import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


def absolute(url: str) -> str:
    """The URL with the SQLite file's absolute path: the server and worker run in bench/out, not where the bench
    was started."""
    return f"{url.split(':///', 1)[0]}:///{sqlite_path(url).resolve()}" if is_sqlite(url) else url


class Database(ABC):
    """The few calls the bench makes: load rows, read values and rows back, find the database's processes."""

    dialect: str

    @abstractmethod
    async def execute(self, sql: str, *arguments: Any) -> None: ...

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Every row in one transaction."""

    @abstractmethod
    async def fetch(self, sql: str, *arguments: Any) -> list[Any]:
        """Rows that answer both row["column"] and row[0]."""

    @abstractmethod
    async def backend_pids(self) -> set[int] | None:
        """The processes doing the database's work for this database, or None when that is the server itself."""

    @abstractmethod
    async def close(self) -> None: ...

    async def value(self, sql: str, *arguments: Any) -> Any:
        rows = await self.fetch(sql, *arguments)
        return rows[0][0] if rows else None


class Postgres(Database):
    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def execute(self, sql: str, *arguments: Any) -> None:
        await self.pool.execute(sql, *arguments)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.pool.executemany(sql, rows)

    async def fetch(self, sql: str, *arguments: Any) -> list[Any]:
        return list(await self.pool.fetch(sql, *arguments))

    async def backend_pids(self) -> set[int] | None:
        rows = await self.pool.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL"
        )
        return {r["pid"] for r in rows}

    async def close(self) -> None:
        await self.pool.close()


class Sqlite(Database):
    """One connection in autocommit mode: under WAL each read sees what the server has committed so far."""

    dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    @staticmethod
    def _sql(sql: str) -> str:
        return re.sub(r"\$(\d+)", r"?\1", sql)

    @staticmethod
    def _row(arguments: Sequence[Any]) -> tuple[Any, ...]:
        """Datetimes as the app's UtcDateTime keeps them on SQLite (naive UTC text), so they compare as its own."""
        return tuple(
            a.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds") if isinstance(a, datetime) else a
            for a in arguments
        )

    async def execute(self, sql: str, *arguments: Any) -> None:
        await self.connection.execute(self._sql(sql), self._row(arguments))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.connection.execute("BEGIN IMMEDIATE")
        try:
            await self.connection.executemany(self._sql(sql), [self._row(r) for r in rows])
        except BaseException:
            await self.connection.execute("ROLLBACK")
            raise
        await self.connection.execute("COMMIT")

    async def fetch(self, sql: str, *arguments: Any) -> list[Any]:
        return list(await self.connection.execute_fetchall(self._sql(sql), self._row(arguments)))

    async def backend_pids(self) -> set[int] | None:
        return None

    async def close(self) -> None:
        await self.connection.close()


async def connect(url: str) -> Database:
    if is_sqlite(url):
        connection = await aiosqlite.connect(sqlite_path(url), timeout=30, isolation_level=None)
        connection.row_factory = sqlite3.Row
        await connection.execute("PRAGMA foreign_keys=ON")
        return Sqlite(connection)
    pool = await asyncpg.create_pool(url.replace("postgresql+asyncpg://", "postgresql://"), min_size=1, max_size=4)
    return Postgres(pool)
