"""Shop credit at checkout: an order may pay part or all of its total with the wallet (an adjustment of kind "wallet",
the balance debited when the order is placed); a short balance is refused with nothing changed; the credit comes back
once when the order is cancelled (by the shopper or at its deadline), fully refunded, or refunded by its failed
group; the wallet page lists every movement; the balance is always the sum of the entries and never below zero, even
with 20 orders racing for it on PostgreSQL."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest

from fissionmall.wallet import service as wallet_service
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.campaigns.invites.test_invite_rewards import invite_campaign, invite_link, sign_up
from tests.support import ADDRESS, SHIPMENT, Mall, Who, full_refund, problem, refused_unchanged, rows, together, value

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

WATCHED = ("orders", "order_items", "order_adjustments", "skus", "wallets", "wallet_entries", "payments", "refunds",
           "events", "outbox_jobs", "group_orders", "campaign_quotas", "campaigns")
"""What a refused checkout must leave exactly as it was."""

refused = partial(refused_unchanged, tables=WATCHED)


# --- helpers ----------------------------------------------------------------------------------------------------------


async def shopper(mall: Mall, openid: str) -> tuple[Who, int]:
    who = await mall.shopper(openid)
    customer_id: int = (await mall.client.get("/me", headers=who)).json()["id"]
    return who, customer_id


async def grant(mall: Mall, customer_id: int, amount_fen: int, source_id: int = 1) -> None:
    """Setup: credit the customer directly through the wallet service (as a campaign's grant would)."""
    runtime = mall.runtime
    async with runtime.sessionmaker() as session:
        assert await wallet_service.credit(session, mall.merchant_id, customer_id, amount_fen, "test_grant",
                                           ("test", source_id), runtime.clock.now())
        await session.commit()


async def checkout(mall: Mall, who: Who, wallet_fen: int, quantity: int = 1, **extra: Any) -> httpx.Response:
    return await mall.place_order(who, quantity, wallet_fen=wallet_fen, **extra)


async def placed(mall: Mall, who: Who, wallet_fen: int, quantity: int = 1) -> dict[str, Any]:
    response = await checkout(mall, who, wallet_fen, quantity)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def wallet(mall: Mall, who: Who) -> dict[str, Any]:
    response = await mall.client.get("/wallet", headers=who)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def moves(page: dict[str, Any]) -> list[tuple[int, str, str, int]]:
    """(amount, kind, source type, source id) of each entry the wallet page shows, newest first."""
    return [(e["amount_fen"], e["kind"], e["source_type"], e["source_id"]) for e in page["entries"]]


async def balance(mall: Mall, customer_id: int) -> int | None:
    found = await rows(mall.runtime, "SELECT balance_fen FROM wallets WHERE customer_id = :c", c=customer_id)
    return found[0][0] if found else None


async def assert_ledger_balances(mall: Mall) -> None:
    """Each wallet is exactly the sum of its entries, and never negative."""
    per_wallet = await rows(mall.runtime, "SELECT w.customer_id, w.balance_fen, "
                                          "(SELECT coalesce(sum(e.amount_fen), 0) FROM wallet_entries e "
                                          " WHERE e.customer_id = w.customer_id) FROM wallets w")
    assert [(c, b) for c, b, _ in per_wallet] == [(c, s) for c, _, s in per_wallet]
    assert all(b >= 0 for _, b, _ in per_wallet)


# --- paying with credit -----------------------------------------------------------------------------------------------


async def test_paying_part_of_an_order_with_credit(client, mall, runtime):
    """2 × 1000 fen with 500 fen of credit: the total is 1500 with a wallet line of −500, the balance drops at once
    by 500, the shopper pays the 1500 left and the order ships."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 800)
    order = await placed(mall, alice, 500, quantity=2)
    assert (order["items_fen"], order["total_fen"], order["status"]) == (2000, 1500, "pending_payment")
    assert order["adjustments"] == [{"kind": "wallet", "name": "余额抵扣", "amount_fen": -500}]
    assert await balance(mall, alice_id) == 300
    page = await wallet(mall, alice)
    assert page["balance_fen"] == 300
    assert moves(page) == [(-500, "spent", "order", order["id"]), (800, "test_grant", "test", 1)]
    pay = await client.post(f"/orders/{order['id']}/pay", headers=alice)
    assert (pay.status_code, pay.json()["amount_fen"], pay.json()["provider"]) == (200, 1500, "sandbox")
    paid = await mall.pay(alice, order["id"])
    assert (paid["status"], paid["paid_fen"], paid["total_fen"]) == ("to_ship", 1500, 1500)
    assert await balance(mall, alice_id) == 300
    assert await mall.sku_stock() == 98
    await assert_ledger_balances(mall)


async def test_a_fully_credited_order_is_paid_at_once_without_a_provider(client, mall, runtime):
    """Credit covering the whole total leaves 0 to pay: POST /pay marks it paid at once, no payment is opened."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 1000)
    order = await placed(mall, alice, 1000)
    assert (order["total_fen"], order["adjustments"]) == (0, [{"kind": "wallet", "name": "余额抵扣",
                                                                "amount_fen": -1000}])
    response = await client.post(f"/orders/{order['id']}/pay", headers=alice)
    assert response.status_code == 200, response.text
    assert response.json() == {"payment_id": None, "provider": "none", "stage": "full", "amount_fen": 0,
                               "params": {}}
    paid = await mall.get_order(alice, order["id"])
    assert (paid["status"], paid["paid_fen"], paid["pay_before"]) == ("to_ship", 0, None)
    assert paid["paid_at"] is not None
    assert await value(runtime, "SELECT count(*) FROM payments") == 0
    assert await balance(mall, alice_id) == 0
    assert (await client.get("/me", headers=alice)).json()["is_new_customer"] is False
    problem(await client.post(f"/orders/{order['id']}/pay", headers=alice), 409, "invalid_transition")
    await assert_ledger_balances(mall)


async def test_credit_earned_by_an_invite_is_spent_at_checkout(client, mall, runtime):
    """The real flow: Alice's invite reward (500) pays part of her own order; her wallet shows both movements."""
    await invite_campaign(mall, reward_fen=500)
    alice, alice_id = await sign_up(mall, "alice", device="dev-alice")
    bob, _ = await sign_up(mall, "bob", code=await invite_link(mall, alice, alice_id), device="dev-bob")
    await mall.pay(bob, (await mall.order(bob))["id"])
    assert (await wallet(mall, alice))["balance_fen"] == 500
    order = await placed(mall, alice, 500)
    assert order["total_fen"] == 500
    [(reward_id,)] = await rows(runtime, "SELECT id FROM invite_rewards")
    assert moves(await wallet(mall, alice)) == [(-500, "spent", "order", order["id"]),
                                                (500, "invite_reward", "invite", reward_id)]
    assert await balance(mall, alice_id) == 0
    await assert_ledger_balances(mall)


# --- refusals ---------------------------------------------------------------------------------------------------------


async def test_more_credit_than_the_wallet_holds_is_refused_and_changes_nothing(client, mall, runtime):
    """409 insufficient_credit naming the balance: no order, no stock taken, no entry; a shopper with no wallet at
    all gets the same and no wallet row appears."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 300)
    body = await refused(mall, checkout(mall, alice, 301), 409, "insufficient_credit")
    assert body["balance_fen"] == 300
    bob, bob_id = await shopper(mall, "bob")
    assert (await refused(mall, checkout(mall, bob, 1), 409, "insufficient_credit"))["balance_fen"] == 0
    assert await balance(mall, bob_id) is None
    assert await mall.sku_stock() == 100
    order = await placed(mall, alice, 300)  # exactly the balance is fine
    assert (order["total_fen"], await balance(mall, alice_id)) == (700, 0)
    await refused(mall, checkout(mall, alice, 1), 409, "insufficient_credit")


async def test_credit_above_the_order_total_is_refused_and_changes_nothing(client, mall, runtime):
    """Credit may not pay more than is left: 422 benefit_exceeds_total (field wallet_fen), the balance untouched."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 5000)
    await refused(mall, checkout(mall, alice, 1001), 422, "benefit_exceeds_total")
    await refused(mall, checkout(mall, alice, -1), 422, "invalid_request")
    assert await balance(mall, alice_id) == 5000


async def test_credit_cannot_pay_a_group_order_with_a_deposit(client, mall, runtime):
    """422 benefits_not_with_deposit on a deposit group order, with nothing changed; the same campaign without a
    deposit accepts credit."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 1000)
    deposit_campaign = await group_campaign(mall, deposit_percent=10, balance_hours=1)
    body = await refused(mall, checkout(mall, alice, 100, campaign={"kind": "group", "campaign_id": deposit_campaign,
                                                                    "target_id": None}),
                         422, "benefits_not_with_deposit")
    assert body["field"] == "wallet_fen"
    assert await balance(mall, alice_id) == 1000


async def test_a_retried_checkout_spends_the_credit_once(client, mall, runtime):
    """The same Idempotency-Key replays the first order: one order, one debit."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 1000)
    headers = {**alice, "Idempotency-Key": "checkout-credit-1"}
    body = {"items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS, "wallet_fen": 600}
    first = await client.post("/orders", headers=headers, json=body)
    again = await client.post("/orders", headers=headers, json=body)
    assert (first.status_code, again.status_code, again.json()) == (201, 201, first.json())
    assert await balance(mall, alice_id) == 400
    assert await value(runtime, "SELECT count(*) FROM wallet_entries WHERE kind = 'spent'") == 1
    await assert_ledger_balances(mall)


# --- credit coming back -----------------------------------------------------------------------------------------------


async def test_cancelling_returns_the_credit_once(client, mall, runtime):
    """The shopper cancels: the credit comes back as a "returned" entry; a second cancel is refused and returns
    nothing more."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 800)
    order = await placed(mall, alice, 500)
    response = await client.post(f"/orders/{order['id']}/cancel", headers=alice)
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert await balance(mall, alice_id) == 800
    assert moves(await wallet(mall, alice)) == [(500, "returned", "order", order["id"]),
                                                (-500, "spent", "order", order["id"]),
                                                (800, "test_grant", "test", 1)]
    await refused(mall, client.post(f"/orders/{order['id']}/cancel", headers=alice), 409, "invalid_transition")
    await mall.work()
    assert await balance(mall, alice_id) == 800
    await assert_ledger_balances(mall)


async def test_an_order_cancelled_at_its_deadline_returns_the_credit_once(client, mall, runtime, clock):
    """The worker's timeout cancel gives the credit back; further passes give nothing more."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 700)
    order = await placed(mall, alice, 700, quantity=2)
    assert await balance(mall, alice_id) == 0
    clock.advance(days=1)
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "cancelled"
    assert await balance(mall, alice_id) == 700
    await mall.work()
    assert await rows(runtime, "SELECT amount_fen, kind FROM wallet_entries WHERE source_type = 'order'") == [
        (-700, "spent"), (700, "returned")]
    await assert_ledger_balances(mall)


async def test_each_refund_returns_its_share_of_the_credit_and_all_of_it_in_the_end(client, mall, runtime):
    """Cash goes back through the provider; the credit comes back in the same share as each refund (rounded
    down), each share once however often the worker runs, and a full refund completes it to the fen."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 300)
    order = await placed(mall, alice, 300, quantity=2)
    await mall.pay(alice, order["id"])
    response = await client.post(f"/admin/orders/{order['id']}/refunds", headers=await mall.staff("finance"),
                                 json={"reason": "one crushed", "amount_fen": 200})
    assert response.status_code == 201, response.text
    await mall.work()
    partly = await mall.get_order(alice, order["id"])
    assert (partly["status"], partly["paid_fen"], partly["refunded_fen"]) == ("to_ship", 1700, 200)
    assert await balance(mall, alice_id) == 300 * 200 // 1700  # 35
    await full_refund(mall, order["id"])
    done = await mall.get_order(alice, order["id"])
    assert (done["status"], done["refunded_fen"]) == ("refunded", 1700)
    assert await balance(mall, alice_id) == 300
    await mall.work()
    assert sorted(await rows(runtime, "SELECT amount_fen, kind, source_type FROM wallet_entries "
                                      "WHERE kind IN ('spent', 'returned')")) == [
        (-300, "spent", "order"), (35, "returned", "refund"), (265, "returned", "refund")]
    assert await mall.sku_stock() == 100
    await assert_ledger_balances(mall)


async def test_a_shipped_order_refunded_in_full_returns_the_credit(client, mall, runtime):
    """A full refund after shipping (goods sent back) still gives back the credit the order used."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 300)
    order = await placed(mall, alice, 300)
    await mall.pay(alice, order["id"])
    shipped = await client.post(f"/admin/orders/{order['id']}/ship", headers=await mall.staff("support"),
                                json=SHIPMENT)
    assert shipped.status_code == 200, shipped.text
    await full_refund(mall, order["id"])
    done = await mall.get_order(alice, order["id"])
    assert (done["status"], done["refunded_fen"]) == ("refunded", 700)
    assert await balance(mall, alice_id) == 300


async def test_a_fully_credited_order_refunded_by_the_merchant_returns_the_credit(client, mall, runtime):
    """The merchant cannot ship a fully credited order and refunds it: the order closes and the credit returns."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 1000)
    stock_before = await mall.sku_stock()
    order = await placed(mall, alice, 1000)
    assert (await client.post(f"/orders/{order['id']}/pay", headers=alice)).status_code == 200
    response = await client.post(f"/admin/orders/{order['id']}/refunds", headers=await mall.staff("finance"),
                                 json={"reason": "out of stock"})
    await mall.work()
    assert (response.status_code, (await mall.get_order(alice, order["id"]))["status"]) == (201, "refunded")
    assert await balance(mall, alice_id) == 1000
    assert await mall.sku_stock() == stock_before
    again = await client.post(f"/admin/orders/{order['id']}/refunds", headers=await mall.staff("finance"),
                              json={"reason": "again"})
    problem(again, 409, "invalid_transition")
    assert await balance(mall, alice_id) == 1000


async def test_a_shopper_asks_the_merchant_to_close_a_fully_credited_order(client, mall, runtime):
    """With no cash to send back there is no refund to request: the shopper is told to ask the merchant, and
    nothing changes."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 1000)
    order = await placed(mall, alice, 1000)
    assert (await client.post(f"/orders/{order['id']}/pay", headers=alice)).status_code == 200
    problem(await client.post(f"/orders/{order['id']}/refunds", headers=alice, json={"reason": "changed my mind"}),
            409, "refund_by_merchant")
    assert (await mall.get_order(alice, order["id"]))["status"] == "to_ship"
    assert await balance(mall, alice_id) == 0


async def test_a_failed_group_refunds_the_cash_and_returns_the_credit(client, mall, runtime, clock):
    """A group order paid 500 in cash and 300 in credit: when the group fails the cash is refunded and the credit
    comes back, once."""
    campaign_id = await group_campaign(mall, fill_minutes=60)
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 300)
    response = await checkout(mall, alice, 300, campaign={"kind": "group", "campaign_id": campaign_id,
                                                          "target_id": None})
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["total_fen"], [a["kind"] for a in order["adjustments"]][-1]) == (500, "wallet")
    assert (await mall.pay(alice, order["id"]))["status"] == "paid"
    clock.advance(minutes=61)
    await mall.work()
    failed = await mall.get_order(alice, order["id"])
    assert (failed["status"], failed["paid_fen"], failed["refunded_fen"]) == ("refunded", 500, 500)
    assert await balance(mall, alice_id) == 300
    await mall.work()
    assert await value(runtime, "SELECT count(*) FROM wallet_entries WHERE kind = 'returned'") == 1
    await assert_ledger_balances(mall)


