"""Deposit now, balance after success (定金 + 尾款): the deposit takes the seat, success asks every member for the
balance by a deadline, and a lapsed balance keeps or returns the deposit exactly as the campaign published. An
order paid in two parts is refunded through each payment, newest first, to the fen."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.campaigns.groupbuy.test_campaign_admin import campaign_body, create
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.campaigns.groupbuy.test_group_paths import group_events, open_paid_group, placed
from tests.support import Mall, Who, problem, rows

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")



async def pay_stage(mall: Mall, who: Who, order_id: int, stage: str, amount_fen: int) -> dict[str, Any]:
    """Pay what is due now, checking it is the expected stage and amount, through the sandbox and the worker."""
    response = await mall.client.post(f"/orders/{order_id}/pay", headers=who)
    assert response.status_code == 200, response.text
    assert (response.json()["stage"], response.json()["amount_fen"]) == (stage, amount_fen)
    completed = await mall.client.post(f"/sandbox/payments/{response.json()['payment_id']}/complete", headers=who)
    assert completed.status_code == 202, completed.text
    await mall.work()
    return await mall.get_order(who, order_id)


async def payments(mall: Mall, order_id: int) -> list[tuple[str, str, int, str]]:
    """(stage, out_trade_no, amount, status) of every payment of the order."""
    return await rows(mall.runtime, "SELECT stage, out_trade_no, amount_fen, status FROM payments "
                                    "WHERE order_id = :o ORDER BY id", o=order_id)


def refund_parts(order: dict[str, Any]) -> list[tuple[int, str]]:
    return [(r["amount_fen"], r["status"]) for r in order["refunds"]]


async def refund_trade_numbers(mall: Mall, order_id: int) -> list[tuple[str, int, str]]:
    return await rows(mall.runtime, "SELECT out_trade_no, amount_fen, status FROM refunds WHERE order_id = :o "
                                    "ORDER BY seq", o=order_id)


async def deposit_group(mall: Mall, **settings: Any) -> tuple[int, dict[str, tuple[Who, int]]]:
    """A two-person group at 800 fen with a 10% deposit (80 fen), filled by alice and bob paying deposits."""
    campaign_id = await group_campaign(mall, **{"deposit_percent": 10, **settings})
    _, people = await open_paid_group(mall, campaign_id, "alice", "bob")
    return campaign_id, people


async def test_deposit_takes_the_seat_and_success_asks_everyone_for_the_balance(client, mall, clock):
    """Each member pays 80 to join; the last deposit succeeds the group and both orders await 720 by the deadline;
    paying the balance ships the order, through a second payment numbered after the order."""
    campaign_id = await group_campaign(mall, deposit_percent=10, balance_hours=24)
    alice = await mall.shopper("alice")
    order = await placed(mall, alice, campaign_id)
    assert (order["total_fen"], order["deposit_fen"]) == (800, 80)
    assert (await pay_stage(mall, alice, order["id"], "deposit", 80))["status"] == "paid"
    bob = await mall.shopper("bob")
    bob_order = await placed(mall, bob, campaign_id, (await rows(
        mall.runtime, "SELECT group_id FROM group_orders WHERE order_id = :o", o=order["id"]))[0][0])
    await pay_stage(mall, bob, bob_order["id"], "deposit", 80)

    due = await mall.get_order(alice, order["id"])
    assert (due["status"], due["paid_fen"]) == ("balance_due", 80)
    assert datetime.fromisoformat(due["pay_before"]) == clock.now() + timedelta(hours=24)
    paid = await pay_stage(mall, alice, order["id"], "balance", 720)
    assert (paid["status"], paid["paid_fen"], paid["refunded_fen"]) == ("to_ship", 800, 0)
    number = order["order_no"]
    assert await payments(mall, order["id"]) == [("deposit", number, 80, "succeeded"),
                                                 ("balance", f"{number}B", 720, "succeeded")]
    assert (await mall.get_order(bob, bob_order["id"]))["status"] == "balance_due"


async def test_the_balance_is_due_only_after_success_and_not_twice(client, mall):
    """While the group is open there is nothing more to pay; once the balance is paid, paying again is refused."""
    campaign_id, people = await deposit_group(mall)
    alice, order_id = people["alice"]
    await pay_stage(mall, alice, order_id, "balance", 720)
    problem(await mall.client.post(f"/orders/{order_id}/pay", headers=alice), 409, "invalid_transition")

    carol = await mall.shopper("carol")
    waiting = await placed(mall, carol, campaign_id)
    await pay_stage(mall, carol, waiting["id"], "deposit", 80)
    problem(await mall.client.post(f"/orders/{waiting['id']}/pay", headers=carol), 409, "invalid_transition")


async def test_lapsed_balance_returns_the_deposit_when_the_campaign_says_refund(client, mall, clock):
    """Bob never pays the balance: at the deadline his order is refunded 80 through the deposit payment, his unit
    and his campaign quota come back; alice, who paid, ships."""
    campaign_id, people = await deposit_group(mall, balance_hours=2)
    alice, alice_order = people["alice"]
    bob, bob_order = people["bob"]
    await pay_stage(mall, alice, alice_order, "balance", 720)
    stock_before = await mall.sku_stock()
    clock.advance(hours=2, minutes=1)
    await mall.work()
    order = await mall.get_order(bob, bob_order)
    assert (order["status"], order["paid_fen"], order["refunded_fen"]) == ("refunded", 80, 80)
    assert await refund_trade_numbers(mall, bob_order) == [(order["order_no"], 80, "succeeded")]
    assert await mall.sku_stock() == stock_before + 1
    assert await rows(mall.runtime, "SELECT used FROM campaign_quotas WHERE campaign_id = :c ORDER BY customer_id",
                      c=campaign_id) == [(1,), (0,)]
    assert (await mall.get_order(alice, alice_order))["status"] == "to_ship"


async def test_lapsed_balance_keeps_the_deposit_when_the_campaign_published_forfeit(client, mall, clock):
    """A forfeitable deposit (定金, at most 20%): the order closes with the deposit kept, nothing refunded, the unit
    returned, and the forfeit recorded as an event."""
    _, people = await deposit_group(mall, deposit_percent=20, deposit_on_lapse="forfeit", balance_hours=1)
    bob, bob_order = people["bob"]
    stock_before = await mall.sku_stock()
    clock.advance(hours=2)
    await mall.work()
    order = await mall.get_order(bob, bob_order)
    assert (order["status"], order["paid_fen"], order["refunded_fen"], order["refunds"]) == ("cancelled", 160, 0, [])
    assert await mall.sku_stock() == stock_before + 2  # alice lapsed too
    kinds = [kind for (kind,) in await rows(mall.runtime, "SELECT kind FROM events WHERE subject_id = :o "
                                                          "AND subject_type = 'order' ORDER BY id", o=bob_order)]
    assert kinds[-1] == "deposit_forfeited"


async def test_a_balance_paid_after_its_deadline_is_refunded_in_full(client, mall, clock):
    """Bob opens the balance payment in time but the money arrives after the lapse: the 720 goes straight back
    through the balance payment, and the deposit follows the published rule (here: refunded)."""
    _, people = await deposit_group(mall, balance_hours=1)
    bob, bob_order = people["bob"]
    response = await mall.client.post(f"/orders/{bob_order}/pay", headers=bob)
    assert response.json()["stage"] == "balance"
    clock.advance(hours=1, minutes=1)
    await mall.work()
    assert (await mall.client.post(f"/sandbox/payments/{response.json()['payment_id']}/complete",
                                   headers=bob)).status_code == 202
    await mall.work()
    await mall.work()
    order = await mall.get_order(bob, bob_order)
    number = order["order_no"]
    assert (order["status"], order["paid_fen"], order["refunded_fen"]) == ("refunded", 800, 800)
    assert sorted(await refund_trade_numbers(mall, bob_order)) == [(number, 80, "succeeded"),
                                                                   (f"{number}B", 720, "succeeded")]


async def test_a_failed_group_returns_each_deposit_in_full(client, mall, clock):
    """Nobody joins: the leader's 80 is refunded through the deposit payment when the group fails."""
    campaign_id = await group_campaign(mall, deposit_percent=10, fill_minutes=60)
    alice = await mall.shopper("alice")
    order = await placed(mall, alice, campaign_id)
    await pay_stage(mall, alice, order["id"], "deposit", 80)
    clock.advance(minutes=61)
    await mall.work()
    done = await mall.get_order(alice, order["id"])
    assert (done["status"], done["paid_fen"], done["refunded_fen"]) == ("refunded", 80, 80)
    assert await refund_trade_numbers(mall, order["id"]) == [(order["order_no"], 80, "succeeded")]


