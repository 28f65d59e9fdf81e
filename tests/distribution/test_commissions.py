"""Distribution (分销) through the API: the merchant's switch and rates, distributors, referral binding, and the
commission ledger the worker writes, settles and reverses.

The worked example holds to the fen: A refers B, B refers C; C pays 3 000, B earns 300 (level 1), A 150 (level 2,
only with the recorded legal approval); a half refund takes back 150 and 75; an odd 999 is rounded down and two
partial refunds take back exactly all of it. The switch stops new commission and keeps the history (which goes on
settling and reversing); binding days, self-purchase, pending applications, staff roles and bad input each behave
as documented, and every refused request changes no row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from fissionmall.catalog.models import Sku
from fissionmall.core.runtime import Runtime
from fissionmall.distribution import rules
from fissionmall.distribution import service as distribution
from fissionmall.distribution import tasks as distribution_tasks
from fissionmall.wallet import service as wallet_service
from tests.support import (
    LONG_TOKEN_TTL_SECONDS,
    SHIPMENT,
    Mall,
    Who,
    problem,
    refused_unchanged,
    rows,
    snapshot_of,
    value,
)

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

APPROVAL = "法务部王律师 2026-11-30 批准二级分销，编号 LG-118"
LEDGER = ("distribution_configs", "distributors", "commission_entries", "customers", "events", "outbox_jobs")
"""What a refused distribution request must leave exactly as it was."""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the days these tests move the clock by."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


# --- helpers ----------------------------------------------------------------------------------------------------------

@dataclass
class Person:
    name: str
    who: Who
    id: int


def settings(*, enabled: bool = True, level1_bp: int = 1000, level2_bp: int = 500, approval: str | None = APPROVAL,
             **extra: Any) -> dict[str, Any]:
    """A configuration body: one grade (every distributor is grade 1) with these rates."""
    return {"enabled": enabled, "grades": [{"grade": 1, "name": "分销员", "level1_bp": level1_bp,
                                            "level2_bp": level2_bp}],
            "level2_approval": approval, **extra}


async def configure(mall: Mall, body: dict[str, Any], role: str = "owner") -> httpx.Response:
    return await mall.client.put("/admin/distribution", headers=await mall.staff(role), json=body)


async def configured(mall: Mall, **kwargs: Any) -> dict[str, Any]:
    response = await configure(mall, settings(**kwargs))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def invite_code(mall: Mall, person: Person) -> str:
    response = await mall.client.post("/shares", headers=person.who,
                                      json={"target_type": "invite", "target_id": person.id})
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def join(mall: Mall, name: str, referrer: Person | None = None, *, distributor: bool = True) -> Person:
    """Sign up (through the referrer's share link if given) and, if asked, apply to be a distributor."""
    body: dict[str, Any] = {"merchant_slug": mall.slug, "openid": name, "nickname": name}
    if referrer is not None:
        body["share_code"] = await invite_code(mall, referrer)
    response = await mall.client.post("/auth/dev-login", json=body)
    assert response.status_code == 200, response.text
    person = Person(name, {"Authorization": f"Bearer {response.json()['token']}"}, int(response.json()["customer_id"]))
    if distributor:
        await apply(mall, person)
    return person


async def apply(mall: Mall, person: Person) -> dict[str, Any]:
    response = await mall.client.post("/distributors", headers=person.who)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def mine(mall: Mall, person: Person) -> dict[str, Any]:
    response = await mall.client.get("/distributors/me", headers=person.who)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def money(mall: Mall, person: Person) -> tuple[int, int]:
    """(frozen, settled) as the distributor's page shows them."""
    page = await mine(mall, person)
    return page["frozen_fen"], page["settled_fen"]


async def buy(mall: Mall, person: Person, quantity: int = 3, sku_id: int | None = None,
              wallet_fen: int = 0) -> int:
    """Place and pay an order through the sandbox; the worker runs (notification, then commission)."""
    extra: dict[str, Any] = {"wallet_fen": wallet_fen} if wallet_fen else {}
    response = await mall.place_order(person.who, quantity, sku_id=sku_id, **extra)
    assert response.status_code == 201, response.text
    order_id: int = response.json()["id"]
    paid = await mall.pay(person.who, order_id)
    assert paid["status"] == "to_ship", paid
    return order_id


async def refund(mall: Mall, order_id: int, amount_fen: int | None) -> None:
    """The merchant refunds (finance), the worker has the sandbox pay back and applies its notification."""
    body: dict[str, Any] = {"reason": "goodwill"} if amount_fen is None else {"reason": "goodwill",
                                                                              "amount_fen": amount_fen}
    response = await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=await mall.staff("finance"),
                                      json=body)
    assert response.status_code == 201, response.text
    await mall.work()
    await mall.work()


