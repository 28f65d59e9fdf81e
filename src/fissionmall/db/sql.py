"""Small dialect bridges, so repositories read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession, model: type[Any]) -> Any:
    """INSERT with the dialect's ON CONFLICT clauses (PostgreSQL and SQLite write them alike)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def insert_ignoring_conflicts(session: AsyncSession, model: type[Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: the unique key decides who wins a race."""
    return dialect_insert(session, model).on_conflict_do_nothing()


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