async def test_refund_of_an_order_paid_in_two_parts_goes_back_through_each_newest_first(client, mall):
    """750 of 800 back: 720 through the balance payment, 30 through the deposit; then the last 50 through the
    deposit alone. Every part has its own refund number and the order ends refunded, to the fen."""
    _, people = await deposit_group(mall)
    alice, order_id = people["alice"]
    await pay_stage(mall, alice, order_id, "balance", 720)
    owner = await mall.staff()
    response = await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=owner,
                                      json={"amount_fen": 750, "reason": "damaged"})
    assert response.status_code == 201, response.text
    await mall.work()
    order = await mall.get_order(alice, order_id)
    number = order["order_no"]
    assert (order["status"], order["refunded_fen"]) == ("to_ship", 750)
    response = await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=owner,
                                      json={"reason": "the rest"})
    assert response.status_code == 201, response.text
    await mall.work()
    order = await mall.get_order(alice, order_id)
    assert (order["status"], order["paid_fen"], order["refunded_fen"]) == ("refunded", 800, 800)
    assert await refund_trade_numbers(mall, order_id) == [
        (f"{number}B", 720, "succeeded"), (number, 30, "succeeded"), (number, 50, "succeeded")]


async def test_a_shoppers_request_over_two_payments_is_decided_as_one(client, mall):
    """The request is stored in two parts; approving either approves both, rejecting either rejects both."""
    _, people = await deposit_group(mall)
    owner = await mall.staff()
    for name, decision, outcome in (("alice", "reject", ("to_ship", 0)), ("bob", "approve", ("refunded", 800))):
        who, order_id = people[name]
        await pay_stage(mall, who, order_id, "balance", 720)
        response = await mall.client.post(f"/orders/{order_id}/refunds", headers=who, json={"reason": "changed mind"})
        assert response.status_code == 201, response.text
        assert refund_parts(response.json()) == [(720, "requested"), (80, "requested")]
        second_part = response.json()["refunds"][1]["id"]
        decided = await mall.client.post(f"/admin/refunds/{second_part}/{decision}", headers=owner)
        assert decided.status_code == 200, decided.text
        await mall.work()
        order = await mall.get_order(who, order_id)
        assert (order["status"], order["refunded_fen"]) == outcome, name
        assert {status for _, status in refund_parts(order)} == {"rejected" if decision == "reject" else "succeeded"}