async def ship_and_receive(mall: Mall, person: Person, order_id: int) -> None:
    response = await mall.client.post(f"/admin/orders/{order_id}/ship", headers=await mall.staff("support"),
                                      json=SHIPMENT)
    assert response.status_code == 200, response.text
    response = await mall.client.post(f"/orders/{order_id}/receive", headers=person.who)
    assert response.status_code == 200, response.text


async def complete(mall: Mall, person: Person, order_id: int) -> datetime:
    """Ship, receive, let the 7-day after-sale window pass: the order completes and its commission settles."""
    await ship_and_receive(mall, person, order_id)
    at = mall.runtime.clock.advance(days=7, seconds=1)
    await mall.work()
    assert (await mall.get_order(person.who, order_id))["status"] == "completed"
    return at


async def ledger(runtime: Runtime, order_id: int | None = None) -> list[tuple[Any, ...]]:
    """(beneficiary, order, level, kind, amount, rate bp, base, status) of every entry, oldest first."""
    where = "" if order_id is None else f"WHERE order_id = {int(order_id)}"
    return await rows(runtime, "SELECT beneficiary_id, order_id, level, kind, amount_fen, rate_bp, base_fen, status "
                               f"FROM commission_entries {where} ORDER BY id")


snapshot = partial(snapshot_of, tables=LEDGER)


refused = partial(refused_unchanged, tables=LEDGER)


async def add_sku(mall: Mall, price_fen: int, code: str) -> int:
    async with mall.runtime.sessionmaker() as session:
        sku = Sku(merchant_id=mall.merchant_id, product_id=mall.product_id, code=code, name=code, price_fen=price_fen,
                  stock=100)
        session.add(sku)
        await session.commit()
        return sku.id


async def family(mall: Mall) -> tuple[Person, Person, Person]:
    """A refers B, B refers C; all three approved distributors."""
    a = await join(mall, "a")
    b = await join(mall, "b", a)
    c = await join(mall, "c", b)
    return a, b, c


def c_(beneficiary: Person, order_id: int, level: int, amount: int, rate: int, base: int,
       status: str = "frozen") -> tuple[Any, ...]:
    """A commission row as `ledger` returns it."""
    return (beneficiary.id, order_id, level, "commission", amount, rate, base, status)


def r_(beneficiary: Person, order_id: int, level: int, amount: int, rate: int, base: int,
       status: str = "frozen") -> tuple[Any, ...]:
    """A reversal row as `ledger` returns it."""
    return (beneficiary.id, order_id, level, "reversal", amount, rate, base, status)


# --- the worked example -----------------------------------------------------------------------------------------------

async def test_the_worked_example_pays_both_levels_and_a_half_refund_reverses_half(client, mall, runtime):
    """C pays 3 × 1000: B earns 300 at level 1, A 150 at level 2, both frozen; half refunded → −150 and −75."""
    await configured(mall)
    a, b, c = await family(mall)
    order = await buy(mall, c)
    assert await ledger(runtime) == [c_(b, order, 1, 300, 1000, 3000), c_(a, order, 2, 150, 500, 3000)]
    page = await mine(mall, b)
    assert (page["distributor"]["status"], page["referrer_id"], page["referrals"]) == ("approved", a.id, 1)
    assert (page["frozen_fen"], page["settled_fen"]) == (300, 0)
    assert [(e["order_id"], e["buyer_id"], e["level"], e["kind"], e["amount_fen"], e["status"])
            for e in page["entries"]] == [(order, c.id, 1, "commission", 300, "frozen")]
    assert await money(mall, a) == (150, 0)
    assert await money(mall, c) == (0, 0)

    await refund(mall, order, 1500)
    assert (await mall.get_order(c.who, order))["refunded_fen"] == 1500
    assert await ledger(runtime) == [c_(b, order, 1, 300, 1000, 3000), c_(a, order, 2, 150, 500, 3000),
                                     r_(b, order, 1, -150, 1000, 3000), r_(a, order, 2, -75, 500, 3000)]
    assert await money(mall, b) == (150, 0)
    assert await money(mall, a) == (75, 0)
    assert [(e["kind"], e["amount_fen"]) for e in (await mine(mall, b))["entries"]] == [
        ("reversal", -150), ("commission", 300)]


