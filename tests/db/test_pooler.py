"""Behind a transaction pooler (DATABASE_POOLER=pgbouncer) no prepared statement outlives the transaction that
prepared it: the next transaction may run on another server connection, where a kept statement would be missing or
its name another client's."""

from __future__ import annotations

import pytest
from sqlalchemy import literal, select, text

from fissionmall.db.engine import make_engine

LEFT_ON_THE_SERVER = text("SELECT count(*) FROM pg_prepared_statements")


@pytest.mark.postgres
@pytest.mark.parametrize(("pooler", "kept"), [("pgbouncer", False), (None, True)])
async def test_statements_are_kept_on_the_server_connection_only_without_a_pooler(engine, database_url, pooler, kept):
    """The same connection, the same statement in three transactions: without a pooler asyncpg keeps it prepared
    (which is what makes it fast), with one nothing is left once each statement has run."""
    own = make_engine(database_url, pool_size=1, pooler=pooler)
    try:
        for n in range(3):
            async with own.begin() as connection:
                assert (await connection.execute(select(literal(n)))).scalar() == n
                assert ((await connection.execute(LEFT_ON_THE_SERVER)).scalar() > 0) is kept
    finally:
        await own.dispose()
