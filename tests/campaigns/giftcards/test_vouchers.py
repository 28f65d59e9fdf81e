"""Gift vouchers (礼券赠送) through the API: bought at the campaign's price and issued on payment (the order completes
at once); sent by a one-time link and claimed once, or returned to the sender by the worker at the claim deadline;
redeemed once, online at checkout (locked, then redeemed on payment, back to active on cancel or timeout) or in a
store by staff; expired by the worker at the end of their validity with each expired voucher's price refunded to the
buyer through the payment provider, money conserved to the fen. Every refusal (P6 settings, wrong SKU, a voucher for
another product, someone else's voucher, a voucher you do not hold, a spent link, a spent code) leaves every row as it
was."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from tests.campaigns.groupbuy.test_campaign_admin import add_sku
from tests.support import (
    ADDRESS,
    Mall,
    Who,
    at,
    customer_id,
    problem,
    refused_unchanged,
    rows,
    sign_staff_tokens,
    snapshot_of,
    value,
    work_until_idle,
)

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

PRICE, VALUE, TEA = 800, 1000, 1000
"""What a voucher costs, what it takes off online, and the tea's list price."""
WATCHED = ("vouchers", "orders", "order_items", "order_adjustments", "refunds", "payments", "skus", "campaigns",
           "campaign_quotas", "events", "outbox_jobs", "sandbox_refunds")
"""What a refused request must leave exactly as it was."""

snapshot = partial(snapshot_of, tables=WATCHED)
refused = partial(refused_unchanged, tables=WATCHED)


# --- helpers ----------------------------------------------------------------------------------------------------------


def gift_body(mall: Mall, **settings: Any) -> dict[str, Any]:
    """A bearer voucher for one tea, sold at 800 and worth 1000 online, on sale for 30 days."""
    now = mall.runtime.clock.now()
    return {"kind": "gift", "name": "一杯茶", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=30)).isoformat(),
            "settings": {"product_id": mall.product_id, "sku_id": mall.sku_id, "price_fen": PRICE,
                         "value_fen": VALUE, **settings}}


async def gift_campaign(mall: Mall, **settings: Any) -> int:
    owner = await mall.staff()
    created = await mall.client.post("/admin/campaigns", headers=owner, json=gift_body(mall, **settings))
    assert created.status_code == 201, created.text
    campaign_id: int = created.json()["id"]
    activated = await mall.client.post(f"/admin/campaigns/{campaign_id}/activate", headers=owner)
    assert activated.status_code == 200, activated.text
    return campaign_id


def buy(mall: Mall, who: Who, campaign_id: int, quantity: int = 1, *,
        items: list[dict[str, int]] | None = None) -> Any:
    """POST /orders buying vouchers through the gift campaign. Not awaited."""
    return mall.client.post("/orders", headers=who, json={
        "items": items or [{"sku_id": mall.sku_id, "quantity": quantity}], "address": ADDRESS,
        "campaign": {"kind": "gift", "campaign_id": campaign_id}})


async def bought(mall: Mall, who: Who, campaign_id: int, quantity: int = 1) -> tuple[dict[str, Any], list[int]]:
    """A paid gift order and the ids of the vouchers it issued (oldest first)."""
    response = await buy(mall, who, campaign_id, quantity)
    assert response.status_code == 201, response.text
    order = await mall.pay(who, response.json()["id"])
    ids = [v for (v,) in await rows(mall.runtime, "SELECT id FROM vouchers WHERE order_id = :o ORDER BY id",
                                    o=order["id"])]
    assert len(ids) == quantity
    return order, ids


async def held(mall: Mall, who: Who) -> dict[int, dict[str, Any]]:
    """GET /vouchers: voucher id → what the shopper sees."""
    response = await mall.client.get("/vouchers", headers=who)
    assert response.status_code == 200, response.text
    return {v["id"]: v for v in response.json()}


async def code_of(mall: Mall, who: Who, voucher_id: int) -> str:
    code: str = (await held(mall, who))[voucher_id]["code"]
    return code


def send(mall: Mall, who: Who, voucher_id: int) -> Any:
    return mall.client.post(f"/vouchers/{voucher_id}/send", headers=who)


