"""Small dialect bridges, so repositories read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import String, Table, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from fissionmall.db.base import UtcDateTime


def table(model: type[Any]) -> Table:
    """A mapped class's Table, for Core statements (which skip the ORM's per-statement work on hot paths)."""
    return cast(Table, model.__table__)


def utc_times(statement: Any, *names: str) -> Any:
    """A text statement whose named parameters are bound as UTC datetimes, stored alike on both databases."""
    return statement.bindparams(*(bindparam(name, type_=UtcDateTime()) for name in names))


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"


def dialect_insert(session: AsyncSession, model: Any) -> Any:
    """INSERT with the dialect's ON CONFLICT clauses (PostgreSQL and SQLite write them alike)."""
    return (pg_insert if dialect_of(session) == "postgresql" else sqlite_insert)(model)


def insert_ignoring_conflicts(session: AsyncSession, model: type[Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: the unique key decides who wins a race."""
    return dialect_insert(session, model).on_conflict_do_nothing()


class Prebuilt:
    """A statement built once per dialect and then reused with bound parameters.

    On a hot path, building a statement (and its cache key) costs as much CPU as sending it; a prebuilt one is
    looked up in SQLAlchemy's compiled cache at once. `build` gets the dialect's INSERT (for ON CONFLICT)."""

    def __init__(self, build: Callable[[Callable[[Any], Any]], Any]) -> None:
        self._build = build
        self._built: dict[str, Any] = {}

    def __call__(self, session: AsyncSession) -> Any:
        dialect = dialect_of(session)
        statement = self._built.get(dialect)
        if statement is None:
            statement = self._built[dialect] = self._build(
                pg_insert if dialect == "postgresql" else sqlite_insert)
        return statement


async def add_unique(session: AsyncSession, *objects: Any) -> bool:
    """Insert rows guarded by a unique key; False (and nothing written) when the key is taken.

    A savepoint keeps the request's transaction usable after the violation, so the caller can answer
    with a domain error: the constraint decides, never an earlier existence check.
    """
    try:
        async with session.begin_nested():
            session.add_all(objects)
            await session.flush()
    except IntegrityError:
        return False
    return True


class china_day(FunctionElement[str]):  # noqa: N801  (used like a SQL function)
    """The calendar day, in China's time (UTC+8, no daylight saving), of a stored UTC moment: for counting by day.
    PostgreSQL: `(t AT TIME ZONE 'Asia/Shanghai')::date`; SQLite: `date(t, '+8 hours')`."""

    type = String()
    inherit_cache = True


@compiles(china_day, "postgresql")
def _china_day_postgresql(element: china_day, compiler: Any, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"


@compiles(china_day, "sqlite")
def _china_day_sqlite(element: china_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"
