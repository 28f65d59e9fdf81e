"""Following the primary when PostgreSQL fails over (or simply restarts).

DATABASE_URL names every node of the formation with `target_session_attrs=read-write`
(`postgresql+asyncpg://user@/db?host=a:5432&host=b:5432&target_session_attrs=read-write`): asyncpg tries them in
turn and keeps the one that accepts writes. When the primary dies, the connections the pool holds to it are dead.
SQLAlchemy replaces a connection, and the whole pool, only after an error it takes for a disconnect; here every
error that says the primary has gone counts as one, so the request that meets it fails (503 database_unavailable)
and the next ones connect to whichever node is the primary by then.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

PRIMARY_GONE = ("08", "57P01", "57P02", "57P03", "25006")
"""SQLSTATEs of a primary that has gone: class 08 (the connection failed or was lost), 57P01–03 (the server is
shutting down, crashed, or is not accepting connections yet) and 25006 (a read-only transaction: the node is a
standby now, so a write there must fail and the connection be dropped)."""


def primary_gone(error: BaseException) -> bool:
    """The driver's error says the connection no longer leads to a primary."""
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(PRIMARY_GONE)


async def connect_to_primary(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg.connect, with "no node took the connection" (refused, timed out, or none of them read-write) reported
    as a connection failure (SQLSTATE 08006, as libpq reports it), so SQLAlchemy treats it as a database error
    instead of letting a bare OSError through."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except (OSError, asyncpg.exceptions.TargetServerAttributeNotMatched) as exc:
        raise asyncpg.exceptions.ConnectionFailureError(f"no primary to connect to: {exc}") from exc


def follow_the_primary(engine: AsyncEngine) -> None:
    """Connect through `connect_to_primary`, and invalidate the pool on any error of a primary that has gone."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _through_connect_to_primary(_dialect: Dialect, _record: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        kwargs.setdefault("async_creator_fn", connect_to_primary)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _gone_is_a_disconnect(context: ExceptionContext) -> None:
        if primary_gone(context.original_exception):
            context.is_disconnect = True