async def test_the_rest_of_a_refunded_order_settles_when_it_completes(client, mall, runtime):
    """After the after-sale window the order completes: every entry of it (commission and reversal) settles."""
    await configured(mall)
    a, b, c = await family(mall)
    order = await buy(mall, c)
    await refund(mall, order, 1500)
    await ship_and_receive(mall, c, order)
    runtime.clock.advance(days=7, seconds=-1)
    await mall.work()
    assert (await mall.get_order(c.who, order))["status"] == "received"
    assert await money(mall, b) == (150, 0)
    settled_at = runtime.clock.advance(seconds=1)
    await mall.work()
    assert await ledger(runtime) == [c_(b, order, 1, 300, 1000, 3000, "settled"),
                                     c_(a, order, 2, 150, 500, 3000, "settled"),
                                     r_(b, order, 1, -150, 1000, 3000, "settled"),
                                     r_(a, order, 2, -75, 500, 3000, "settled")]
    assert await money(mall, b) == (0, 150)
    assert await money(mall, a) == (0, 75)
    stamps = await rows(runtime, "SELECT DISTINCT settled_at FROM commission_entries")
    assert [datetime.fromisoformat(str(s)).replace(tzinfo=None) for (s,) in stamps] == [
        settled_at.replace(tzinfo=None)]


async def test_without_the_legal_approval_level_two_earns_nothing(client, mall, runtime):
    """No level-2 rate and no approval: B still gets 300, A nothing, and a refund reverses only B's."""
    body = await configured(mall, level2_bp=0, approval=None)
    assert (body["lint"]["ok"], body["lint"]["findings"], body["level2_approved_by"]) == (True, [], None)
    a, b, c = await family(mall)
    order = await buy(mall, c)
    assert await ledger(runtime) == [c_(b, order, 1, 300, 1000, 3000)]
    await refund(mall, order, 1500)
    assert await ledger(runtime) == [c_(b, order, 1, 300, 1000, 3000), r_(b, order, 1, -150, 1000, 3000)]
    assert await money(mall, a) == (0, 0)


async def test_a_full_refund_takes_back_everything(client, mall, runtime):
    """The whole 3000 refunded: −300 and −150, every balance back at 0."""
    await configured(mall)
    a, b, c = await family(mall)
    order = await buy(mall, c)
    await refund(mall, order, None)
    assert (await mall.get_order(c.who, order))["status"] == "refunded"
    assert [row[3:5] for row in await ledger(runtime)] == [("commission", 300), ("commission", 150),
                                                           ("reversal", -300), ("reversal", -150)]
    assert await money(mall, b) == (0, 0)
    assert await money(mall, a) == (0, 0)


async def test_an_odd_amount_rounds_down_and_two_refunds_reverse_it_exactly(client, mall, runtime):
    """Paid 999: 10% → 99, 5% → 49 (never rounded up); refunds of 500 then 499 take back 49 + 50 and 24 + 25."""
    await configured(mall)
    a, b, c = await family(mall)
    odd = await add_sku(mall, 999, "acme-tea-odd")
    order = await buy(mall, c, 1, sku_id=odd)
    assert await ledger(runtime) == [c_(b, order, 1, 99, 1000, 999), c_(a, order, 2, 49, 500, 999)]
    await refund(mall, order, 500)
    assert (await ledger(runtime))[2:] == [r_(b, order, 1, -49, 1000, 999), r_(a, order, 2, -24, 500, 999)]
    await refund(mall, order, 499)
    assert (await ledger(runtime))[4:] == [r_(b, order, 1, -50, 1000, 999), r_(a, order, 2, -25, 500, 999)]
    assert await value(runtime, "SELECT sum(amount_fen) FROM commission_entries WHERE level = 1") == 0
    assert await value(runtime, "SELECT sum(amount_fen) FROM commission_entries WHERE level = 2") == 0
    assert await money(mall, b) == (0, 0)


async def test_commission_is_on_the_cash_paid_not_the_credit_used(client, mall, runtime):
    """3000 of goods, 500 paid with shop credit: the base is the 2500 actually paid (250 and 125)."""
    await configured(mall)
    a, b, c = await family(mall)
    async with runtime.sessionmaker() as session:
        assert await wallet_service.credit(session, mall.merchant_id, c.id, 500, "test_grant", ("test", 1),
                                           runtime.clock.now())
        await session.commit()
    order = await buy(mall, c, 3, wallet_fen=500)
    assert await ledger(runtime) == [c_(b, order, 1, 250, 1000, 2500), c_(a, order, 2, 125, 500, 2500)]


