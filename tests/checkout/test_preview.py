"""The checkout preview answers as placing the order would now (its price; sold out, limit reached, out of stock),
but never writes and never locks: in a flash sale previews must not queue with the orders for the campaign's and
the SKUs' rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from fissionmall.core.runtime import Runtime
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.support import ADDRESS, Mall, problem

WRITES = {"INSERT", "UPDATE", "DELETE", "WITH"}


def group_cart(mall: Mall, campaign_id: int) -> dict[str, Any]:
    return {"items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS,
            "campaign": {"kind": "group", "campaign_id": campaign_id, "target_id": None}}


async def change(mall: Mall, sql: str) -> None:
    """The mall's only campaign or SKU changed behind the API's back (units or stock coming and going)."""
    async with mall.runtime.sessionmaker() as session:
        await session.execute(text(sql))
        await session.commit()


@pytest.fixture
def statements_sent(runtime: Runtime) -> Iterator[list[str]]:
    """The first word of every statement sent while the test runs."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement.split()[0].upper())

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)


async def test_a_preview_refuses_as_the_order_would_and_only_reads(mall: Mall, statements_sent: list[str]):
    """A group buy with one unit left: the preview prices it (800) reading only; more than the SKU's stock is
    out_of_stock; once bob has the unit, alice's preview is sold out as her order is; bob's own next preview has
    reached his limit of one. None of the previews sent a write."""
    campaign = await group_campaign(mall)
    await change(mall, "UPDATE campaigns SET stock_cap = 1")
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    previews: list[str] = []

    async def preview(who: dict[str, str]) -> Any:
        statements_sent.clear()
        response = await mall.client.post("/checkout/preview", headers=who, json=group_cart(mall, campaign))
        previews.extend(statements_sent)
        return response

    priced = await preview(alice)
    assert priced.status_code == 200, priced.text
    assert priced.json()["total_fen"] == 800
    await change(mall, "UPDATE skus SET stock = 0")
    problem(await preview(alice), 409, "out_of_stock")
    await change(mall, "UPDATE skus SET stock = 100")
    placed = await mall.client.post("/orders", headers=bob, json=group_cart(mall, campaign))
    assert placed.status_code == 201, placed.text
    problem(await preview(alice), 409, "campaign_sold_out")
    problem(await mall.client.post("/orders", headers=alice, json=group_cart(mall, campaign)), 409,
            "campaign_sold_out")
    await change(mall, "UPDATE campaigns SET stock_cap = 5")
    problem(await preview(bob), 409, "campaign_limit_reached")
    assert "SELECT" in previews and not WRITES & set(previews), sorted(set(previews))


@pytest.mark.postgres
async def test_a_preview_answers_while_an_order_holds_the_campaign_and_sku_rows(mall: Mall, runtime: Runtime):
    """Another transaction holds the campaign's and the SKU's rows (FOR UPDATE, as a claiming order does until it
    commits): the preview still answers, with the price, since it neither writes nor locks them. (A preview that
    wrote would wait for the holder: the timeout fails the test instead of hanging it.)"""
    campaign = await group_campaign(mall)
    alice = await mall.shopper("alice")
    async with runtime.engine.connect() as holder:
        await holder.execute(text("SELECT sold FROM campaigns WHERE id = :id FOR UPDATE"), {"id": campaign})
        await holder.execute(text("SELECT stock FROM skus WHERE id = :id FOR UPDATE"), {"id": mall.sku_id})
        try:
            priced = await asyncio.wait_for(
                mall.client.post("/checkout/preview", headers=alice, json=group_cart(mall, campaign)), 20)
        finally:
            await holder.rollback()
    assert priced.status_code == 200, priced.text
    assert priced.json()["total_fen"] == 800