async def test_tier_difference_comes_off_the_balance_instead_of_a_refund(client, mall):
    """Tiered at 950 up front, ending at 800: with a 10% deposit (95) the 150 difference lowers the balance to 705,
    written as an adjustment; no refund is made."""
    campaign_id = await group_campaign(mall, group_size=3, deposit_percent=10,
                                       tiers=[{"size": 2, "price_fen": 900}, {"size": 3, "price_fen": 800}],
                                       skus=[{"sku_id": mall.sku_id, "group_price_fen": 950}])
    _, people = await open_paid_group(mall, campaign_id, "alice", "bob", "carol")
    alice, order_id = people["alice"]
    order = await mall.get_order(alice, order_id)
    assert (order["status"], order["total_fen"], order["paid_fen"], order["refunds"]) == ("balance_due", 800, 95, [])
    assert [(a["kind"], a["amount_fen"]) for a in order["adjustments"]][-1] == ("campaign_adjustment", -150)
    assert (await pay_stage(mall, alice, order_id, "balance", 705))["status"] == "to_ship"
    assert (await group_events(mall.runtime))[-1][0] == "group_success"


async def test_campaign_page_publishes_the_deposit_rules(client, mall):
    campaign_id = await group_campaign(mall, deposit_percent=20, deposit_on_lapse="forfeit", balance_hours=12)
    page = (await client.get(f"/group-campaigns/{campaign_id}", params={"merchant": mall.slug})).json()
    assert (page["deposit_percent"], page["balance_hours"], page["deposit_on_lapse"]) == (20, 12, "forfeit")
    assert "参团先付 20% 定金，成团后 12 小时内付尾款。" in page["rules"]
    assert "逾期未付尾款，定金不退。" in page["rules"]


async def test_deposit_settings_are_checked(client, mall):
    """A kept deposit above 20% (Civil Code art. 586), a deposit above 50%, or one that would leave no balance
    under the cheapest tier: 422 naming the field, nothing created."""
    cases = [
        ({"deposit_percent": 30, "deposit_on_lapse": "forfeit"}, "settings.deposit_on_lapse"),
        ({"deposit_percent": 51}, "settings.deposit_percent"),
        ({"deposit_percent": 0}, "settings.deposit_percent"),
        ({"deposit_percent": 10, "balance_hours": 0}, "settings.balance_hours"),
        ({"deposit_percent": 10, "deposit_on_lapse": "half"}, "settings.deposit_on_lapse"),
        ({"deposit_percent": 50, "group_size": 3, "tiers": [{"size": 2, "price_fen": 500},
                                                             {"size": 3, "price_fen": 400}]},
         "settings.deposit_on_lapse"),
    ]
    for settings, field in cases:
        body = problem(await create(mall, campaign_body(mall, **settings)), 422, "invalid_settings")
        assert body["field"] == field, (settings, body)
    assert await rows(mall.runtime, "SELECT id FROM campaigns") == []