async def test_commission_never_reaches_a_third_level(client, mall, runtime):
    """A → B → C → D, all distributors: D's purchase pays C (level 1) and B (level 2), never A."""
    await configured(mall)
    a, b, c = await family(mall)
    d = await join(mall, "d", c)
    order = await buy(mall, d, 2)
    assert await ledger(runtime) == [c_(c, order, 1, 200, 1000, 2000), c_(b, order, 2, 100, 500, 2000)]
    assert await money(mall, a) == (0, 0)


async def test_only_approved_distributors_earn_each_level_on_its_own(client, mall, runtime):
    """B is C's referrer but no distributor: nothing at level 1; A still earns level 2 on C's purchase."""
    await configured(mall)
    a = await join(mall, "a")
    b = await join(mall, "b", a, distributor=False)
    c = await join(mall, "c", b)
    order = await buy(mall, c)
    assert await ledger(runtime) == [c_(a, order, 2, 150, 500, 3000)]
    page = await mine(mall, b)
    assert (page["distributor"], page["referrer_id"], page["referrals"], page["frozen_fen"]) == (None, a.id, 1, 0)


async def test_unpaid_and_cancelled_orders_earn_nothing(client, mall, runtime):
    """An order placed but never paid (then cancelled at its deadline) writes no commission."""
    await configured(mall)
    a, b, c = await family(mall)
    response = await mall.place_order(c.who, 3)
    assert response.status_code == 201, response.text
    await mall.work()
    runtime.clock.advance(days=1)
    await mall.work()
    assert (await mall.get_order(c.who, response.json()["id"]))["status"] == "cancelled"
    assert await ledger(runtime) == []


# --- the switch -------------------------------------------------------------------------------------------------------

async def test_switching_off_stops_new_commission_and_keeps_the_history(client, mall, runtime):
    """Off: C's next order earns nothing, what was written stays and still reverses and settles; on: resumes."""
    await configured(mall)
    a, b, c = await family(mall)
    first = await buy(mall, c)
    before = await ledger(runtime)
    assert before == [c_(b, first, 1, 300, 1000, 3000), c_(a, first, 2, 150, 500, 3000)]

    body = await configured(mall, enabled=False)
    assert body["enabled"] is False
    second = await buy(mall, c)
    assert await ledger(runtime) == before
    assert await value(runtime, "SELECT count(*) FROM outbox_jobs WHERE kind = :k",
                       k=distribution.COMMISSION_JOB) == 1

    await refund(mall, first, 1000)
    assert (await ledger(runtime))[2:] == [r_(b, first, 1, -100, 1000, 3000), r_(a, first, 2, -50, 500, 3000)]
    await complete(mall, c, first)
    assert {row[7] for row in await ledger(runtime, first)} == {"settled"}
    assert await money(mall, b) == (0, 200)
    assert await ledger(runtime, second) == []

    await configured(mall, enabled=True)
    third = await buy(mall, c, 1)
    assert await ledger(runtime, third) == [c_(b, third, 1, 100, 1000, 1000), c_(a, third, 2, 50, 500, 1000)]
    assert await ledger(runtime, second) == []
    assert await money(mall, b) == (100, 200)


async def test_an_order_paid_while_off_stays_without_commission_after_switching_on(client, mall, runtime):
    """Switching on resumes from then on; it does not reach back to payments made while off."""
    await configured(mall, enabled=False)
    a, b, c = await family(mall)
    order = await buy(mall, c)
    await configured(mall, enabled=True)
    await mall.work()
    await refund(mall, order, 1000)
    assert await ledger(runtime) == []


# --- binding, self-purchase, applications -----------------------------------------------------------------------------

async def test_binding_days_end_what_a_referral_earns(client, mall, runtime):
    """Bound for 30 days: a purchase at 30 days less a second pays the referrer, one at 30 days pays nothing; a
    newer customer of the same referrer still pays; unbinding the limit binds them for good again."""
    await configured(mall, level2_bp=0, approval=None, binding_days=30)
    a = await join(mall, "a")
    c = await join(mall, "c", a, distributor=False)
    runtime.clock.advance(days=30, seconds=-1)
    inside = await buy(mall, c, 1)
    runtime.clock.advance(seconds=1)
    outside = await buy(mall, c, 1)
    d = await join(mall, "d", a, distributor=False)
    newer = await buy(mall, d, 2)
    assert await ledger(runtime) == [c_(a, inside, 1, 100, 1000, 1000), c_(a, newer, 1, 200, 1000, 2000)]
    assert (await mine(mall, c))["referrer_id"] == a.id

    await configured(mall, level2_bp=0, approval=None, binding_days=None)
    runtime.clock.advance(days=365)
    c.who = await mall.shopper("c")  # the old token has expired
    forever = await buy(mall, c, 1)
    assert await ledger(runtime, forever) == [c_(a, forever, 1, 100, 1000, 1000)]
    assert await ledger(runtime, outside) == []


