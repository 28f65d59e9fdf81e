"""Gift vouchers under real concurrency (PostgreSQL): many HTTP requests at the same moment, each on its own
connection.

A voucher redeemed online and in a store at the same moment is redeemed once: one side succeeds, the other gets its
clear refusal, and the voucher ends locked by exactly one order or redeemed in the store, never both — however many
orders and scans race for it. A sent voucher claimed by ten friends at once has exactly one new holder.
"""

from __future__ import annotations

from collections.abc import Awaitable

import httpx
import pytest

from tests.campaigns.giftcards.test_vouchers import (
    PRICE,
    TEA,
    VALUE,
    bought,
    claim,
    gift_campaign,
    redeem,
    sent,
    use_online,
    voucher_rows,
)
from tests.support import Mall, customer_id, problem, rows, together, value, work_until_idle

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]

VOUCHERS = 20


def order_refused(response: httpx.Response) -> None:
    """The order that lost its voucher: refused before locking it, or when its lock found it taken."""
    if response.status_code == 422:
        problem(response, 422, "voucher_unavailable")
    else:
        problem(response, 409, "voucher_not_redeemable")


async def scan_after(mall: Mall, campaign_id: int, lookups: int, code: str, role: str) -> httpx.Response:
    """Staff look the campaign up `lookups` times, then scan the code: the scans start spread over the orders' work
    (an order does far more than a scan, so scans started with them would always be first)."""
    for _ in range(lookups):
        assert (await mall.client.get(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(role))).is_success
    return await redeem(mall, code, role=role)


async def codes_of(mall: Mall, voucher_ids: list[int]) -> dict[int, str]:
    found = dict(await rows(mall.runtime, "SELECT id, code FROM vouchers"))
    return {v: found[v] for v in voucher_ids}


async def assert_once_each(mall: Mall, holder_id: int, online: dict[int, int], in_store: set[int],
                           stock_before: int) -> None:
    """Each voucher is locked by exactly the one order that won it, or redeemed in the store, never both; only the
    winners left a trace (orders, adjustments, stock, events)."""
    assert set(online).isdisjoint(in_store)
    stored = await voucher_rows(mall)
    for voucher_id, order_id in online.items():
        assert stored[voucher_id] == ("locked", holder_id, order_id, None, False, False), voucher_id
    for voucher_id in in_store:
        assert stored[voucher_id] == ("redeemed", holder_id, None, mall.store_id, False, False), voucher_id
    uses = await rows(mall.runtime, "SELECT a.source_id, a.order_id, a.amount_fen, o.status FROM order_adjustments a "
                                    "JOIN orders o ON o.id = a.order_id WHERE a.kind = 'gift_voucher'")
    assert sorted(uses) == sorted((v, o, -VALUE, "pending_payment") for v, o in online.items())
    assert await value(mall.runtime, "SELECT count(*) FROM orders WHERE kind = 'normal'") == len(online)
    assert await value(mall.runtime, "SELECT stock FROM skus WHERE id = :s", s=mall.sku_id) == \
        stock_before - 2 * len(online)
    redeemed = await rows(mall.runtime, "SELECT subject_id FROM events WHERE kind = 'voucher_redeemed'")
    assert sorted(v for (v,) in redeemed) == sorted(in_store)


# --- online against in store ------------------------------------------------------------------------------------------