# --- the wallet page --------------------------------------------------------------------------------------------------


async def test_the_wallet_page_shows_ones_own_movements_newest_first(client, mall, runtime):
    """GET /wallet: the balance and the latest 50 entries of the shopper's own wallet, newest first; a shopper of
    another mall with the same openid sees only theirs; no token is 401."""
    alice, alice_id = await shopper(mall, "alice")
    assert await wallet(mall, alice) == {"balance_fen": 0, "entries": []}
    for i in range(1, 56):
        await grant(mall, alice_id, i, source_id=i)
    page = await wallet(mall, alice)
    assert page["balance_fen"] == sum(range(1, 56))
    assert [e["source_id"] for e in page["entries"]] == list(range(55, 5, -1))
    assert {(e["kind"], e["source_type"]) for e in page["entries"]} == {("test_grant", "test")}
    beta = await Mall.create(client, runtime, slug="beta")
    other, other_id = await shopper(beta, "alice")
    await grant(beta, other_id, 7)
    assert await wallet(beta, other) == {"balance_fen": 7, "entries": [
        {"amount_fen": 7, "kind": "test_grant", "source_type": "test", "source_id": 1,
         "created_at": runtime.clock.now().isoformat().replace("+00:00", "Z")}]}
    assert (await wallet(mall, alice))["balance_fen"] == sum(range(1, 56))
    problem(await client.get("/wallet"), 401, "unauthenticated")