async def test_own_purchases_earn_only_with_self_purchase_on(client, mall, runtime):
    """B (a distributor, referred by A) buys: off, A earns level 1 and B nothing; on, B earns level 1 and A level 2."""
    await configured(mall)
    a = await join(mall, "a")
    b = await join(mall, "b", a)
    off = await buy(mall, b)
    assert await ledger(runtime) == [c_(a, off, 1, 300, 1000, 3000)]
    await configured(mall, self_purchase=True)
    on = await buy(mall, b)
    assert await ledger(runtime, on) == [c_(b, on, 1, 300, 1000, 3000), c_(a, on, 2, 150, 500, 3000)]


async def test_self_purchase_does_not_demote_a_plain_customers_referrer(client, mall, runtime):
    """C is no distributor: with self-purchase on, C's referrer B is still paid level 1 (300) and A level 2."""
    await configured(mall, self_purchase=True)
    a = await join(mall, "a")
    b = await join(mall, "b", a)
    c = await join(mall, "c", b, distributor=False)
    order = await buy(mall, c)
    assert await ledger(runtime) == [c_(b, order, 1, 300, 1000, 3000), c_(a, order, 2, 150, 500, 3000)]


async def test_pending_applications_earn_nothing_until_approved(client, mall, runtime):
    """Reviewed applications: B pending earns nothing on C's order; approved, B earns on the next."""
    await configured(mall, level2_bp=0, approval=None, auto_approve=False)
    b = await join(mall, "b")
    c = await join(mall, "c", b, distributor=False)
    page = await mine(mall, b)
    assert (page["distributor"]["status"], page["distributor"]["decided_at"]) == ("pending", None)
    before = await buy(mall, c, 1)
    assert await ledger(runtime) == []

    await refused(mall, client.post(f"/admin/distributors/{b.id}/approve", headers=await mall.staff("operator")),
                  403, "forbidden")
    decided_at = runtime.clock.advance(hours=1)
    response = await client.post(f"/admin/distributors/{b.id}/approve", headers=await mall.staff("owner"))
    assert response.status_code == 200, response.text
    assert (response.json()["customer_id"], response.json()["status"]) == (b.id, "approved")
    assert datetime.fromisoformat(response.json()["decided_at"]) == decided_at
    after = await buy(mall, c, 1)
    assert await ledger(runtime) == [c_(b, after, 1, 100, 1000, 1000)]
    assert await ledger(runtime, before) == []
    await refused(mall, client.post(f"/admin/distributors/{b.id}/approve", headers=await mall.staff("owner")),
                  409, "application_not_pending")


async def test_a_rejected_application_earns_nothing_and_stays_rejected(client, mall, runtime):
    """Rejected: no commission, applying again changes nothing, and it cannot be approved afterwards."""
    await configured(mall, level2_bp=0, approval=None, auto_approve=False)
    b = await join(mall, "b")
    c = await join(mall, "c", b, distributor=False)
    response = await client.post(f"/admin/distributors/{b.id}/reject", headers=await mall.staff("owner"))
    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    assert (await apply(mall, b))["status"] == "rejected"
    await buy(mall, c, 1)
    assert await ledger(runtime) == []
    await refused(mall, client.post(f"/admin/distributors/{b.id}/approve", headers=await mall.staff("owner")),
                  409, "application_not_pending")
    await refused(mall, client.post(f"/admin/distributors/{c.id}/approve", headers=await mall.staff("owner")),
                  409, "application_not_pending")
    problem(await client.post(f"/admin/distributors/{b.id}/promote", headers=await mall.staff("owner")),
            404, "not_found")


async def test_applying_is_at_once_with_auto_approve_and_idempotent(client, mall, runtime):
    """Auto-approve: approved on the spot, stamped now; applying again returns the same row."""
    await configured(mall)
    b = await join(mall, "b", distributor=False)
    first = await apply(mall, b)
    assert (first["customer_id"], first["status"], first["grade"]) == (b.id, "approved", 1)
    assert first["decided_at"] == first["applied_at"]
    runtime.clock.advance(hours=1)
    assert await apply(mall, b) == first
    assert await value(runtime, "SELECT count(*) FROM distributors") == 1