async def sent(mall: Mall, who: Who, voucher_id: int) -> dict[str, Any]:
    response = await send(mall, who, voucher_id)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def claim(mall: Mall, who: Who, voucher_id: int, token: str) -> Any:
    return mall.client.post(f"/vouchers/{voucher_id}/claim", headers=who, json={"token": token})


async def redeem(mall: Mall, code: str, role: str = "support", store_id: int | None = None) -> httpx.Response:
    return await mall.client.post("/admin/vouchers/redeem", headers=await mall.staff(role),
                                  json={"code": code, "store_id": store_id or mall.store_id})


def use_online(mall: Mall, who: Who, voucher_id: int, quantity: int = 1, sku_id: int | None = None) -> Any:
    """POST /orders redeeming the voucher on the order's tea. Not awaited."""
    return mall.place_order(who, quantity, sku_id=sku_id, voucher_id=voucher_id)


async def voucher_rows(mall: Mall) -> dict[int, tuple[Any, ...]]:
    """id → (status, holder, redeemed order, redeemed store, has a claim token, has a claim deadline) as stored."""
    found = await rows(mall.runtime, "SELECT id, status, holder_id, redeemed_order_id, redeemed_store_id, "
                                     "claim_token_hash IS NOT NULL, claim_deadline IS NOT NULL FROM vouchers")
    return {row[0]: tuple(row[1:]) for row in found}


# --- buying -----------------------------------------------------------------------------------------------------------


async def test_vouchers_are_bought_at_the_gift_price_and_issued_on_payment(client, mall, clock):
    """n vouchers cost price × n (a gift_price adjustment); none exists before payment; payment issues n distinct
    12-digit codes to the buyer, valid three years, and completes the order at once."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    response = await buy(mall, alice, campaign_id, 3)
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["kind"], order["campaign_id"], order["items_fen"], order["total_fen"]) == (
        "gift", campaign_id, 3 * TEA, 3 * PRICE)
    assert [(a["kind"], a["amount_fen"]) for a in order["adjustments"]] == [("gift_price", 3 * (PRICE - TEA))]
    assert await held(mall, alice) == {}
    assert await value(mall.runtime, "SELECT count(*) FROM vouchers") == 0

    paid = await mall.pay(alice, order["id"])
    assert (paid["status"], paid["paid_fen"], paid["refunded_fen"]) == ("completed", 3 * PRICE, 0)
    alice_id = await customer_id(mall, alice)
    mine = await held(mall, alice)
    assert len(mine) == 3
    for voucher in mine.values():
        assert (voucher["campaign_id"], voucher["name"], voucher["product_id"], voucher["value_fen"],
                voucher["status"], voucher["buyer_id"], voucher["holder_id"], voucher["claim_deadline"],
                voucher["redeemed_at"], voucher["redeemed_store_id"]) == (
            campaign_id, "一杯茶", mall.product_id, VALUE, "active", alice_id, alice_id, None, None, None)
        assert len(voucher["code"]) == 12 and voucher["code"].isdigit()
        assert at(voucher["valid_until"]) == clock.now() + timedelta(days=1095)
    assert len({v["code"] for v in mine.values()}) == 3
    assert await rows(mall.runtime, "SELECT DISTINCT order_id, price_fen, value_fen, buyer_id FROM vouchers") == [
        (order["id"], PRICE, VALUE, alice_id)]
    assert await mall.sku_stock() == 97
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 3


async def test_an_unpaid_gift_order_issues_nothing_and_gives_its_units_back_at_the_deadline(client, mall, clock):
    """The worker cancels a gift order left unpaid: no voucher ever exists; SKU stock, campaign units and the
    buyer's quota come back."""
    campaign_id = await gift_campaign(mall, per_customer_limit=1)
    alice = await mall.shopper("alice")
    response = await buy(mall, alice, campaign_id, 2)
    assert response.status_code == 201, response.text
    assert await mall.sku_stock() == 98
    clock.advance(minutes=31)
    await mall.work()
    assert (await mall.get_order(alice, response.json()["id"]))["status"] == "cancelled"
    assert await value(mall.runtime, "SELECT count(*) FROM vouchers") == 0
    assert await mall.sku_stock() == 100
    assert await rows(mall.runtime, "SELECT c.sold, q.used FROM campaigns c JOIN campaign_quotas q "
                                    "ON q.campaign_id = c.id") == [(0, 0)]
    await bought(mall, alice, campaign_id, 1)


