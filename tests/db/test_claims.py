"""Contended claims are values the use case applies last: in lock order (SKUs by id, the campaign, the allowance)
whatever order they were gathered in, each answer reaching its own `taken`, a refusal raising its error and
stopping the claims after it; on PostgreSQL all of them go to the database as one statement, so the rows they lock
wait on one round trip, and that statement locks the rows in lock order (pinned by an interleaving below)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.models import Campaign, CampaignQuota
from fissionmall.campaigns.repository import QUOTA_LEFT, UNITS_LEFT, taking_quota, taking_units
from fissionmall.catalog.models import Sku
from fissionmall.catalog.repository import STOCK_SUFFICES, taking_stock
from fissionmall.db.claims import Claim, Claims, LockOrder
from tests.support import Mall, value


class Refused(Exception):
    pass


def claim(found: list[Any], name: str, rank: tuple[LockOrder, int], params: dict[str, Any]) -> Claim:
    """A claim of the kind `rank` names that records its answer in `found` under `name`."""
    build, check = {LockOrder.STOCK: (taking_stock, STOCK_SUFFICES),
                    LockOrder.CAMPAIGN_UNITS: (taking_units, UNITS_LEFT),
                    LockOrder.ALLOWANCE: (taking_quota, QUOTA_LEFT)}[rank[0]]

    async def refusal(_: AsyncSession) -> Exception:
        found.append((name, None))
        return Refused(name)

    async def taken(row: tuple[Any, ...]) -> None:
        found.append((name, row))

    return Claim(rank, build, check, params, refusal, taken)


def stock(found: list[Any], name: str, sku_id: int, quantity: int) -> Claim:
    return claim(found, name, (LockOrder.STOCK, sku_id), {"sku_id": sku_id, "quantity": quantity})


def units(found: list[Any], runtime, campaign: int, quantity: int) -> Claim:
    now = runtime.clock.now()
    return claim(found, "units", (LockOrder.CAMPAIGN_UNITS, campaign),
                 {"campaign_id": campaign, "quantity": quantity, "now": now, "opens_by": now})


async def second_sku_and_campaign(mall: Mall, runtime) -> tuple[int, int]:
    """Another SKU of the product (stock 5) and a live campaign without a cap."""
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        sku = Sku(merchant_id=mall.merchant_id, product_id=mall.product_id, code="second", name="200g", price_fen=1,
                  stock=5)
        campaign = Campaign(merchant_id=mall.merchant_id, kind="group", name="c", status="active", settings={},
                            starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1), created_at=now)
        session.add_all([sku, campaign])
        await session.commit()
        return sku.id, campaign.id


@pytest.fixture
def statements_sent(runtime) -> Iterator[list[str]]:
    """The first word of every statement sent while the test runs."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement.split()[0].upper())

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)


async def test_claims_answer_in_lock_order_in_one_statement_on_postgresql(mall: Mall, runtime, statements_sent):
    """Gathered as campaign, second SKU, first SKU, they are taken SKUs by id first, then the campaign: each
    `taken` gets its row (stock left, units left None) in that order; nothing is sent before `apply`; PostgreSQL
    gets one statement for the three, SQLite three; the commit keeps the changes."""
    second, campaign = await second_sku_and_campaign(mall, runtime)
    before = await mall.sku_stock()
    found: list[Any] = []
    claims = Claims((units(found, runtime, campaign, 3),)) + Claims((stock(found, "second", second, 1),
                                                                     stock(found, "first", mall.sku_id, 2)))
    async with runtime.sessionmaker() as session:
        await claims.apply(session)
        await session.commit()
    assert found == [("first", (before - 2,)), ("second", (4,)), ("units", (None,))]
    postgresql = runtime.engine.dialect.name == "postgresql"
    assert statements_sent.count("WITH" if postgresql else "UPDATE") == (1 if postgresql else 3)
    assert await mall.sku_stock() == before - 2
    assert await value(runtime, "SELECT sold FROM campaigns WHERE id = :id", id=campaign) == 3


async def test_a_refused_claim_raises_its_error_and_the_claims_after_it_write_nothing(mall: Mall, runtime):
    """The second SKU asks for more than it has: the first's answer arrives, the second's refusal raises, the
    campaign's is never answered, and inside the transaction (before the rollback) the campaign's units are
    untouched: on PostgreSQL its update waited for the SKU's and so changed nothing; on SQLite it was never sent.
    After the rollback the first SKU keeps its stock."""
    second, campaign = await second_sku_and_campaign(mall, runtime)
    before = await mall.sku_stock()
    found: list[Any] = []
    claims = Claims((stock(found, "first", mall.sku_id, 1), stock(found, "second", second, 6),
                     units(found, runtime, campaign, 1)))
    async with runtime.sessionmaker() as session:
        with pytest.raises(Refused, match="second"):
            await claims.apply(session)
        sold = (await session.execute(text("SELECT sold FROM campaigns WHERE id = :id"), {"id": campaign})).scalar()
        await session.rollback()
    assert (found, sold) == ([("first", (before - 1,)), ("second", None)], 0)
    assert await mall.sku_stock() == before