async def test_the_distributor_page_shows_referrer_and_referrals(client, mall, runtime):
    """Counts who joined through one's links; a customer who joined directly has no referrer."""
    await configured(mall)
    a = await join(mall, "a", distributor=False)
    for name in ("b", "c", "d"):
        await join(mall, name, a, distributor=False)
    page = await mine(mall, a)
    assert page == {"distributor": None, "referrer_id": None, "referrals": 3, "frozen_fen": 0, "settled_fen": 0,
                    "withdrawable_fen": 0, "withdrawn_fen": 0,
                    "entries": [], "payee": None}
    problem(await client.get("/distributors/me"), 401, "unauthenticated")


# --- the ledger's jobs ------------------------------------------------------------------------------------------------

async def test_each_ledger_job_writes_once_however_often_it_runs(client, mall, runtime):
    """Running the commission and reversal jobs again for the same payment and refund adds no row."""
    await configured(mall)
    a, b, c = await family(mall)
    order = await buy(mall, c)
    await refund(mall, order, 1000)
    before = await ledger(runtime)
    assert len(before) == 4
    payload = {"merchant_id": mall.merchant_id, "subject_id": order}
    await distribution_tasks.write_commissions(runtime, payload)
    await distribution_tasks.reverse(runtime, payload)
    await distribution_tasks.write_commissions(runtime, payload)
    assert await ledger(runtime) == before


async def test_a_refund_reaching_a_settled_commission_reverses_it_settled(client, mall, runtime):
    """A refund applied after the order's commission settled (the reversal job run then) is written settled."""
    await configured(mall)
    a, b, c = await family(mall)
    order = await buy(mall, c)
    await complete(mall, c, order)
    assert await money(mall, b) == (0, 300)
    async with runtime.sessionmaker() as session:
        await session.execute(text("UPDATE orders SET refund_reserved_fen = 1000, refunded_fen = 1000 WHERE id = :o"),
                              {"o": order})
        await session.commit()
    await distribution_tasks.reverse(runtime, {"merchant_id": mall.merchant_id, "subject_id": order})
    assert (await ledger(runtime))[2:] == [r_(b, order, 1, -100, 1000, 3000, "settled"),
                                           r_(a, order, 2, -50, 500, 3000, "settled")]
    assert await money(mall, b) == (0, 200)
    assert await money(mall, a) == (0, 100)
    assert await value(runtime, "SELECT count(*) FROM commission_entries WHERE settled_at IS NULL") == 0


# --- configuration ----------------------------------------------------------------------------------------------------

async def test_configuration_is_saved_linted_and_read_back(client, mall, runtime):
    """PUT answers the saved settings with their lint (D1 ok with the approval, who recorded it and when); GET by
    any staff role reads the same; re-saving the same approval keeps its stamp, a new one restamps it."""
    problem(await client.get("/admin/distribution", headers=await mall.staff("finance")), 404,
            "distribution_not_configured")
    saved_at = runtime.clock.now()
    body = await configured(mall, binding_days=90, auto_approve=False)
    owner_id = await value(runtime, "SELECT id FROM staff WHERE username = 'owner'")
    assert body == {**settings(binding_days=90, auto_approve=False, self_purchase=False, withdraw_min_fen=100,
                                withdraw_review=True),
                    "level2_approved_by": owner_id, "level2_approved_at": body["level2_approved_at"],
                    "lint": {"ok": True, "kept": ["分销员 一级佣金", "分销员 二级佣金"], "refused": [],
                             "findings": [{"rule": "D1", "level": "ok", "reward": "分销员 二级佣金",
                                           "reason": f"level-2 commission, with the recorded legal approval: "
                                                     f"{APPROVAL}",
                                           "message": f"二级佣金，已登记法律意见：{APPROVAL}"}]}}
    assert datetime.fromisoformat(body["level2_approved_at"]) == saved_at
    for role in ("owner", "operator", "finance", "support"):
        response = await client.get("/admin/distribution", headers=await mall.staff(role))
        assert (response.status_code, response.json()) == (200, body)

    runtime.clock.advance(days=1)
    again = await configured(mall, level1_bp=1200)
    assert (again["level2_approved_at"], again["grades"][0]["level1_bp"]) == (body["level2_approved_at"], 1200)
    changed_at = runtime.clock.advance(days=1)
    other = await configured(mall, approval="法务部李律师 2026-12-02 复核通过，编号 LG-120")
    assert datetime.fromisoformat(other["level2_approved_at"]) == changed_at
    cleared = await configured(mall, level2_bp=0, approval=None)
    assert (cleared["level2_approval"], cleared["level2_approved_by"], cleared["level2_approved_at"]) == (
        None, None, None)
    assert await value(runtime, "SELECT count(*) FROM distribution_configs") == 1


