"""The Redis admission gate in front of flash campaigns: it turns away orders once the campaign is known to be sold
out, before any database work, and never sells a unit on its own say-so (PostgreSQL stays the source of truth)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from fissionmall.core.gate import FIGURE_SECONDS, RedisGate
from fissionmall.core.runtime import Runtime
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.support import ADDRESS, Mall, problem, value

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def gate(runtime: Runtime) -> AsyncIterator[RedisGate]:
    """The runtime's gate moved to Redis, under a namespace no other run uses."""
    namespace = f"fm-test-{uuid.uuid4().hex}"
    redis_gate = RedisGate(REDIS_URL, namespace)
    runtime.gate = redis_gate
    yield redis_gate
    keys = [key async for key in redis_gate.redis.scan_iter(match=f"{namespace}:*")]
    if keys:
        await redis_gate.redis.delete(*keys)
    await redis_gate.close()


async def order(mall: Mall, who: str, campaign_id: int):
    return await mall.client.post("/orders", headers=await mall.shopper(who), json={
        "items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS,
        "campaign": {"kind": "group", "campaign_id": campaign_id, "target_id": None}})


async def cap(mall: Mall, campaign_id: int, units: int) -> None:
    """Set the campaign's stock cap in the database behind the gate's back (as units coming back would)."""
    async with mall.runtime.sessionmaker() as session:
        await session.execute(text("UPDATE campaigns SET stock_cap = :units WHERE id = :id"),
                              {"units": units, "id": campaign_id})
        await session.commit()


async def sold(mall: Mall, campaign_id: int) -> int:
    return int(await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :id", id=campaign_id))


async def test_the_gate_admits_while_units_are_known_to_be_left(gate):
    """Unknown: admitted (the database decides). Seeded with 5: three, then a refused three, then the last two.
    A sold-out figure always overwrites; a later figure after a sale only seeds an empty gate; figures expire."""
    assert await gate.admit(1, 3) is True
    await gate.learn(1, 5)
    assert [await gate.admit(1, 3), await gate.admit(1, 3), await gate.admit(1, 2), await gate.admit(1, 1)] == [
        True, False, True, False]
    await gate.learn(1, 7)  # a sale's figure does not undo the decrements of orders admitted meanwhile
    assert await gate.admit(1, 1) is False
    await gate.learn(2, 4)
    await gate.learn(2, 0)
    assert await gate.admit(2, 1) is False
    assert 0 < await gate.redis.ttl(f"{gate.namespace}:gate:2") <= FIGURE_SECONDS


async def test_a_flash_campaign_sold_out_turns_orders_away_at_the_gate(mall, gate):
    """stock_cap 2: two orders sell, the third is refused by PostgreSQL (which tells the gate). With units put back
    in the database, an order is still turned away by the gate while its figure lives (no database work: the SKU's
    stock is untouched), and sells once the figure has gone and the database is asked again."""
    campaign_id = await group_campaign(mall)
    await cap(mall, campaign_id, 2)
    assert [(await order(mall, who, campaign_id)).status_code for who in ("a", "b")] == [201, 201]
    problem(await order(mall, "c", campaign_id), 409, "campaign_sold_out")
    assert await sold(mall, campaign_id) == 2

    await cap(mall, campaign_id, 3)
    stock = await mall.sku_stock()
    problem(await order(mall, "d", campaign_id), 409, "campaign_sold_out")
    assert (await sold(mall, campaign_id), await mall.sku_stock()) == (2, stock)

    await gate.redis.delete(f"{gate.namespace}:gate:{campaign_id}")
    assert (await order(mall, "d", campaign_id)).status_code == 201
    assert await sold(mall, campaign_id) == 3


async def test_no_unit_is_sold_because_the_gate_said_so(mall, gate):
    """A gate that believes 100 units are left admits the order, and PostgreSQL still refuses it: the campaign
    stays at its cap and the gate learns the truth."""
    campaign_id = await group_campaign(mall)
    await cap(mall, campaign_id, 1)
    assert (await order(mall, "a", campaign_id)).status_code == 201
    await gate.redis.set(f"{gate.namespace}:gate:{campaign_id}", 100)
    problem(await order(mall, "b", campaign_id), 409, "campaign_sold_out")
    assert await sold(mall, campaign_id) == 1
    assert await gate.redis.get(f"{gate.namespace}:gate:{campaign_id}") == b"0"