async def test_a_gift_order_for_another_sku_or_with_extra_lines_is_refused(client, mall):
    """The voucher is sold as its own SKU alone: anything else is 422 voucher_item_mismatch, and nothing is kept."""
    campaign_id = await gift_campaign(mall)
    other = await add_sku(mall, price_fen=1200)
    alice = await mall.shopper("alice")
    await refused(mall, buy(mall, alice, campaign_id, items=[{"sku_id": other, "quantity": 1}]),
                  422, "voucher_item_mismatch")
    both = [{"sku_id": mall.sku_id, "quantity": 1}, {"sku_id": other, "quantity": 1}]
    await refused(mall, buy(mall, alice, campaign_id, items=both), 422, "voucher_item_mismatch")
    assert await value(mall.runtime, "SELECT count(*) FROM orders") == 0


async def test_a_buyer_places_at_most_per_customer_limit_gift_orders(client, mall):
    """The campaign's per-customer limit refuses the next order with 409 campaign_limit_reached, changing nothing."""
    campaign_id = await gift_campaign(mall, per_customer_limit=1)
    alice = await mall.shopper("alice")
    await bought(mall, alice, campaign_id, 2)
    await refused(mall, buy(mall, alice, campaign_id), 409, "campaign_limit_reached")


# --- COMPLIANCE P6 ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings", "field"), [
    ({"value_fen": 100_001, "valid_days": 1095}, "settings.valid_days"),
    ({"value_fen": 100_000, "valid_days": 1094}, "settings.valid_days"),
    ({"value_fen": 50_000, "valid_days": 30, "named": False}, "settings.valid_days"),
    ({"value_fen": 500_001, "valid_days": 1095, "named": True}, "settings.value_fen"),
])
async def test_p6_refuses_prepaid_vouchers_outside_the_limits(client, mall, settings, field):
    """Bearer at most ¥1,000 and at least three years, named at most ¥5,000: else 422 naming the field, no campaign."""
    answer = await refused(mall, mall.client.post("/admin/campaigns", headers=await mall.staff(),
                                                  json=gift_body(mall, **settings)), 422, "invalid_settings")
    assert answer["field"] == field
    assert await value(mall.runtime, "SELECT count(*) FROM campaigns") == 0


@pytest.mark.parametrize("settings", [
    {"value_fen": 100_000, "valid_days": 1095},
    {"value_fen": 100_000},
    {"value_fen": 500_000, "valid_days": 30, "named": True},
])
async def test_p6_accepts_prepaid_vouchers_at_the_limits(client, mall, settings):
    """The limits themselves are allowed: ¥1,000 bearer for three years (the default), ¥5,000 named for 30 days."""
    created = await mall.client.post("/admin/campaigns", headers=await mall.staff(), json=gift_body(mall, **settings))
    assert created.status_code == 201, created.text
    stored = created.json()["settings"]
    assert (stored["value_fen"], stored["valid_days"], stored["named"]) == (
        settings["value_fen"], settings.get("valid_days", 1095), settings.get("named", False))


async def test_p6_refuses_a_bearer_voucher_over_1000_yuan_with_the_default_validity(client, mall):
    """Leaving valid_days out must not skip the P6 value limit of a bearer voucher."""
    answer = await refused(mall, mall.client.post("/admin/campaigns", headers=await mall.staff(),
                                                  json=gift_body(mall, value_fen=200_000)), 422, "invalid_settings")
    assert answer["field"] == "settings.valid_days"


# --- sending and claiming ---------------------------------------------------------------------------------------------


