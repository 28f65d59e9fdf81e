"""Early access (优先购) to campaigns by membership level, on either database.

A member whose level has early_access_hours = h may buy into a campaign from h hours before its start (exactly h
hours before included); everyone else, and the early member before that window, is refused 409 campaign_not_live
until the start, and a refused order or preview changes nothing. From the start everyone may buy; once the campaign
has ended (its end time reached, or ended or paused by staff) everyone is refused. GET /membership shows the hours.
Shown here on a two-person group buy (拼团) at 800 fen.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from tests.loyalty.test_levels import buy, membership
from tests.support import ADDRESS, Mall, Who, customer_id, problem, rows, snapshot_of

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

SILVER = {"level": 1, "name": "银卡", "min_spend_fen": 1000, "discount_percent": 0, "free_shipping": False,
          "points_multiplier_percent": 100, "early_access_hours": 0}
GOLD = {**SILVER, "level": 2, "name": "金卡", "min_spend_fen": 3000, "early_access_hours": 24}
PLAN: dict[str, Any] = {"basis": "cumulative", "levels": [SILVER, GOLD]}
WATCHED = ("orders", "order_items", "order_adjustments", "campaigns", "campaign_quotas", "buying_groups",
           "group_orders", "skus", "payments", "events", "outbox_jobs")
"""What a refused group order must leave exactly as it was."""


@pytest.fixture
async def members(mall: Mall) -> dict[str, Who]:
    """gold (3 000 spent: 24 hours early), silver (1 000 spent: no early access) and new (level 0), under PLAN."""
    who = {name: await mall.shopper(name) for name in ("gold", "silver", "new")}
    await buy(mall, who["gold"], 3)
    await buy(mall, who["silver"], 1)
    response = await mall.client.put("/admin/levels", headers=await mall.staff(), json=PLAN)
    assert response.status_code == 200, response.text
    return who


# --- helpers ----------------------------------------------------------------------------------------------------------


async def campaign(mall: Mall, starts_in_hours: float = 10, lasts_hours: float = 7 * 24) -> int:
    """An active two-person group buy at 800 fen starting this many hours from now: its id."""
    owner = await mall.staff()
    starts = mall.runtime.clock.now() + timedelta(hours=starts_in_hours)
    created = await mall.client.post("/admin/campaigns", headers=owner, json={
        "kind": "group", "name": "两人团", "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=lasts_hours)).isoformat(),
        "settings": {"product_id": mall.product_id, "skus": [{"sku_id": mall.sku_id, "group_price_fen": 800}],
                     "group_size": 2}})
    assert created.status_code == 201, created.text
    campaign_id: int = created.json()["id"]
    activated = await mall.client.post(f"/admin/campaigns/{campaign_id}/activate", headers=owner)
    assert activated.status_code == 200, activated.text
    return campaign_id


def group_cart(mall: Mall, campaign_id: int, group_id: int | None) -> dict[str, Any]:
    return {"items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS,
            "campaign": {"kind": "group", "campaign_id": campaign_id, "target_id": group_id}}


async def group_order(mall: Mall, who: Who, campaign_id: int, group_id: int | None = None) -> dict[str, Any]:
    """Open (or join) a group and pay: the paid order."""
    response = await mall.client.post("/orders", headers=who, json=group_cart(mall, campaign_id, group_id))
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["kind"], order["total_fen"]) == ("group", 800), order
    return await mall.pay(who, order["id"])


snapshot = partial(snapshot_of, tables=WATCHED)


async def refused(mall: Mall, who: Who, campaign_id: int, group_id: int | None = None) -> None:
    """Both the checkout preview and the order are 409 campaign_not_live, and change no row."""
    before = await snapshot(mall.runtime)
    body = group_cart(mall, campaign_id, group_id)
    attempts: list[httpx.Response] = [await mall.client.post("/checkout/preview", headers=who, json=body),
                                      await mall.client.post("/orders", headers=who, json=body)]
    for response in attempts:
        problem(response, 409, "campaign_not_live")
    assert await snapshot(mall.runtime) == before


async def groups(mall: Mall, who: Who, campaign_id: int) -> list[tuple[int, str, int, list[int]]]:
    """(id, status, paid members, member ids) of the campaign's groups as the shopper sees them."""
    response = await mall.client.get(f"/group-campaigns/{campaign_id}/groups", headers=who)
    assert response.status_code == 200, response.text
    return [(g["id"], g["status"], g["paid_count"], [m["customer_id"] for m in g["members"]])
            for g in response.json()]


async def sold(mall: Mall, campaign_id: int) -> int:
    [(count,)] = await rows(mall.runtime, "SELECT sold FROM campaigns WHERE id = :id", id=campaign_id)
    return int(count)