async def test_a_repeated_grant_of_the_same_source_credits_once(client, mall, runtime):
    """wallet.credit is once per (customer, kind, source): a repeat answers False and changes nothing; nothing is
    credited for zero."""
    _, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 250, source_id=9)
    async with runtime.sessionmaker() as session:
        now = runtime.clock.now()
        assert await wallet_service.credit(session, mall.merchant_id, alice_id, 250, "test_grant", ("test", 9),
                                           now) is False
        assert await wallet_service.credit(session, mall.merchant_id, alice_id, 0, "test_grant", ("test", 10),
                                           now) is False
        await session.commit()
    assert await rows(runtime, "SELECT balance_fen FROM wallets") == [(250,)]
    assert await rows(runtime, "SELECT amount_fen, source_id FROM wallet_entries") == [(250, 9)]


# --- under concurrency ------------------------------------------------------------------------------------------------


@pytest.mark.postgres
async def test_twenty_orders_racing_for_one_balance_never_take_it_below_zero(client, mall, runtime):
    """A balance of 2000 and 20 simultaneous orders each paying 600 with it: exactly 3 are placed, 17 are refused
    insufficient_credit with nothing left behind, and 200 fen remain."""
    alice, alice_id = await shopper(mall, "alice")
    await grant(mall, alice_id, 2000)
    answers = await together(checkout(mall, alice, 600) for _ in range(20))
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 17
    for answer in answers:
        if answer.status_code == 409:
            problem(answer, 409, "insufficient_credit")
    placed_ids = sorted(a.json()["id"] for a in answers if a.status_code == 201)
    assert await balance(mall, alice_id) == 200
    assert await rows(runtime, "SELECT source_id, amount_fen FROM wallet_entries WHERE kind = 'spent' "
                               "ORDER BY source_id") == [(order_id, -600) for order_id in placed_ids]
    assert await rows(runtime, "SELECT id, total_fen FROM orders ORDER BY id") == [(i, 400) for i in placed_ids]
    assert await value(runtime, "SELECT count(*) FROM order_adjustments") == 3
    assert await mall.sku_stock() == 97
    await assert_ledger_balances(mall)
    # and every one of them given back at once: the balance is whole again, each credit returned once
    cancels = await together(client.post(f"/orders/{order_id}/cancel", headers=alice) for order_id in placed_ids * 2)
    assert sorted(c.status_code for c in cancels) == [200] * 3 + [409] * 3
    assert await balance(mall, alice_id) == 2000
    assert await value(runtime, "SELECT count(*) FROM wallet_entries WHERE kind = 'returned'") == 3
    await assert_ledger_balances(mall)