async def test_a_sold_out_campaign_leaves_the_allowance_untouched(mall: Mall, runtime):
    """Campaign units, then the customer's allowance (an upsert), as an order claims them: with the campaign at its
    cap the units are refused, and the allowance after them is neither counted up nor created: on PostgreSQL its
    INSERT … SELECT waited for the units and wrote nothing; on SQLite it was never sent. `check`, the preview's
    read, gives the same refusal."""
    _, campaign = await second_sku_and_campaign(mall, runtime)
    await mall.shopper("alice")
    customer = await value(runtime, "SELECT id FROM customers WHERE openid = 'alice'")
    async with runtime.sessionmaker() as session:
        capped = await session.get(Campaign, campaign)
        capped.stock_cap = 0
        session.add(CampaignQuota(merchant_id=mall.merchant_id, campaign_id=campaign, customer_id=customer, used=0))
        await session.commit()
    found: list[Any] = []
    claims = Claims((claim(found, "quota", (LockOrder.ALLOWANCE, campaign), {
        "merchant": mall.merchant_id, "campaign": campaign, "customer": customer, "limit": 5}),
        units(found, runtime, campaign, 1)))
    async with runtime.sessionmaker() as session:
        with pytest.raises(Refused, match="units"):
            await claims.check(session)
        with pytest.raises(Refused, match="units"):
            await claims.apply(session)
        used = (await session.execute(text("SELECT used FROM campaign_quotas WHERE campaign_id = :id"),
                                      {"id": campaign})).scalars().all()
        await session.rollback()
    assert (found, used) == ([("units", None), ("units", None)], [0])


async def test_check_answers_as_apply_would_without_writing(mall: Mall, runtime, statements_sent):
    """Enough stock and units, then an allowance used up: `check` refuses the allowance as `apply` would, and
    sends nothing but SELECTs."""
    _, campaign = await second_sku_and_campaign(mall, runtime)
    await mall.shopper("alice")
    customer = await value(runtime, "SELECT id FROM customers WHERE openid = 'alice'")
    async with runtime.sessionmaker() as session:
        session.add(CampaignQuota(merchant_id=mall.merchant_id, campaign_id=campaign, customer_id=customer, used=2))
        await session.commit()
    found: list[Any] = []
    quota = {"merchant": mall.merchant_id, "campaign": campaign, "customer": customer}
    statements_sent.clear()
    async with runtime.sessionmaker() as session:
        await Claims((stock(found, "sku", mall.sku_id, 1), units(found, runtime, campaign, 1),
                      claim(found, "quota", (LockOrder.ALLOWANCE, campaign), {**quota, "limit": 3}))).check(session)
        with pytest.raises(Refused, match="quota"):
            await Claims((claim(found, "quota", (LockOrder.ALLOWANCE, campaign), {**quota, "limit": 2}),
                          units(found, runtime, campaign, 1))).check(session)
    assert found == [("quota", None)]  # `check` answers refusals only: nothing was taken
    assert set(statements_sent) <= {"SELECT", "BEGIN", "BEGIN IMMEDIATE", "ROLLBACK"}


async def waiting_for_a_lock(runtime, count: int) -> None:
    """Until `count` backends of this database wait on a row lock (PostgreSQL's own view of it, no sleeping
    guess)."""
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    while True:
        if await value(runtime, waiting) >= count:
            return
        await asyncio.sleep(0.01)


@pytest.mark.postgres
async def test_the_one_statement_locks_the_sku_before_the_campaign_and_a_refused_sku_leaves_it_unlocked(
        mall: Mall, runtime):
    """Another transaction holds the SKU's row. The combined statement (campaign units gathered first) waits on the
    SKU, and meanwhile the campaign's row is free: a third transaction takes it with NOWAIT, so the statement did
    not lock it before the SKU. The holder then sells the SKU out and commits: the SKU is refused, and before the
    refused transaction rolls back the campaign's row is still free and unchanged. Were the CTEs run in another
    order, the NOWAIT lock would fail."""
    _, campaign = await second_sku_and_campaign(mall, runtime)
    found: list[Any] = []
    claims = Claims((units(found, runtime, campaign, 1), stock(found, "sku", mall.sku_id, 1)))
    async with runtime.engine.connect() as holder, runtime.sessionmaker() as claiming:
        await holder.execute(text("SELECT stock FROM skus WHERE id = :id FOR UPDATE"), {"id": mall.sku_id})
        applying = asyncio.ensure_future(claims.apply(claiming))
        await asyncio.wait_for(waiting_for_a_lock(runtime, 1), 30)
        assert not applying.done()

        async def campaign_row_is_free() -> int:
            async with runtime.engine.connect() as third:
                await third.execute(text("SET LOCAL lock_timeout = '5s'"))
                try:
                    sold = (await third.execute(text("SELECT sold FROM campaigns WHERE id = :id FOR UPDATE NOWAIT"),
                                                {"id": campaign})).scalar_one()
                except DBAPIError as locked:
                    raise AssertionError("the campaign's row was locked first, or after the SKU's refusal") from locked
                await third.rollback()
                return int(sold)

        assert await campaign_row_is_free() == 0
        await holder.execute(text("UPDATE skus SET stock = 0 WHERE id = :id"), {"id": mall.sku_id})
        await holder.commit()
        with pytest.raises(Refused, match="sku"):
            await asyncio.wait_for(applying, 30)
        assert await campaign_row_is_free() == 0
        await claiming.rollback()
    assert found == [("sku", None)]
