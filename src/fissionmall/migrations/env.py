"""Alembic environment: async engine, the URL from the settings, the whole model metadata."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from fissionmall.db.base import compared_on
from fissionmall.db.engine import make_engine
from fissionmall.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=sqlite,
                      compare_type=True, include_object=compared_on(connection.dialect.name))
    if sqlite:
        _enforce_foreign_keys(connection, False)
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"rows whose foreign keys the migration broke (table, rowid, target, key): {broken}")
    if sqlite:
        _enforce_foreign_keys(connection, True)


def _enforce_foreign_keys(connection: Connection, enforced: bool) -> None:
    """SQLite changes a table's keys by rebuilding it (Alembic's batch mode), and dropping the old table would delete
    the rows that point at it (or cascade to them) unless foreign keys are off, which SQLite allows only outside a
    transaction; the keys are checked again before the migration commits."""
    cursor = connection.connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
    cursor.close()


async def _run_async() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
