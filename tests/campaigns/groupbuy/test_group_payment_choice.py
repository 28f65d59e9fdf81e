"""The shopper's choice of a deposit or full payment (payment_options: shopper_chooses): both ways in one group, each
order recording its way; a full payer of a deposit-taking group is paid up at success (no balance to chase, counted
for the leader's commission); a failed group refunds each member exactly what they paid; a way the campaign does not
offer is refused, leaving every row as it was; the settings are checked and linted; previews explain each way."""

from __future__ import annotations

from typing import Any

import pytest

from tests.campaigns.groupbuy.test_campaign_admin import act, campaign_body, create, draft
from tests.campaigns.groupbuy.test_group_deposits import pay_stage, refund_trade_numbers
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.campaigns.groupbuy.test_group_paths import WATCHED, group_events, group_id_of
from tests.support import ADDRESS, Mall, Who, problem, refused_unchanged, rows

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

CHOOSING: dict[str, Any] = {"deposit_percent": 10, "payment_options": "shopper_chooses"}
"""800 fen a unit: 80 deposit and 720 balance, or 800 at once."""


def order_body(mall: Mall, campaign_id: int, group_id: int | None, payment: str | None) -> dict[str, Any]:
    campaign: dict[str, Any] = {"kind": "group", "campaign_id": campaign_id, "target_id": group_id}
    if payment is not None:
        campaign["payment"] = payment
    return {"items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS, "campaign": campaign}


async def choose(mall: Mall, who: Who, campaign_id: int, group_id: int | None, payment: str | None) -> dict[str, Any]:
    response = await mall.client.post("/orders", headers=who, json=order_body(mall, campaign_id, group_id, payment))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def recorded(mall: Mall, campaign_id: int) -> list[tuple[int, str]]:
    return await rows(mall.runtime, "SELECT order_id, payment FROM group_orders WHERE campaign_id = :c "
                                    "ORDER BY order_id", c=campaign_id)


async def test_a_deposit_and_a_full_payment_fill_one_group(client, mall):
    """Alice opens with a deposit (80), bob joins paying in full (800): bob's payment fills the group; alice owes her
    720 balance, bob's order ships with nothing more to pay; each order records its way; the leader's commission
    counts bob, who paid in full."""
    campaign_id = await group_campaign(mall, **CHOOSING, leader_commission_bp=1000)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    deposit = await choose(mall, alice, campaign_id, None, "deposit")
    assert (deposit["total_fen"], deposit["deposit_fen"]) == (800, 80)
    await pay_stage(mall, alice, deposit["id"], "deposit", 80)
    group_id = await group_id_of(mall, deposit["id"])
    full = await choose(mall, bob, campaign_id, group_id, "full")
    assert (full["total_fen"], full["deposit_fen"]) == (800, None)
    shipped = await pay_stage(mall, bob, full["id"], "full", 800)

    assert (shipped["status"], shipped["paid_fen"], shipped["pay_before"]) == ("to_ship", 800, None)
    due = await mall.get_order(alice, deposit["id"])
    assert (due["status"], due["paid_fen"]) == ("balance_due", 80)
    assert await recorded(mall, campaign_id) == [(deposit["id"], "deposit"), (full["id"], "full")]
    events = [(kind, data.get("payment")) for kind, _, _, data in await group_events(mall.runtime)]
    assert events == [("group_open", "deposit"), ("group_join", "full"), ("group_success", None)]
    assert (await group_events(mall.runtime))[-1][3]["leader_commission_fen"] == 80  # 10% of bob's 800
    assert (await pay_stage(mall, alice, deposit["id"], "balance", 720))["status"] == "to_ship"
    assert await rows(mall.runtime, "SELECT count(*) FROM refunds") == [(0,)]


async def test_a_failed_group_refunds_each_member_exactly_what_they_paid(client, mall, clock):
    """A three-person group that gets two payers, one of each way, fails at its deadline: the deposit payer gets 80
    back through the deposit payment, the full payer 800 through theirs, once each."""
    campaign_id = await group_campaign(mall, **CHOOSING, group_size=3, fill_minutes=60)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    full = await choose(mall, alice, campaign_id, None, "full")
    await pay_stage(mall, alice, full["id"], "full", 800)
    deposit = await choose(mall, bob, campaign_id, await group_id_of(mall, full["id"]), "deposit")
    await pay_stage(mall, bob, deposit["id"], "deposit", 80)

    clock.advance(minutes=61)
    await mall.work()
    await mall.work()
    for who, order, paid in ((alice, full, 800), (bob, deposit, 80)):
        done = await mall.get_order(who, order["id"])
        assert (done["status"], done["paid_fen"], done["refunded_fen"]) == ("refunded", paid, paid)
        assert await refund_trade_numbers(mall, order["id"]) == [(order["order_no"], paid, "succeeded")]
    assert await rows(mall.runtime, "SELECT status FROM buying_groups") == [("failed",)]


async def test_left_unsaid_a_choosing_campaign_takes_the_deposit(client, mall):
    campaign_id = await group_campaign(mall, **CHOOSING)
    order = await choose(mall, await mall.shopper("alice"), campaign_id, None, None)
    assert order["deposit_fen"] == 80
    assert await recorded(mall, campaign_id) == [(order["id"], "deposit")]


@pytest.mark.parametrize(("settings", "refused"), [({"deposit_percent": 10}, "full"),
                                                   ({"deposit_percent": 10, "payment_options": "deposit_only"}, "full"),
                                                   ({}, "deposit")])
async def test_a_way_the_campaign_does_not_offer_is_refused_on_the_field(client, mall, settings, refused):
    campaign_id = await group_campaign(mall, **settings)
    body = order_body(mall, campaign_id, None, refused)
    answer = await refused_unchanged(mall, mall.client.post("/orders", headers=await mall.shopper("alice"), json=body),
                                     422, "payment_not_offered", tables=WATCHED)
    assert answer["field"] == "campaign.payment"


async def test_the_preview_explains_each_way_and_a_full_payment_takes_benefits(client, mall):
    campaign_id = await group_campaign(mall, **CHOOSING, deposit_on_lapse="forfeit", balance_hours=24)
    alice = await mall.shopper("alice")
    preview = await mall.client.post("/checkout/preview", headers=alice,
                                     json=order_body(mall, campaign_id, None, "deposit"))
    assert preview.status_code == 200, preview.text
    ways = [(w["payment"], w["title"], w["chosen"]) for w in preview.json()["payment_choices"]]
    assert ways == [("deposit", "付定金 ¥0.80", True), ("full", "一次付清全款", False)]
    deposit_words = preview.json()["payment_choices"][0]["detail"]
    assert "成团后 1 天内付尾款 ¥7.20" in deposit_words and "逾期未付尾款，定金不退" in deposit_words
    assert "未成团，定金全额退还" in deposit_words
    full = await mall.client.post("/checkout/preview", headers=alice, json=order_body(mall, campaign_id, None, "full"))
    assert [w["chosen"] for w in full.json()["payment_choices"]] == [False, True]
    assert full.json()["deposit_fen"] is None
    plain = await mall.client.post("/checkout/preview", headers=alice,
                                   json=order_body(mall, await group_campaign(mall, deposit_percent=10), None, None))
    assert plain.json()["payment_choices"] == []


async def test_the_campaign_publishes_the_choice(client, mall):
    campaign_id = await group_campaign(mall, **CHOOSING)
    page = (await client.get(f"/group-campaigns/{campaign_id}", params={"merchant": mall.slug})).json()
    assert page["payment_options"] == "shopper_chooses"
    assert ("参团时任选一种付款方式：先付 10% 定金，成团后 2 天内付尾款；或一次付清全款，成团后直接发货。"
            in page["rules"])
    assert "未成团时，付定金的退还定金，付全款的退还全款，各退实付金额。" in page["rules"]
    older = await group_campaign(mall, deposit_percent=10)  # saved before the choice existed: deposit only
    assert (await client.get(f"/group-campaigns/{older}", params={"merchant": mall.slug})).json()[
        "payment_options"] == "deposit_only"


@pytest.mark.parametrize(("settings", "field"), [
    ({"deposit_percent": 10, "payment_options": "full_only"}, "settings.payment_options"),
    ({"payment_options": "shopper_chooses"}, "settings.payment_options"),
    ({"payment_options": "deposit_only"}, "settings.payment_options"),
    ({"deposit_percent": 10, "payment_options": "both"}, "settings.payment_options"),
    ({"deposit_percent": 60, "payment_options": "shopper_chooses"}, "settings.deposit_percent"),
])
async def test_payment_settings_are_checked(client, mall, settings, field):
    body = problem(await create(mall, campaign_body(mall, **settings)), 422, "invalid_settings")
    assert body["field"] == field, body
    assert await rows(mall.runtime, "SELECT id FROM campaigns") == []


async def test_the_linter_warns_what_a_deposit_means_for_the_leader_and_tiny_prices(client, mall):
    campaign_id = await draft(mall, **CHOOSING, leader_commission_bp=500,
                              skus=[{"sku_id": mall.sku_id, "group_price_fen": 1}])
    report = (await act(mall, campaign_id, "lint")).json()
    assert report["ok"] is True
    assert [(f["rule"], f["level"], f["check"]) for f in report["findings"]] == [
        ("G2", "warn", "deposit_not_split"), ("G2", "warn", "commission_on_full_payers")]
    assert (await act(mall, await draft(mall, **CHOOSING), "lint")).json() == {"ok": True, "findings": []}