async def test_a_voucher_redeemed_online_and_in_store_at_once_succeeds_once(client, mall):
    """For each of 20 vouchers its holder's order and a staff scan of its code fire at the same moment: exactly one
    of the two succeeds, the other is refused; paying the winning orders redeems their vouchers, still never twice."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    gift_order, voucher_ids = await bought(mall, alice, campaign_id, VOUCHERS)
    alice_id = await customer_id(mall, alice)
    codes = await codes_of(mall, voucher_ids)
    await mall.staff("owner"), await mall.staff("support")
    stock_before = await mall.sku_stock()
    assert stock_before == 100 - VOUCHERS

    calls: list[Awaitable[httpx.Response]] = []
    for i, voucher_id in enumerate(voucher_ids):  # which is started first alternates; the scan's start is staggered
        pair = [use_online(mall, alice, voucher_id, quantity=2),
                scan_after(mall, campaign_id, i % 10, codes[voucher_id], ("owner", "support")[i % 2])]
        calls += pair if i % 2 == 0 else pair[::-1]
    answers = await together(calls)

    online: dict[int, int] = {}
    in_store: set[int] = set()
    for i, voucher_id in enumerate(voucher_ids):
        pair = answers[2 * i:2 * i + 2]
        ordered, scanned = pair if i % 2 == 0 else pair[::-1]
        assert (ordered.status_code == 201) != (scanned.status_code == 200), (ordered.text, scanned.text)
        if ordered.status_code == 201:
            problem(scanned, 409, "voucher_not_redeemable")
            assert ordered.json()["total_fen"] == 2 * TEA - VALUE
            online[voucher_id] = ordered.json()["id"]
        else:
            order_refused(ordered)
            assert (scanned.json()["id"], scanned.json()["status"]) == (voucher_id, "redeemed")
            in_store.add(voucher_id)
    assert len(online) + len(in_store) == VOUCHERS
    await assert_once_each(mall, alice_id, online, in_store, stock_before)

    for order_id in online.values():
        await mall.pay(alice, order_id)
    stored = await voucher_rows(mall)
    assert {v: stored[v] for v in online} == {
        v: ("redeemed", alice_id, o, None, False, False) for v, o in online.items()}
    assert {v: stored[v][0] for v in in_store} == dict.fromkeys(in_store, "redeemed")
    [(paid, refunded)] = await rows(mall.runtime, "SELECT sum(paid_fen), sum(refunded_fen) FROM orders")
    assert (paid, refunded) == (VOUCHERS * PRICE + len(online) * (2 * TEA - VALUE), 0)
    assert (await mall.get_order(alice, gift_order["id"]))["status"] == "completed"


async def test_one_voucher_raced_by_many_orders_and_many_scans_is_used_once(client, mall):
    """Five vouchers, each wanted by 4 orders of its holder and 4 scans by staff at the same moment: one winner per
    voucher out of 8, every other request refused with its clear error, nothing kept for the losers."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    _, voucher_ids = await bought(mall, alice, campaign_id, 5)
    alice_id = await customer_id(mall, alice)
    codes = await codes_of(mall, voucher_ids)
    await mall.staff("owner"), await mall.staff("support")
    stock_before = await mall.sku_stock()

    calls: list[Awaitable[httpx.Response]] = []
    kinds: list[tuple[int, str]] = []
    for voucher_id in voucher_ids:
        for j in range(4):
            calls += [use_online(mall, alice, voucher_id, quantity=2),
                      redeem(mall, codes[voucher_id], role=("owner", "support")[j % 2])]
            kinds += [(voucher_id, "online"), (voucher_id, "store")]
    answers = await together(calls)

    online: dict[int, int] = {}
    in_store: set[int] = set()
    for voucher_id in voucher_ids:
        mine = [(kind, a) for (v, kind), a in zip(kinds, answers, strict=True) if v == voucher_id]
        winners = [(kind, a) for kind, a in mine if a.status_code in (200, 201)]
        assert len(winners) == 1, [(kind, a.status_code, a.text) for kind, a in mine]
        [(kind, won)] = winners
        if kind == "online":
            online[voucher_id] = won.json()["id"]
        else:
            in_store.add(voucher_id)
        for loser_kind, loser in mine:
            if loser is won:
                continue
            if loser_kind == "online":
                order_refused(loser)
            else:
                problem(loser, 409, "voucher_not_redeemable")
    await assert_once_each(mall, alice_id, online, in_store, stock_before)


# --- claims -----------------------------------------------------------------------------------------------------------

async def test_ten_friends_claiming_one_link_at_once_make_one_holder(client, mall):
    """Ten friends with the right token claim at the same moment: one 200, nine 409 voucher_claim_refused; the
    winner alone holds the voucher and one voucher_claimed event is recorded."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    token = (await sent(mall, alice, voucher_id))["token"]
    friends = await together(mall.shopper(f"friend{i}") for i in range(10))
    ids = await together(customer_id(mall, who) for who in friends)
    answers = await together(claim(mall, who, voucher_id, token) for who in friends)
    assert sorted(a.status_code for a in answers) == [200] + [409] * 9
    for answer in answers:
        if answer.status_code != 200:
            problem(answer, 409, "voucher_claim_refused")
    [(winner_id, won)] = [(i, a) for i, a in zip(ids, answers, strict=True) if a.status_code == 200]
    assert (won.json()["holder_id"], won.json()["status"]) == (winner_id, "active")
    assert (await voucher_rows(mall))[voucher_id] == ("active", winner_id, None, None, False, False)
    assert await rows(mall.runtime, "SELECT actor_id, subject_id FROM events WHERE kind = 'voucher_claimed'") == [
        (winner_id, voucher_id)]
    await work_until_idle(mall, passes=6)
    assert (await voucher_rows(mall))[voucher_id][:2] == ("active", winner_id)

