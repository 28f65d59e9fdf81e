"""The group leader's commission (团长佣金) on the same ledger: written when the group succeeds on what each other
member paid, nothing on the leader's own order, frozen until each order completes, reversed by share with refunds;
and nothing when the campaign sets no commission."""

from __future__ import annotations

import pytest

from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.campaigns.groupbuy.test_group_paths import open_paid_group
from tests.support import SHIPMENT, Mall, rows

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")


async def entries(mall: Mall) -> list[tuple[int, int, int, str, int, str]]:
    """(beneficiary, order, level, kind, amount, status) of every commission entry, in order."""
    return await rows(mall.runtime, "SELECT beneficiary_id, order_id, level, kind, amount_fen, status "
                                    "FROM commission_entries ORDER BY id")


async def test_the_leader_earns_on_each_member_when_the_group_succeeds(client, mall, clock):
    """A group of 3 at 800 with 5% for the leader: 40 on each of the two members' orders, none on the leader's own;
    a half refund of one member takes back 20; completion settles what is left."""
    campaign_id = await group_campaign(mall, group_size=3, leader_commission_bp=500)
    group_id, people = await open_paid_group(mall, campaign_id, "leader", "bob", "carol")
    leader_id = (await client.get("/me", headers=people["leader"][0])).json()["id"]
    bob_order, carol_order = people["bob"][1], people["carol"][1]
    assert await entries(mall) == [(leader_id, bob_order, 0, "commission", 40, "frozen"),
                                   (leader_id, carol_order, 0, "commission", 40, "frozen")]
    owner = await mall.staff()
    refund = await client.post(f"/admin/orders/{bob_order}/refunds", headers=owner,
                               json={"amount_fen": 400, "reason": "half"})
    assert refund.status_code == 201, refund.text
    await mall.work()
    await mall.work()
    assert (await entries(mall))[-1] == (leader_id, bob_order, 0, "reversal", -20, "frozen")
    for _, order_id in (people["bob"], people["carol"]):
        shipped = await client.post(f"/admin/orders/{order_id}/ship", headers=owner, json=SHIPMENT)
        assert shipped.status_code == 200, shipped.text
    clock.advance(days=10, minutes=1)  # received automatically …
    await mall.work()
    clock.advance(days=7, minutes=1)  # … and completed after the after-sale window
    await mall.work()
    await mall.work()
    mine = (await client.get("/distributors/me", headers=await mall.shopper("leader"))).json()
    assert (mine["frozen_fen"], mine["settled_fen"]) == (0, 60)


async def test_no_commission_unless_the_campaign_sets_one(client, mall):
    campaign_id = await group_campaign(mall, group_size=2)
    await open_paid_group(mall, campaign_id, "leader", "bob")
    assert await entries(mall) == []
    assert await rows(mall.runtime, "SELECT count(*) FROM outbox_jobs WHERE kind LIKE 'distribution.%'") == [(0,)]
