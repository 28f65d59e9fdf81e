"""Hot updates run right before COMMIT: each answer reaches its own `then` in order, a refusal gets None and
stops the updates after it, and on PostgreSQL all of them go to the database as one statement, so the rows they
lock wait on one round trip."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from fissionmall.campaigns.models import Campaign, CampaignQuota
from fissionmall.campaigns.repository import taking_quota, taking_units
from fissionmall.catalog.models import Sku
from fissionmall.catalog.repository import taking_stock
from fissionmall.db.session import HotUpdate, at_commit
from tests.support import Mall, value


class Refused(Exception):
    pass


def answers_into(found: list[Any], name: str):
    async def then(row: tuple[Any, ...] | None) -> None:
        found.append((name, row))
        if row is None:
            raise Refused(name)

    return then


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


async def test_several_hot_updates_answer_in_order_in_one_statement_on_postgresql(mall: Mall, runtime,
                                                                                 statements_sent):
    """Two SKUs and a campaign without a cap: each `then` gets its row (stock left, units left None), in the order
    they were added; PostgreSQL gets one statement for the three, SQLite three; the commit keeps the changes."""
    second, campaign = await second_sku_and_campaign(mall, runtime)
    before = await mall.sku_stock()
    found: list[Any] = []
    sent = statements_sent
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        await at_commit(session, HotUpdate(taking_stock, {"sku_id": mall.sku_id, "quantity": 2},
                                           answers_into(found, "first")))
        await at_commit(session, HotUpdate(taking_stock, {"sku_id": second, "quantity": 1},
                                           answers_into(found, "second")))
        await at_commit(session, HotUpdate(taking_units, {"campaign_id": campaign, "quantity": 3, "now": now,
                                                          "opens_by": now}, answers_into(found, "units")))
        assert found == []  # nothing runs before the commit
        await session.commit()
    assert found == [("first", (before - 2,)), ("second", (4,)), ("units", (None,))]
    assert sent.count("WITH" if runtime.engine.dialect.name == "postgresql" else "UPDATE") == (
        1 if runtime.engine.dialect.name == "postgresql" else 3)
    assert await mall.sku_stock() == before - 2
    assert await value(runtime, "SELECT sold FROM campaigns WHERE id = :id", id=campaign) == 3


async def test_a_refused_hot_update_raises_from_its_then_and_nothing_is_committed(mall: Mall, runtime):
    """The second SKU asks for more than it has: the first's answer arrives, the second gets None and raises, the
    session rolls back and the first SKU keeps its stock."""
    second, _ = await second_sku_and_campaign(mall, runtime)
    before = await mall.sku_stock()
    found: list[Any] = []
    async with runtime.sessionmaker() as session:
        await at_commit(session, HotUpdate(taking_stock, {"sku_id": mall.sku_id, "quantity": 1},
                                           answers_into(found, "first")))
        await at_commit(session, HotUpdate(taking_stock, {"sku_id": second, "quantity": 6},
                                           answers_into(found, "second")))
        with pytest.raises(Refused, match="second"):
            await session.commit()
        await session.rollback()
    assert found == [("first", (before - 1,)), ("second", None)]
    assert await mall.sku_stock() == before


async def test_a_refusal_leaves_the_updates_after_it_undone(mall: Mall, runtime):
    """The SKU is short: its `then` raises, the campaign's is never called, and inside the transaction (before
    the rollback) the campaign's units are untouched: on PostgreSQL its update waited for the SKU's and so changed
    nothing; on SQLite it was never sent."""
    second, campaign = await second_sku_and_campaign(mall, runtime)
    found: list[Any] = []
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        await at_commit(session, HotUpdate(taking_stock, {"sku_id": second, "quantity": 6},
                                           answers_into(found, "short")))
        await at_commit(session, HotUpdate(taking_units, {"campaign_id": campaign, "quantity": 1, "now": now,
                                                          "opens_by": now}, answers_into(found, "units")))
        with pytest.raises(Refused, match="short"):
            await session.commit()
        sold = (await session.execute(text("SELECT sold FROM campaigns WHERE id = :id"), {"id": campaign})).scalar()
        await session.rollback()
    assert (found, sold) == ([("short", None)], 0)


async def test_a_sold_out_campaign_leaves_the_allowance_untouched(mall: Mall, runtime, client):
    """Campaign units, then the customer's allowance (an upsert), as an order claims them: with the campaign at its
    cap the units are refused, and the allowance after them is neither counted up nor created: on PostgreSQL its
    INSERT … SELECT waited for the units and wrote nothing; on SQLite it was never sent."""
    _, campaign = await second_sku_and_campaign(mall, runtime)
    await mall.shopper("alice")
    customer = await value(runtime, "SELECT id FROM customers WHERE openid = 'alice'")
    async with runtime.sessionmaker() as session:
        capped = await session.get(Campaign, campaign)
        capped.stock_cap = 0
        session.add(CampaignQuota(merchant_id=mall.merchant_id, campaign_id=campaign, customer_id=customer, used=0))
        await session.commit()
    found: list[Any] = []
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        await at_commit(session, HotUpdate(taking_units, {"campaign_id": campaign, "quantity": 1, "now": now,
                                                          "opens_by": now}, answers_into(found, "units")))
        await at_commit(session, HotUpdate(taking_quota, {"merchant": mall.merchant_id, "campaign": campaign,
                                                          "customer": customer, "limit": 5},
                                           answers_into(found, "quota")))
        with pytest.raises(Refused, match="units"):
            await session.commit()
        used = (await session.execute(text("SELECT used FROM campaign_quotas WHERE campaign_id = :id"),
                                      {"id": campaign})).scalars().all()
        await session.rollback()
    assert (found, used) == ([("units", None)], [0])
