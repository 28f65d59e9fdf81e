"""`Direct` statements (db/sql.py): on PostgreSQL they go straight to asyncpg, yet they must behave exactly as the
session's own statements do: in the request's transaction, typed the same way, failing with SQLAlchemy's
exceptions, and a broken connection replaced by the pool."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from fissionmall.core.idempotency import IdempotencyKey
from fissionmall.db.engine import make_engine, make_sessionmaker
from fissionmall.db.sql import Direct, table

KEYS = table(IdempotencyKey)
CLAIM = Direct(lambda insert_: insert_(KEYS).on_conflict_do_nothing().returning(KEYS.c.id, KEYS.c.created_at))
PLAIN_INSERT = Direct(lambda _: insert(KEYS).returning(KEYS.c.id))
ANSWER = Direct(lambda _: update(KEYS).where(KEYS.c.id == bindparam("claim")).values(
    status_code=bindparam("status"), response=bindparam("answer", type_=KEYS.c.response.type)).returning(
    KEYS.c.response))
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def key(name: str) -> dict[str, object]:
    return dict(merchant_id=1, principal="customer:1", key=name, request_hash="h" * 64, created_at=AT)


async def test_a_direct_statement_is_part_of_the_sessions_transaction(engine):
    """First in its transaction, it begins it: the session's own read sees the row, and a rollback undoes it."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        [(claim_id, created_at)] = await CLAIM.rows(session, key("one"))
        assert created_at == AT  # read back through the column's type: an aware UTC datetime
        seen = await session.execute(select(IdempotencyKey.key).where(IdempotencyKey.id == claim_id))
        assert seen.scalar_one() == "one"
        assert await CLAIM.rows(session, key("one")) == []  # ON CONFLICT DO NOTHING: the key is taken
        await session.rollback()
    async with sessions() as session:
        assert (await session.execute(select(IdempotencyKey.id))).all() == []


async def test_values_go_through_their_types(engine):
    """A JSON value is written as the session writes it and read back as data, not as text."""
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        claim_id = await PLAIN_INSERT.scalar(session, key("json"))
        [(stored,)] = await ANSWER.rows(session, dict(claim=claim_id, status=201, answer={"名字": "券", "n": [1, 2]}))
        assert stored == {"名字": "券", "n": [1, 2]}
        await session.commit()
    async with sessions() as session:
        row = (await session.execute(select(IdempotencyKey).where(IdempotencyKey.id == claim_id))).scalar_one()
        assert (row.status_code, row.response) == (201, {"名字": "券", "n": [1, 2]})


async def test_a_violated_constraint_is_sqlalchemys_integrity_error(engine):
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        await PLAIN_INSERT.rows(session, key("twice"))
        with pytest.raises(IntegrityError):
            await PLAIN_INSERT.rows(session, key("twice"))
        await session.rollback()


async def test_a_broken_connection_is_a_disconnect_and_the_pool_replaces_it(engine, database_url):
    """The server ends the session's backend: the direct statement fails as a DBAPIError marked as a disconnect, and
    the next session works on a fresh connection."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a direct statement is PostgreSQL's; SQLite goes through the session")
    small = make_engine(database_url, pool_size=1)
    sessions = make_sessionmaker(small)
    try:
        async with sessions() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await session.commit()
        async with engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await other.commit()
        async with sessions() as session:
            with pytest.raises(DBAPIError) as raised:
                await CLAIM.rows(session, key("gone"))
            assert raised.value.connection_invalidated
        async with sessions() as session:
            assert await CLAIM.rows(session, key("back")) != []
            await session.rollback()
    finally:
        await small.dispose()