async def test_a_sent_voucher_is_claimed_once_by_the_first_friend_with_the_link(client, mall, clock):
    """send → a one-time link with a token, the voucher stays the sender's (status sent) until claimed; the friend
    who claims becomes the holder and alone sees the code; the spent link is refused to anyone after."""
    campaign_id = await gift_campaign(mall)
    alice, bob, carol = await mall.shopper("alice"), await mall.shopper("bob"), await mall.shopper("carol")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    alice_id, bob_id = await customer_id(mall, alice), await customer_id(mall, bob)
    link = await sent(mall, alice, voucher_id)
    token = link["token"]
    assert link["claim_link"] == f"http://mall.test/m/acme/vouchers/{voucher_id}/claim?token={token}"
    assert (link["voucher"]["status"], link["voucher"]["holder_id"]) == ("sent", alice_id)
    assert at(link["voucher"]["claim_deadline"]) == clock.now() + timedelta(days=7)
    assert (await voucher_rows(mall))[voucher_id] == ("sent", alice_id, None, None, True, True)

    clock.advance(days=2)
    claimed = await claim(mall, bob, voucher_id, token)
    assert claimed.status_code == 200, claimed.text
    body = claimed.json()
    assert (body["status"], body["holder_id"], body["buyer_id"], body["claim_deadline"]) == (
        "active", bob_id, alice_id, None)
    assert len(body["code"]) == 12
    assert (await voucher_rows(mall))[voucher_id] == ("active", bob_id, None, None, False, False)
    assert (await held(mall, bob))[voucher_id]["code"] == body["code"]
    seen_by_buyer = (await held(mall, alice))[voucher_id]
    assert (seen_by_buyer["holder_id"], seen_by_buyer["code"]) == (bob_id, None)
    assert await rows(mall.runtime, "SELECT kind, actor_id, subject_id FROM events "
                                    "WHERE kind LIKE 'voucher_%' ORDER BY id") == [
        ("voucher_sent", alice_id, voucher_id), ("voucher_claimed", bob_id, voucher_id)]

    await refused(mall, claim(mall, carol, voucher_id, token), 409, "voucher_claim_refused")
    await refused(mall, claim(mall, bob, voucher_id, token), 409, "voucher_claim_refused")
    # the new holder may pass it on; the buyer, who no longer holds it, may not
    await refused(mall, send(mall, alice, voucher_id), 404, "voucher_not_found")
    onward = await sent(mall, bob, voucher_id)
    assert (onward["voucher"]["holder_id"], onward["token"] != token) == (bob_id, True)


