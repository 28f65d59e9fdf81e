"""The sandbox carrier, as the demo and test deployments run it: a shipped order's parcel is followed, each advance
takes it one step further and pushes the journey, signed, through the real push endpoint; the 已签收 step receives
the order, once."""

from __future__ import annotations

from sqlalchemy import text

from tests.logistics.conftest import received_by, shipped, snapshot
from tests.support import problem, rows


async def advance(mall, who, order_id: int) -> int:
    response = await mall.client.post(f"/sandbox/shipments/{order_id}/advance", headers=who)
    assert response.status_code == 202, response.text
    await mall.work()  # the worker delivers the signed push
    steps: int = response.json()["steps"]
    return steps


async def test_the_buyer_follows_the_parcel_to_receipt(client, mall, runtime, clock):
    alice = await mall.shopper("alice")
    order = await shipped(mall, alice, "SBX0000000001", carrier="SF Express")
    assert await rows(runtime, "SELECT provider, carrier_code, tracking_no, phone, status FROM shipment_tracks") == [
        ("sandbox", "shunfeng", "SBX0000000001", "13800138000", None)]
    empty = (await client.get(f"/orders/{order['id']}/tracking", headers=alice)).json()
    assert (empty["provider"], empty["status"], empty["events"]) == ("sandbox", None, [])

    names = []
    for step in range(1, 5):
        assert await advance(mall, alice, order["id"]) == step
        timeline = (await client.get(f"/orders/{order['id']}/tracking", headers=alice)).json()
        names = [e["status_name"] for e in timeline["events"]]
        assert len(names) == step and timeline["status_name"] == names[0]
    assert names == ["已签收", "派送中", "运输中", "已揽收"]  # newest first

    received = await mall.get_order(alice, order["id"])
    assert received["status"] == "received" and await received_by(mall, order["id"]) == ["carrier"]
    assert await rows(runtime, "SELECT status, finished_at IS NOT NULL FROM shipment_tracks") == [("signed", True)]

    # the journey is over: another advance pushes nothing and changes nothing
    before = await snapshot(runtime)
    assert await advance(mall, alice, order["id"]) == 4
    assert await snapshot(runtime) == before
    staff_view = (await client.get(f"/admin/orders/{order['id']}/tracking", headers=await mall.staff())).json()
    assert [e["status"] for e in staff_view["events"]] == ["signed", "delivering", "in_transit", "collected"]


async def test_only_the_buyer_of_a_followed_parcel_can_advance_it(client, mall, beta, runtime):
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    unshipped = await mall.order(alice)
    problem(await client.post(f"/sandbox/shipments/{unshipped['id']}/advance", headers=alice), 404,
            "shipment_not_found")
    order = await shipped(mall, alice, "SBX0000000002")
    problem(await client.post(f"/sandbox/shipments/{order['id']}/advance", headers=bob), 404, "shipment_not_found")
    problem(await client.get(f"/orders/{order['id']}/tracking", headers=bob), 404, "order_not_found")
    problem(await client.get(f"/admin/orders/{order['id']}/tracking", headers=await beta.staff()), 404,
            "order_not_found")  # another merchant's staff
    problem(await client.post(f"/admin/orders/{order['id']}/tracking/refresh", headers=await beta.staff()), 404,
            "order_not_found")
    async with runtime.sessionmaker() as session:
        assert (await session.execute(text("SELECT reached FROM sandbox_parcels"))).scalar_one() == 0