# --- tests ------------------------------------------------------------------------------------------------------------


async def test_membership_shows_the_early_access_hours(client, mall, members):
    """GET /membership: 金卡 shows 24 hours, 银卡 and a member below every level show 0."""
    shown = {name: await membership(mall, who) for name, who in members.items()}
    assert {name: (m["level"], m["early_access_hours"]) for name, m in shown.items()} == {
        "gold": (2, 24), "silver": (1, 0), "new": (0, 0)}


async def test_an_early_member_opens_a_group_ten_hours_before_the_start(client, mall, members):
    """10 hours before the start, the 金卡 member's group order is placed at 800 fen, paid, and opens a group: one
    unit of the campaign sold, one of their quota used."""
    campaign_id = await campaign(mall)
    paid = await group_order(mall, members["gold"], campaign_id)
    assert (paid["status"], paid["paid_fen"]) == ("paid", 800)
    gold = await customer_id(mall, members["gold"])
    [(group_id, status, paid_count, seated)] = await groups(mall, members["gold"], campaign_id)
    assert (status, paid_count, seated) == ("open", 1, [gold])
    assert await sold(mall, campaign_id) == 1
    assert await rows(mall.runtime, "SELECT customer_id, used FROM campaign_quotas") == [(gold, 1)]


async def test_members_without_early_access_wait_for_the_start(client, mall, members):
    """10 hours before the start, 银卡 (0 hours) and a level-0 member can neither open a group nor join the 金卡
    member's open group: 409 campaign_not_live, nothing changes."""
    campaign_id = await campaign(mall)
    await group_order(mall, members["gold"], campaign_id)
    [(group_id, *_)] = await groups(mall, members["gold"], campaign_id)
    for name in ("silver", "new"):
        await refused(mall, members[name], campaign_id)
        await refused(mall, members[name], campaign_id, group_id)
    assert await sold(mall, campaign_id) == 1


async def test_the_early_window_opens_exactly_the_levels_hours_before_the_start(client, mall, members, clock):
    """A campaign starting in 30 hours: the 金卡 member is refused then, and at 24 hours and 1 second before the
    start; at exactly 24 hours before, their order goes through (while 银卡 is still refused)."""
    campaign_id = await campaign(mall, starts_in_hours=30)
    await refused(mall, members["gold"], campaign_id)
    clock.advance(hours=5, minutes=59, seconds=59)
    await refused(mall, members["gold"], campaign_id)
    clock.advance(seconds=1)
    await group_order(mall, members["gold"], campaign_id)
    await refused(mall, members["silver"], campaign_id)
    assert await sold(mall, campaign_id) == 1


async def test_from_the_start_everyone_buys(client, mall, members, clock):
    """One second before the start 银卡 is still refused; at the start it joins the 金卡 member's early group, which
    succeeds, and a level-0 member opens a group of their own."""
    campaign_id = await campaign(mall)
    await group_order(mall, members["gold"], campaign_id)
    [(group_id, *_)] = await groups(mall, members["gold"], campaign_id)
    clock.advance(hours=9, minutes=59, seconds=59)
    await refused(mall, members["silver"], campaign_id, group_id)
    clock.advance(seconds=1)
    joined = await group_order(mall, members["silver"], campaign_id, group_id)
    assert joined["status"] == "to_ship", joined
    await group_order(mall, members["new"], campaign_id)
    ids = [await customer_id(mall, members[name]) for name in ("gold", "silver", "new")]
    assert await groups(mall, members["new"], campaign_id) == [(group_id + 1, "open", 1, [ids[2]])]
    response = await client.get(f"/groups/{group_id}", headers=members["gold"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    assert [m["customer_id"] for m in response.json()["members"]] == ids[:2]
    assert await sold(mall, campaign_id) == 3


@pytest.mark.parametrize("ending", ["its end time", "ended by staff", "paused by staff"])
async def test_a_campaign_that_has_ended_refuses_everyone(client, mall, members, clock, ending):
    """Once the end time is reached (a campaign of 10 hours, starting in 10), or when staff end or pause it within
    the 金卡 member's early window, every member, early or not, is refused and nothing changes."""
    campaign_id = await campaign(mall, lasts_hours=10)
    if ending == "its end time":
        clock.advance(hours=20)
    else:
        action = "end" if ending == "ended by staff" else "pause"
        response = await client.post(f"/admin/campaigns/{campaign_id}/{action}", headers=await mall.staff())
        assert response.status_code == 200, response.text
    for who in members.values():
        await refused(mall, who, campaign_id)
    assert await sold(mall, campaign_id) == 0