async def test_a_wrong_token_or_the_sender_themselves_cannot_claim(client, mall):
    """A claim with a wrong token, or by the sender, is 409 voucher_claim_refused and leaves the link usable."""
    campaign_id = await gift_campaign(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    token = (await sent(mall, alice, voucher_id))["token"]
    await refused(mall, claim(mall, bob, voucher_id, "x" * len(token)), 409, "voucher_claim_refused")
    await refused(mall, claim(mall, alice, voucher_id, token), 409, "voucher_claim_refused")
    await refused(mall, claim(mall, bob, voucher_id + 1000, token), 404, "voucher_not_found")
    assert (await claim(mall, bob, voucher_id, token)).status_code == 200


async def test_an_unclaimed_voucher_returns_to_its_sender_at_the_claim_deadline(client, mall, clock):
    """Before the deadline the worker leaves it sent; at the deadline a claim is refused; the worker then gives it
    back (active, the sender holds it, no token, no deadline), the old link stays dead, and it can be sent again."""
    campaign_id = await gift_campaign(mall, claim_days=3)
    alice = await mall.shopper("alice")
    _, [voucher_id, kept_id] = await bought(mall, alice, campaign_id, 2)
    alice_id = await customer_id(mall, alice)
    token = (await sent(mall, alice, voucher_id))["token"]
    clock.advance(days=3, seconds=-1)
    await mall.work()
    assert (await voucher_rows(mall))[voucher_id] == ("sent", alice_id, None, None, True, True)

    clock.advance(seconds=1)
    bob = await mall.shopper("bob")
    await refused(mall, claim(mall, bob, voucher_id, token), 409, "voucher_claim_refused")
    await mall.work()
    assert await voucher_rows(mall) == {voucher_id: ("active", alice_id, None, None, False, False),
                                        kept_id: ("active", alice_id, None, None, False, False)}
    alice = await mall.shopper("alice")
    shown = (await held(mall, alice))[voucher_id]
    assert (shown["status"], shown["holder_id"], shown["claim_deadline"], len(shown["code"])) == (
        "active", alice_id, None, 12)
    await refused(mall, claim(mall, bob, voucher_id, token), 409, "voucher_claim_refused")
    before = await snapshot(mall.runtime)
    await mall.work()
    assert await snapshot(mall.runtime) == before
    again = await sent(mall, alice, voucher_id)
    assert (await claim(mall, bob, voucher_id, again["token"])).status_code == 200


async def test_a_named_voucher_cannot_be_sent(client, mall):
    """A named (记名) voucher belongs to its holder: send is 409 voucher_named and changes nothing."""
    campaign_id = await gift_campaign(mall, named=True, value_fen=200_000, valid_days=365)
    alice = await mall.shopper("alice")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    await refused(mall, send(mall, alice, voucher_id), 409, "voucher_named")
    assert (await held(mall, alice))[voucher_id]["status"] == "active"


async def test_sending_a_voucher_you_do_not_hold_is_not_found_and_a_sent_one_is_not_sent_twice(client, mall):
    """Another shopper's voucher, or no voucher at all: 404 voucher_not_found; a voucher already sent, or spent:
    409 voucher_not_sendable. Nothing changes."""
    campaign_id = await gift_campaign(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    _, [voucher_id, other_id] = await bought(mall, alice, campaign_id, 2)
    await refused(mall, send(mall, bob, voucher_id), 404, "voucher_not_found")
    await refused(mall, send(mall, bob, 999_999), 404, "voucher_not_found")
    await sent(mall, alice, voucher_id)
    await refused(mall, send(mall, alice, voucher_id), 409, "voucher_not_sendable")
    assert (await redeem(mall, await code_of(mall, alice, other_id))).status_code == 200
    await refused(mall, send(mall, alice, other_id), 409, "voucher_not_sendable")


async def test_the_claim_event_names_the_sender_as_inviter(client, mall):
    """voucher_claimed links the friend (actor) to the sender (inviter): the referral graph is built from it."""
    campaign_id = await gift_campaign(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    assert (await claim(mall, bob, voucher_id, (await sent(mall, alice, voucher_id))["token"])).status_code == 200
    assert await rows(mall.runtime, "SELECT actor_id, inviter_id FROM events WHERE kind = 'voucher_claimed'") == [
        (await customer_id(mall, bob), await customer_id(mall, alice))]


async def test_a_claimed_voucher_gets_a_code_the_sender_never_saw(client, mall):
    """The code is what a store redeems: once the friend holds the voucher, the code the sender knew must be dead."""
    campaign_id = await gift_campaign(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    known_to_alice = await code_of(mall, alice, voucher_id)
    token = (await sent(mall, alice, voucher_id))["token"]
    assert (await claim(mall, bob, voucher_id, token)).status_code == 200
    assert await code_of(mall, bob, voucher_id) != known_to_alice
    await refused(mall, redeem(mall, known_to_alice), 404, "voucher_not_found")


# --- redeeming online -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value_fen", "off"), [(600, 600), (1000, 1000), (1500, 1000)])
async def test_a_voucher_takes_its_value_off_one_unit_and_is_redeemed_on_payment(client, mall, value_fen, off):
    """gift_voucher = −min(value, one unit's price) on one unit however many are bought; the voucher is locked by
    the order and redeemed when it is paid."""
    campaign_id = await gift_campaign(mall, value_fen=value_fen)
    alice = await mall.shopper("alice")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    alice_id = await customer_id(mall, alice)
    response = await use_online(mall, alice, voucher_id, quantity=2)
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["kind"], order["items_fen"], order["total_fen"]) == ("normal", 2 * TEA, 2 * TEA - off)
    assert [(a["kind"], a["amount_fen"]) for a in order["adjustments"]] == [("gift_voucher", -off)]
    assert await rows(mall.runtime, "SELECT kind, amount_fen, source_id FROM order_adjustments WHERE order_id = :o",
                      o=order["id"]) == [("gift_voucher", -off, voucher_id)]
    assert (await voucher_rows(mall))[voucher_id] == ("locked", alice_id, order["id"], None, False, False)
    assert ((await held(mall, alice))[voucher_id]["status"], (await held(mall, alice))[voucher_id]["code"]) == (
        "locked", None)
    paid = await mall.pay(alice, order["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", 2 * TEA - off)
    assert (await voucher_rows(mall))[voucher_id] == ("redeemed", alice_id, order["id"], None, False, False)
    assert at((await held(mall, alice))[voucher_id]["redeemed_at"]) == mall.runtime.clock.now()
    await refused(mall, use_online(mall, alice, voucher_id), 422, "voucher_unavailable")


async def test_a_cancelled_order_gives_its_voucher_back_and_so_does_the_payment_timeout(client, mall, clock):
    """Cancelled by the shopper, or by the worker at the payment deadline: the voucher is active again, usable."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    alice_id = await customer_id(mall, alice)
    order = (await use_online(mall, alice, voucher_id)).json()
    cancelled = await client.post(f"/orders/{order['id']}/cancel", headers=alice)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert (await voucher_rows(mall))[voucher_id] == ("active", alice_id, None, None, False, False)

    again = (await use_online(mall, alice, voucher_id)).json()
    assert again["total_fen"] == 0
    assert (await voucher_rows(mall))[voucher_id][:3] == ("locked", alice_id, again["id"])
    clock.advance(days=1)
    await mall.work()
    assert (await mall.get_order(alice, again["id"]))["status"] == "cancelled"
    assert (await voucher_rows(mall))[voucher_id] == ("active", alice_id, None, None, False, False)
    assert await mall.sku_stock() == 99


async def test_checkout_refuses_a_voucher_for_another_product_or_not_yours_or_not_usable_now(client, mall):
    """Another product's lines: 422 voucher_not_applicable; someone else's voucher, one locked by another order, one
    being sent: 422 voucher_unavailable. No order, no stock taken, the voucher untouched."""
    campaign_id = await gift_campaign(mall)
    cups = await add_sku(mall, price_fen=1200, other_product=True)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    _, [mine, locked, sending] = await bought(mall, alice, campaign_id, 3)
    await refused(mall, use_online(mall, alice, mine, sku_id=cups), 422, "voucher_not_applicable")
    answer = await refused(mall, use_online(mall, bob, mine), 422, "voucher_unavailable")
    assert answer["field"] == "voucher_id"
    await refused(mall, use_online(mall, alice, 999_999), 422, "voucher_unavailable")
    assert (await use_online(mall, alice, locked)).status_code == 201
    await refused(mall, use_online(mall, alice, locked), 422, "voucher_unavailable")
    await sent(mall, alice, sending)
    await refused(mall, use_online(mall, alice, sending), 422, "voucher_unavailable")
    assert await mall.sku_stock() == 96


async def test_a_voucher_bought_with_a_voucher_never_leaves_an_expiry_refund_stuck(client, mall, clock):
    """A voucher's expiry refund must fit what its order really paid: either the gift order refuses a voucher, or
    the voucher it issued settles at expiry (never left expired with a refund job failing)."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    _, [first] = await bought(mall, alice, campaign_id)
    response = await mall.client.post("/orders", headers=alice, json={
        "items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS, "voucher_id": first,
        "campaign": {"kind": "gift", "campaign_id": campaign_id}})
    if response.status_code == 422:
        return
    order = response.json()
    assert (response.status_code, order["total_fen"]) == (201, 0)
    assert (await client.post(f"/orders/{order['id']}/pay", headers=alice)).status_code == 200
    clock.advance(days=1095)
    await work_until_idle(mall, passes=6)
    assert await rows(mall.runtime, "SELECT count(*) FROM outbox_jobs WHERE last_error IS NOT NULL") == [(0,)]
    assert await rows(mall.runtime, "SELECT count(*) FROM vouchers WHERE status = 'expired'") == [(0,)]
    [(paid, refunded)] = await rows(mall.runtime, "SELECT paid_fen, refunded_fen FROM orders WHERE id = :o",
                                    o=order["id"])
    assert refunded <= paid


# --- redeeming in a store ---------------------------------------------------------------------------------------------


async def test_staff_redeem_a_code_in_store_once(client, mall):
    """Owner or support redeem the holder's code: redeemed, attributed to the store and staff member; the same code
    again is 409 voucher_not_redeemable, an unknown one 404 voucher_not_found; finance may not redeem."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    _, [first, second, third] = await bought(mall, alice, campaign_id, 3)
    alice_id = await customer_id(mall, alice)
    codes = {v: await code_of(mall, alice, v) for v in (first, second, third)}
    await refused(mall, redeem(mall, codes[first], role="finance"), 403, "forbidden")
    done = await redeem(mall, codes[first])
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["id"], body["status"], body["holder_id"], body["redeemed_store_id"], body["code"]) == (
        first, "redeemed", alice_id, mall.store_id, None)
    assert at(body["redeemed_at"]) == mall.runtime.clock.now()
    support_id = await value(mall.runtime, "SELECT id FROM staff WHERE username = 'support' AND merchant_id = :m",
                             m=mall.merchant_id)
    assert await rows(mall.runtime, "SELECT status, redeemed_store_id, redeemed_by_staff, redeemed_order_id "
                                    "FROM vouchers WHERE id = :v", v=first) == [
        ("redeemed", mall.store_id, support_id, None)]
    [(kind, actor, subject, data)] = await rows(mall.runtime, "SELECT kind, actor_id, subject_id, data FROM events "
                                                              "WHERE kind = 'voucher_redeemed'")
    assert (kind, actor, subject, json.loads(data) if isinstance(data, str) else data) == (
        "voucher_redeemed", alice_id, first, {"store_id": mall.store_id})
    for role in ("owner", "support"):
        await refused(mall, redeem(mall, codes[first], role=role), 409, "voucher_not_redeemable")
    await refused(mall, redeem(mall, "000000000000"), 404, "voucher_not_found")
    assert (await redeem(mall, codes[second], role="owner")).status_code == 200
    shown = (await held(mall, alice))[first]
    assert (shown["status"], shown["code"], shown["redeemed_store_id"]) == ("redeemed", None, mall.store_id)
    # a voucher locked by an order online, or being sent, is not redeemable in the store
    assert (await use_online(mall, alice, third)).status_code == 201
    await refused(mall, redeem(mall, codes[third]), 409, "voucher_not_redeemable")


async def test_a_voucher_being_sent_or_of_another_merchant_is_not_redeemed_in_store(client, mall, runtime):
    """A sent voucher is 409 voucher_not_redeemable; another merchant's staff do not find the code (404), nor may
    they name this merchant's store."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    code = await code_of(mall, alice, voucher_id)
    other = await Mall.create(client, runtime, slug="other")
    other_owner = await other.staff()
    before = await snapshot(mall.runtime)
    problem(await client.post("/admin/vouchers/redeem", headers=other_owner,
                              json={"code": code, "store_id": other.store_id}), 404, "voucher_not_found")
    problem(await client.post("/admin/vouchers/redeem", headers=other_owner,
                              json={"code": code, "store_id": mall.store_id}), 404, "store_not_found")
    assert await snapshot(mall.runtime) == before
    await sent(mall, alice, voucher_id)
    await refused(mall, redeem(mall, code), 409, "voucher_not_redeemable")


# --- expiry -----------------------------------------------------------------------------------------------------------


async def test_vouchers_unused_at_the_end_of_their_validity_are_refunded_to_the_buyer(client, mall, clock):
    """Of four vouchers — one redeemed online, one claimed by a friend, one being sent, one kept — the three unused
    expire at valid_until (not a second before) and their price goes back to the buyer on the buying order through
    the provider: paid − refunded == price × the vouchers not expired; the order stays completed; once only."""
    campaign_id = await gift_campaign(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    order, [used, given, sending, kept] = await bought(mall, alice, campaign_id, 4)
    alice_id, bob_id = await customer_id(mall, alice), await customer_id(mall, bob)
    redeeming = (await use_online(mall, alice, used, quantity=2)).json()
    assert (await mall.pay(alice, redeeming["id"]))["paid_fen"] == 2 * TEA - VALUE
    assert (await claim(mall, bob, given, (await sent(mall, alice, given))["token"])).status_code == 200

    clock.advance(days=1094)
    alice = await mall.shopper("alice")
    await sent(mall, alice, sending)
    clock.advance(days=1, seconds=-1)
    await work_until_idle(mall, passes=6)
    assert {v: row[0] for v, row in (await voucher_rows(mall)).items()} == {
        used: "redeemed", given: "active", sending: "sent", kept: "active"}

    clock.advance(seconds=1)
    await work_until_idle(mall, passes=6)
    assert await voucher_rows(mall) == {used: ("redeemed", alice_id, redeeming["id"], None, False, False),
                                        given: ("refunded", bob_id, None, None, False, False),
                                        sending: ("refunded", alice_id, None, None, False, True),
                                        kept: ("refunded", alice_id, None, None, False, False)}
    alice = await mall.shopper("alice")
    after = await mall.get_order(alice, order["id"])
    assert (after["status"], after["paid_fen"], after["refunded_fen"]) == ("completed", 4 * PRICE, 3 * PRICE)
    assert [(r["amount_fen"], r["requested_by"], r["status"]) for r in after["refunds"]] == [
        (3 * PRICE, "system", "succeeded")]
    assert after["paid_fen"] - after["refunded_fen"] == PRICE * 1
    assert await rows(mall.runtime, "SELECT count(*), sum(s.amount_fen) FROM sandbox_refunds s "
                                    "JOIN refunds r ON r.refund_no = s.out_refund_no WHERE r.order_id = :o",
                      o=order["id"]) == [(1, 3 * PRICE)]
    redeemed_order = await mall.get_order(alice, redeeming["id"])
    assert (redeemed_order["status"], redeemed_order["refunded_fen"]) == ("to_ship", 0)
    before = await snapshot(mall.runtime)
    clock.advance(days=1)
    await work_until_idle(mall, passes=6)
    assert await snapshot(mall.runtime) == before

    # an expired voucher is spent everywhere: online, in the store, as a gift
    bob = await mall.shopper("bob")
    await sign_staff_tokens(mall)
    await refused(mall, use_online(mall, bob, given), 422, "voucher_unavailable")
    [(given_code,)] = await rows(mall.runtime, "SELECT code FROM vouchers WHERE id = :v", v=given)
    await refused(mall, redeem(mall, given_code), 409, "voucher_not_redeemable")
    await refused(mall, send(mall, bob, given), 409, "voucher_not_sendable")


async def test_an_order_whose_vouchers_all_expire_is_refunded_in_full(client, mall, clock):
    """Two vouchers, neither used: both refunded, paid − refunded == 0, the buying order closes as refunded."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    order, ids = await bought(mall, alice, campaign_id, 2)
    clock.advance(days=1095)
    await work_until_idle(mall, passes=6)
    assert {row[0] for row in (await voucher_rows(mall)).values()} == {"refunded"}
    alice = await mall.shopper("alice")
    after = await mall.get_order(alice, order["id"])
    assert (after["status"], after["paid_fen"], after["refunded_fen"]) == ("refunded", 2 * PRICE, 2 * PRICE)
    assert [(r["amount_fen"], r["requested_by"], r["status"]) for r in after["refunds"]] == [
        (2 * PRICE, "system", "succeeded")]
    assert await rows(mall.runtime, "SELECT id, price_fen FROM vouchers ORDER BY id") == [(v, PRICE) for v in ids]
    # nothing was delivered: the two units go back to the SKU and to the campaign
    assert await value(mall.runtime, "SELECT stock FROM skus WHERE id = :s", s=mall.sku_id) == 100
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 0


async def test_a_voucher_past_its_validity_is_refused_before_the_sweep_reaches_it(client, mall, clock):
    """Between valid_until and the worker's pass an active voucher is already unusable online and in the store."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    code = await code_of(mall, alice, voucher_id)
    clock.advance(days=1095)
    alice = await mall.shopper("alice")
    await sign_staff_tokens(mall)
    await refused(mall, use_online(mall, alice, voucher_id), 422, "voucher_unavailable")
    answer = await refused(mall, redeem(mall, code), 409, "voucher_not_redeemable")
    assert answer["status_now"] == "expired"
    await refused(mall, send(mall, alice, voucher_id), 409, "voucher_not_sendable")
