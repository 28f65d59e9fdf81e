"""The database questions a readiness probe asks."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def schema_revisions(connection: AsyncConnection) -> set[str]:
    """The Alembic revisions the database is at (empty when it was never migrated)."""
    exists = await connection.run_sync(lambda sync: sync.dialect.has_table(sync, "alembic_version"))
    if not exists:
        return set()
    return set((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