async def test_level_two_without_approval_is_blocked_and_saves_nothing(client, mall, runtime):
    """A level-2 rate without the recorded approval: 409 lint_blocked naming D1, first time or changing a saved
    configuration."""
    answer = await refused(mall, configure(mall, settings(approval=None)), 409, "lint_blocked")
    assert [(f["rule"], f["level"], f["reward"]) for f in answer["findings"]] == [("D1", "approve", "分销员 二级佣金")]
    await configured(mall)
    answer = await refused(mall, configure(mall, settings(approval=None, enabled=False)), 409, "lint_blocked")
    assert [(f["rule"], f["level"]) for f in answer["findings"]] == [("D1", "approve")]
    assert (await client.get("/admin/distribution", headers=await mall.staff())).json()["level2_approval"] == APPROVAL


async def test_only_the_owner_may_change_distribution(client, mall, runtime):
    """Operator, finance, support: 403 forbidden on the settings and on applications, nothing saved."""
    await configured(mall, auto_approve=False)
    b = await join(mall, "b")
    for role in ("operator", "finance", "support"):
        await refused(mall, configure(mall, settings(enabled=False), role=role), 403, "forbidden")
        await refused(mall, client.post(f"/admin/distributors/{b.id}/reject", headers=await mall.staff(role)),
                      403, "forbidden")
    assert (await client.get("/admin/distribution", headers=await mall.staff())).json()["enabled"] is True
    assert (await mine(mall, b))["distributor"]["status"] == "pending"


async def test_shoppers_and_strangers_cannot_reach_the_admin_endpoints(client, mall, runtime):
    """A shopper's token is not a staff token: 401 on configuration, decisions, the linter and the preset."""
    b = await join(mall, "b", distributor=False)
    await refused(mall, client.put("/admin/distribution", headers=b.who, json=settings()), 401, "unauthenticated")
    await refused(mall, client.post(f"/admin/distributors/{b.id}/approve", headers=b.who), 401, "unauthenticated")
    problem(await client.post("/admin/plans/lint", json={"name": "p"}), 401, "unauthenticated")
    problem(await client.get("/admin/plans/presets/3+9", headers=b.who), 401, "unauthenticated")


GRADE = {"grade": 1, "name": "分销员", "level1_bp": 1000, "level2_bp": 0}


BAD = [
    ({"grades": [GRADE]}, "enabled"),
    ({"enabled": "maybe", "grades": [GRADE]}, "enabled"),
    ({"enabled": True}, "grades"),
    ({"enabled": True, "grades": []}, "grades"),
    ({"enabled": True, "grades": [GRADE, GRADE]}, "grades"),
    ({"enabled": True, "grades": [{**GRADE, "level1_bp": 5001}]}, "grades.0.level1_bp"),
    ({"enabled": True, "grades": [{**GRADE, "level1_bp": -1}]}, "grades.0.level1_bp"),
    ({"enabled": True, "grades": [{**GRADE, "level2_bp": 5001}]}, "grades.0.level2_bp"),
    ({"enabled": True, "grades": [{**GRADE, "grade": 0}]}, "grades.0.grade"),
    ({"enabled": True, "grades": [{**GRADE, "name": ""}]}, "grades.0.name"),
    ({"enabled": True, "grades": [GRADE], "level2_approval": "法务同意了"}, "level2_approval"),
    ({"enabled": True, "grades": [GRADE], "binding_days": 0}, "binding_days"),
    ({"enabled": True, "grades": [GRADE], "binding_days": 3651}, "binding_days"),
]
"""Each bad configuration body with the field its 422 must name."""


async def test_bad_configuration_is_refused_with_its_field(client, mall, runtime):
    """Missing or out-of-range settings, duplicate grades, an approval under 10 characters: 422, nothing saved."""
    await configured(mall)
    for body, field in BAD:
        answer = await refused(mall, configure(mall, body), 422, "invalid_request")
        assert field in [e["field"] for e in answer["errors"]], (body, answer)


