"""Group buying end to end through the API: open, join, succeed; expire, fail, refund everyone."""

from datetime import timedelta

from tests.support import ADDRESS, Mall


async def group_campaign(mall: Mall, **settings) -> int:
    owner = await mall.staff("owner")
    now = mall.runtime.clock.now()
    body = {"kind": "group", "name": "两人团", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(),
            "settings": {"product_id": mall.product_id, "skus": [{"sku_id": mall.sku_id, "group_price_fen": 800}],
                         "group_size": 2, **settings}}
    created = await mall.client.post("/admin/campaigns", headers=owner, json=body)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    activated = await mall.client.post(f"/admin/campaigns/{campaign_id}/activate", headers=owner)
    assert activated.status_code == 200, activated.text
    return campaign_id


async def group_order(mall: Mall, who, campaign_id: int, group_id: int | None = None) -> dict:
    response = await mall.client.post("/orders", headers=who, json={
        "items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS,
        "campaign": {"kind": "group", "campaign_id": campaign_id, "target_id": group_id}})
    assert response.status_code == 201, response.text
    return response.json()


async def test_two_friends_fill_a_group(client, mall):
    campaign_id = await group_campaign(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    leader_order = await group_order(mall, alice, campaign_id)
    assert leader_order["total_fen"] == 800 and leader_order["kind"] == "group"
    paid = await mall.pay(alice, leader_order["id"])
    assert paid["status"] == "paid"
    groups = (await client.get(f"/group-campaigns/{campaign_id}/groups", headers=bob)).json()
    assert len(groups) == 1 and groups[0]["places_left"] == 1
    group_id = groups[0]["id"]
    member_order = await group_order(mall, bob, campaign_id, group_id)
    await mall.pay(bob, member_order["id"])
    group = (await client.get(f"/groups/{group_id}", headers=bob)).json()
    assert group["status"] == "succeeded" and [m["nickname"] for m in group["members"]] == ["alice", "bob"]
    assert (await mall.get_order(alice, leader_order["id"]))["status"] == "to_ship"
    assert (await mall.get_order(bob, member_order["id"]))["status"] == "to_ship"


async def test_a_group_that_does_not_fill_refunds_its_members(client, mall, clock):
    campaign_id = await group_campaign(mall, fill_minutes=60)
    alice = await mall.shopper("alice")
    order = await group_order(mall, alice, campaign_id)
    await mall.pay(alice, order["id"])
    clock.advance(minutes=61)
    await mall.work()
    refunded = await mall.get_order(alice, order["id"])
    assert refunded["status"] == "refunded" and refunded["refunded_fen"] == 800
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["refunded_fen"] == 800