async def test_a_blank_approval_is_no_approval(client, mall, runtime):
    """Ten or more spaces record no legal approval: refused (422, or 409 lint_blocked), nothing saved."""
    response = await configure(mall, settings(approval=" " * 12))
    assert response.status_code in (409, 422), response.text
    problem(await client.get("/admin/distribution", headers=await mall.staff()), 404, "distribution_not_configured")


# --- the linter over HTTP ---------------------------------------------------------------------------------------------

async def test_the_lint_endpoint_judges_any_plan(client, mall, runtime):
    """POST /admin/plans/lint answers exactly what rules.lint says; a malformed plan is 422."""
    plan = {"name": "三级分销", "legal_approval": APPROVAL, "copy_text": ["三单回本"], "rewards": [
        {"name": "一级", "kind": "commission", "basis": "referral_purchase", "depth": 1, "rate_percent": 10},
        {"name": "二级", "kind": "commission", "basis": "referral_purchase", "depth": 2, "rate_percent": 5},
        {"name": "三级", "kind": "commission", "basis": "referral_purchase", "depth": 3, "rate_percent": 2}]}
    response = await client.post("/admin/plans/lint", headers=await mall.staff("support"), json=plan)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["ok"], body["kept"], body["refused"]) == (False, ["一级", "二级"], ["三级"])
    assert [(f["rule"], f["level"], f["reward"]) for f in body["findings"]] == [
        ("D7", "block", None), ("D1", "ok", "二级"), ("D1", "block", "三级")]
    bad = {**plan, "rewards": [{**plan["rewards"][0], "depth": 21}]}
    answer = problem(await client.post("/admin/plans/lint", headers=await mall.staff(), json=bad), 422,
                     "invalid_request")
    assert answer["errors"][0]["field"] == "rewards.0.depth"


async def test_the_three_plus_nine_preset_over_http(client, mall, runtime):
    """GET /admin/plans/presets/3+9: the whole seed plan and its report, as the pure preset gives them."""
    response = await client.get("/admin/plans/presets/3+9", headers=await mall.staff("finance"))
    assert response.status_code == 200, response.text
    plan = rules.three_plus_nine()
    assert response.json() == {"plan": plan.model_dump(mode="json"), "report": rules.lint(plan).model_dump(mode="json")}
    assert response.json()["report"]["kept"] == ["直推补贴 ¥100/单", "间推补贴 ¥50/单",
                                                 "活跃 1 级：月消费 899 得 3596 分红积分",
                                                 "每月 30 日分红池：3000 分以上按分红积分加权"]
    assert len(response.json()["report"]["refused"]) == 9


async def test_the_merchant_lists_applications_and_moves_a_distributor_to_another_grade(client, mall, runtime):
    """With review on, an application is listed as pending; the owner moves an approved distributor to grade 2
    and the next payment pays grade 2's rate. A grade the merchant has not defined is 422 unknown_grade, a customer
    who is no distributor 404, an operator 403; nothing changes."""
    body = settings(level2_bp=0, approval=None, auto_approve=False)
    body["grades"].append({"grade": 2, "name": "金牌分销员", "level1_bp": 2000, "level2_bp": 0})
    assert (await configure(mall, body)).status_code == 200
    b = await join(mall, "b")
    c = await join(mall, "c", b, distributor=False)
    owner = await mall.staff()
    pending = await client.get("/admin/distributors", params={"status": "pending"}, headers=owner)
    assert [(d["customer_id"], d["status"]) for d in pending.json()] == [(b.id, "pending")]
    assert (await client.post(f"/admin/distributors/{b.id}/approve", headers=owner)).status_code == 200
    problem(await client.patch(f"/admin/distributors/{b.id}", headers=owner, json={"grade": 3}), 422, "unknown_grade")
    problem(await client.patch(f"/admin/distributors/{c.id}", headers=owner, json={"grade": 2}), 404,
            "distributor_not_found")
    problem(await client.patch(f"/admin/distributors/{b.id}", headers=await mall.staff("operator"),
                               json={"grade": 2}), 403, "forbidden")
    assert await rows(runtime, "SELECT grade FROM distributors") == [(1,)]
    moved = await client.patch(f"/admin/distributors/{b.id}", headers=owner, json={"grade": 2})
    assert (moved.status_code, moved.json()["grade"]) == (200, 2)
    order = await buy(mall, c)
    assert await ledger(runtime, order) == [(b.id, order, 1, "commission", 600, 2000, 3000, "frozen")]
