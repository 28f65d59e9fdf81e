"""Withdrawals (提现) of settled commission through the API (COMPLIANCE F6), with the worker paying out.

A payee first records a real name and a resident ID number that passes GB 11643 (ASCII digits, check character, a
real birth date, 18 or older by the China date); only a keyed hash and the last four characters are kept. A
withdrawal needs the merchant's minimum and may take only settled commission less every withdrawal not rejected:
frozen commission does not count, and a reversal after settlement is carried as a negative balance. Staff with
`payouts.decide` (owner, finance) approve or reject once; without review a request is approved as it is made. The
worker pays an approved withdrawal through the provider's transfer: paid, refused (the withdrawal is rejected and
the money withdrawable again), or still waiting for the customer (the package for the mini-program is kept and a
fresh job asks again ten minutes later, until the provider pays or gives up). A request repeated under its
Idempotency-Key withdraws once.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from fissionmall.core.payment_provider import TransferRequest, TransferResult
from fissionmall.core.runtime import Runtime
from fissionmall.distribution import tasks as distribution
from fissionmall.distribution.withdrawals import PAYOUT_JOB
from fissionmall.payments.providers.sandbox import SandboxProvider
from tests.distribution.test_commissions import Person, apply, buy, complete, configured, join, mine
from tests.support import LONG_TOKEN_TTL_SECONDS, Mall, problem, refused_unchanged, rows, snapshot_of, value

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

WATCHED = ("payees", "withdrawals", "commission_entries", "events", "outbox_jobs", "sandbox_transfers")
"""What a refused withdrawal request or decision must leave exactly as it was."""
NAME = "张三"
BILL = "1330000114850082502281000000000"
PACKAGE = "ABBQO+oYAAABAAAAAAAB3tD8bXbQAAAAHMlKu0Th+Z1yrL6tUwP3a7zAUmQ="
REFUSED = TransferResult(state="failed", bill_no=BILL, reason="收款用户账户异常")
WAITING = TransferResult(state="pending", bill_no=BILL, package_info=PACKAGE)
RECHECK = timedelta(minutes=10)
"""How soon a transfer waiting for the customer is asked about again."""
_buyers = itertools.count(1)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the after-sale weeks these tests move the clock by."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


# --- helpers ----------------------------------------------------------------------------------------------------------

def id_number(first17: str) -> str:
    """A resident ID number with its GB 11643 check character, worked out here (weights 2^(17−i) mod 11, check
    (12 − sum mod 11) mod 11, 10 written X), not by the code under test."""
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


ADULT = id_number("11010519900307123")
"""Born 1990-03-07; the clock starts at 2026-01-01 12:00 UTC."""


async def setup(mall: Mall, **extra: Any) -> None:
    """Level 1 at 10% (no level 2): a referred customer's 1 000-fen item earns 100 fen."""
    await configured(mall, level2_bp=0, approval=None, **extra)


async def earn(mall: Mall, earner: Person, quantity: int = 3) -> int:
    """A new customer referred by `earner` buys `quantity` items, the order completes: quantity × 100 fen of
    commission settles for the earner. Returns the order."""
    buyer = await join(mall, f"{earner.name}-buyer{next(_buyers)}", earner, distributor=False)
    order = await buy(mall, buyer, quantity)
    await complete(mall, buyer, order)
    return order


async def identify(mall: Mall, person: Person, number: str = ADULT, name: str = NAME) -> httpx.Response:
    return await mall.client.put("/distributors/me/identity", headers=person.who,
                                 json={"real_name": name, "id_number": number})


async def payee(mall: Mall, name: str, quantity: int = 3) -> Person:
    """A distributor with quantity × 100 fen settled and a checked identity."""
    person = await join(mall, name)
    await earn(mall, person, quantity)
    assert (await identify(mall, person)).status_code == 200
    return person


def ask(mall: Mall, person: Person, amount_fen: object) -> Any:
    return mall.client.post("/distributors/me/withdrawals", headers=person.who, json={"amount_fen": amount_fen})


async def withdraw(mall: Mall, person: Person, amount_fen: int) -> dict[str, Any]:
    response = await ask(mall, person, amount_fen)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def decision(mall: Mall, withdrawal_id: int, action: str, headers: dict[str, str],
             reason: str | None = None) -> Any:
    body = {"reason": reason} if reason else {}
    return mall.client.post(f"/admin/withdrawals/{withdrawal_id}/{action}", headers=headers,
                            json=body if action == "reject" else None)


async def decide(mall: Mall, withdrawal_id: int, action: str, role: str = "finance",
                 reason: str | None = None) -> dict[str, Any]:
    response = await decision(mall, withdrawal_id, action, await mall.staff(role), reason)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def purse(mall: Mall, person: Person) -> tuple[int, int, int, int]:
    """(frozen, settled, withdrawable, withdrawn) as the distributor's page shows them."""
    page = await mine(mall, person)
    return page["frozen_fen"], page["settled_fen"], page["withdrawable_fen"], page["withdrawn_fen"]


async def my_withdrawals(mall: Mall, person: Person) -> list[dict[str, Any]]:
    response = await mall.client.get("/distributors/me/withdrawals", headers=person.who)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def listed(mall: Mall, status: str | None = None, role: str = "finance") -> list[tuple[int, int, str]]:
    """(id, amount, status) of the merchant's withdrawals, newest first, as staff see them."""
    response = await mall.client.get("/admin/withdrawals", headers=await mall.staff(role),
                                     params={"status": status} if status else None)
    assert response.status_code == 200, response.text
    return [(w["id"], w["amount_fen"], w["status"]) for w in response.json()]


async def stored(runtime: Runtime, withdrawal_id: int) -> tuple[Any, ...]:
    """(status, amount, reason, provider, bill_no, package_info) of a withdrawal row."""
    [row] = await rows(runtime, "SELECT status, amount_fen, reason, provider, bill_no, package_info FROM withdrawals "
                                "WHERE id = :w", w=withdrawal_id)
    return row


async def transfers(runtime: Runtime) -> list[tuple[Any, ...]]:
    return await rows(runtime, "SELECT out_bill_no, openid, amount_fen FROM sandbox_transfers ORDER BY id")


async def jobs_due(runtime: Runtime) -> list[tuple[str, datetime | None]]:
    """(status, when it runs) of every payout job, oldest first; the time only for those still pending."""
    return [(status, moment(run_at) if status == "pending" else None)
            for status, _, run_at, _ in await payout_jobs(runtime)]


def moment(stored_at: Any) -> datetime:
    """A timestamp as either database returns it, made aware (UTC)."""
    found = stored_at if isinstance(stored_at, datetime) else datetime.fromisoformat(str(stored_at))
    return found if found.tzinfo else found.replace(tzinfo=UTC)


async def payout_jobs(runtime: Runtime) -> list[tuple[Any, ...]]:
    """(status, attempts, run_at, last_error) of every payout job."""
    return await rows(runtime, "SELECT status, attempts, run_at, last_error FROM outbox_jobs WHERE kind = :k "
                               "ORDER BY id", k=PAYOUT_JOB)


snapshot = partial(snapshot_of, tables=WATCHED)


refused = partial(refused_unchanged, tables=WATCHED)


def at(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp is not None else None


class ScriptedTransfers(SandboxProvider):
    """The sandbox, except that each transfer is first put to a script (None: the sandbox pays it): for a refusal or
    a wait for the customer, which the sandbox itself never answers."""

    def __init__(self, runtime: Runtime, script: Callable[[TransferRequest], TransferResult | None]) -> None:
        super().__init__(runtime.settings.sandbox_key, runtime.clock, runtime.sessionmaker)
        self.script = script
        self.calls: list[TransferRequest] = []

    async def transfer(self, request: TransferRequest) -> TransferResult:
        self.calls.append(request)
        answer = self.script(request)
        return answer if answer is not None else await super().transfer(request)


def script_transfers(runtime: Runtime, script: Callable[[TransferRequest], TransferResult | None]) -> ScriptedTransfers:
    """Put the scripted provider where the runtime finds the configured one (payments keep working through it)."""
    provider = ScriptedTransfers(runtime, script)
    runtime.providers[runtime.settings.payment_provider] = provider
    assert runtime.payment_provider is provider
    return provider


# --- identity ---------------------------------------------------------------------------------------------------------

async def shopper(mall: Mall, name: str = "b") -> Person:
    """A plain customer: recording an identity needs neither distribution settings nor a distributor."""
    return await join(mall, name, distributor=False)


VALID = [
    "11010519491231002X",                 # the standard's own example
    "11010519491231002x",                 # a lower-case check character
    ADULT,
    id_number("44052420080101001"),       # 18 years old today
]


async def test_a_valid_id_number_is_accepted(client, mall, runtime):
    """GB 11643 numbers with the right check character and an adult's birth date are accepted, stamped now."""
    b = await shopper(mall)
    for number in VALID:
        runtime.clock.advance(minutes=1)
        response = await identify(mall, b, number)
        assert response.status_code == 200, (number, response.text)
        assert response.json() == {"real_name": NAME, "id_tail": number[-4:].upper(),
                                   "checked_at": response.json()["checked_at"]}
        assert at(response.json()["checked_at"]) == runtime.clock.now()
    assert await value(runtime, "SELECT count(*) FROM payees") == 1


async def test_the_id_number_itself_is_never_stored(client, mall, runtime):
    """Only a keyed hash (not a plain SHA-256, which the small space of ID numbers would give away) and the last
    four characters are kept; the same number gives the same hash; a new number replaces the old in one row."""
    b = await shopper(mall)
    assert (await identify(mall, b, ADULT)).status_code == 200
    [(customer, name, digest, tail)] = await rows(runtime, "SELECT customer_id, real_name, id_number_hash, id_tail "
                                                           "FROM payees")
    assert (customer, name, tail) == (b.id, NAME, ADULT[-4:])
    assert re.fullmatch(r"[0-9a-f]{64}", digest), digest
    assert digest != hashlib.sha256(ADULT.encode()).hexdigest()
    every_value = [str(v) for table in ("payees", "events", "outbox_jobs")
                   for row in await rows(runtime, f"SELECT * FROM {table}") for v in row]
    assert not [v for v in every_value if ADULT[:17] in v]

    runtime.clock.advance(hours=1)
    assert (await identify(mall, b, ADULT)).status_code == 200
    assert await rows(runtime, "SELECT id_number_hash, id_tail FROM payees") == [(digest, ADULT[-4:])]

    other = id_number("31010119851120456")
    response = await identify(mall, b, other, "张三丰")
    assert response.json()["id_tail"] == other[-4:]
    [(name, new_digest, tail)] = await rows(runtime, "SELECT real_name, id_number_hash, id_tail FROM payees")
    assert (name, tail) == ("张三丰", other[-4:]) and new_digest not in (digest, other)


def _wrong_check(number: str) -> str:
    return number[:17] + "0123456789X"[("0123456789X".index(number[17]) + 1) % 11]


INVALID = [
    (_wrong_check(ADULT), "the check digit does not match"),
    (_wrong_check("11010519491231002X"), "the check digit does not match"),
    (id_number("11010519900230123"), "the birth date in it is not a date"),       # 30 February
    (id_number("11010519901301123"), "the birth date in it is not a date"),       # month 13
    (id_number("11010520080102123"), "the payee must be 18 or older"),            # 18 tomorrow
    (id_number("11010520300101123"), "the payee must be 18 or older"),            # born in the future
    ("1101051990030712A4", "an ID number is 17 digits and a check digit"),
    (ADULT[:10] + " " + ADULT[11:], "an ID number is 17 digits and a check digit"),
]


async def test_an_invalid_id_number_is_refused(client, mall, runtime):
    """A wrong check character, an impossible birth date, a minor or a non-digit: 422 invalid_id_number naming the
    field and the reason; no payee row, and a payee already recorded keeps their identity."""
    b = await shopper(mall)
    for number, detail in INVALID:
        answer = await refused(mall, identify(mall, b, number), 422, "invalid_id_number")
        assert (answer["field"], answer["detail"]) == ("id_number", detail), number
    assert await value(runtime, "SELECT count(*) FROM payees") == 0
    assert (await identify(mall, b, ADULT)).status_code == 200
    await refused(mall, identify(mall, b, INVALID[0][0], "李四"), 422, "invalid_id_number")
    assert await rows(runtime, "SELECT real_name, id_tail FROM payees") == [(NAME, ADULT[-4:])]


async def test_a_malformed_identity_body_is_refused(client, mall, runtime):
    """17 or 19 characters, a one-letter name: 422 invalid_request with the field; no token: 401."""
    b = await shopper(mall)
    for number, name, field in ((ADULT[:17], NAME, "id_number"), (ADULT + "1", NAME, "id_number"),
                                (ADULT, "张", "real_name")):
        answer = await refused(mall, identify(mall, b, number, name), 422, "invalid_request")
        assert [e["field"] for e in answer["errors"]] == [field]
    problem(await client.put("/distributors/me/identity", json={"real_name": NAME, "id_number": ADULT}), 401,
            "unauthenticated")


async def test_a_non_ascii_digit_is_refused_not_a_crash(client, mall, runtime):
    """'²' passes str.isdigit() but is no decimal digit: the number must be refused as invalid, not crash."""
    b = await shopper(mall)
    await refused(mall, identify(mall, b, "²" + ADULT[1:]), 422, "invalid_id_number")


async def test_age_is_judged_by_the_china_date(client, mall, runtime):
    """Days are China time in this mall (core.counters.BUSINESS_OFFSET): at 01:00 on 1 January 2026 in Beijing
    (17:00 UTC the day before) someone born on 1 January 2008 is 18."""
    b = await shopper(mall)
    runtime.clock.advance(hours=-19)
    response = await identify(mall, b, id_number("11010520080101123"))
    assert response.status_code == 200, response.text


# --- requesting -------------------------------------------------------------------------------------------------------

async def test_a_request_needs_distribution_a_minimum_and_an_identity(client, mall, runtime):
    """In this order: no distribution settings → 404 distribution_not_configured; under the merchant's minimum →
    422 below_minimum (with the minimum); no checked identity → 409 identity_required. None changes a row."""
    b = await join(mall, "b", distributor=False)
    await refused(mall, ask(mall, b, 100), 404, "distribution_not_configured")

    await setup(mall, withdraw_min_fen=200)
    await apply(mall, b)
    await earn(mall, b)
    answer = await refused(mall, ask(mall, b, 199), 422, "below_minimum")
    assert (answer["field"], answer["minimum_fen"]) == ("amount_fen", 200)
    await refused(mall, ask(mall, b, 200), 409, "identity_required")
    for bad in (0, -5, "lots"):
        answer = await refused(mall, ask(mall, b, bad), 422, "invalid_request")
        assert [e["field"] for e in answer["errors"]] == ["amount_fen"]
    problem(await client.post("/distributors/me/withdrawals", json={"amount_fen": 200}), 401, "unauthenticated")

    assert (await identify(mall, b)).status_code == 200
    made = await withdraw(mall, b, 200)
    assert (made["amount_fen"], made["status"]) == (200, "requested")


async def test_only_settled_commission_can_be_withdrawn(client, mall, runtime):
    """Frozen commission is not withdrawable (409 insufficient_commission, available 0); once settled, 1 fen more
    than it is refused with what is available; all of it may be taken, and then nothing more."""
    await setup(mall)
    b = await join(mall, "b")
    assert (await identify(mall, b)).status_code == 200
    buyer = await join(mall, "c", b, distributor=False)
    order = await buy(mall, buyer, 3)
    assert await purse(mall, b) == (300, 0, 0, 0)
    answer = await refused(mall, ask(mall, b, 100), 409, "insufficient_commission")
    assert answer["available_fen"] == 0

    await complete(mall, buyer, order)
    assert await purse(mall, b) == (0, 300, 300, 0)
    assert (await refused(mall, ask(mall, b, 301), 409, "insufficient_commission"))["available_fen"] == 300
    made = await withdraw(mall, b, 300)
    assert re.fullmatch(rf"W\d{{22}}{mall.merchant_id}", made["withdrawal_no"]), made
    assert made == {"id": made["id"], "customer_id": b.id, "withdrawal_no": made["withdrawal_no"], "amount_fen": 300,
                    "status": "requested", "reason": None, "bill_no": None, "package_info": None,
                    "requested_at": made["requested_at"], "decided_at": None, "paid_at": None}
    assert at(made["requested_at"]) == runtime.clock.now()
    assert await purse(mall, b) == (0, 300, 0, 300)
    assert (await refused(mall, ask(mall, b, 100), 409, "insufficient_commission"))["available_fen"] == 0
    events = await rows(runtime, "SELECT actor_id, subject_type, subject_id FROM events WHERE kind = 'withdrawal'")
    assert events == [(b.id, "withdrawal", made["id"])]


async def test_a_request_repeated_with_its_idempotency_key_withdraws_once(client, mall, runtime):
    """The same Idempotency-Key and body replay the first answer (Idempotent-Replayed) with no second withdrawal;
    the key with another amount is refused (422 idempotency_key_reused) and changes nothing; a refused request keeps
    no claim on its key, so its retry is judged again."""
    await setup(mall)
    b = await payee(mall, "b")
    keyed = {**b.who, "Idempotency-Key": "wd-1"}
    first = await client.post("/distributors/me/withdrawals", headers=keyed, json={"amount_fen": 100})
    again = await client.post("/distributors/me/withdrawals", headers=keyed, json={"amount_fen": 100})
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    assert again.json() == first.json()
    assert await value(runtime, "SELECT count(*) FROM withdrawals") == 1
    await refused(mall, client.post("/distributors/me/withdrawals", headers=keyed, json={"amount_fen": 150}), 422,
                  "idempotency_key_reused")

    too_much = {**b.who, "Idempotency-Key": "wd-2"}
    for _ in range(2):
        answer = await refused(mall, client.post("/distributors/me/withdrawals", headers=too_much,
                                                 json={"amount_fen": 250}), 409, "insufficient_commission")
        assert answer["available_fen"] == 200
    second = await withdraw(mall, b, 200)
    assert second["id"] != first.json()["id"]
    assert await purse(mall, b) == (0, 300, 0, 300)


# --- review and payout ------------------------------------------------------------------------------------------------

async def test_an_approved_withdrawal_is_paid_through_the_sandbox(client, mall, runtime):
    """Requested → approved by finance (stamped, the payout queued, nothing transferred yet) → the worker transfers
    once through the sandbox → paid with the sandbox's bill number; running the worker again pays nothing more."""
    await setup(mall)
    b = await payee(mall, "b")
    made = await withdraw(mall, b, 250)
    assert await listed(mall, "requested") == [(made["id"], 250, "requested")]

    decided_at = runtime.clock.advance(hours=2)
    approved = await decide(mall, made["id"], "approve")
    assert (approved["status"], at(approved["decided_at"]), approved["paid_at"]) == ("approved", decided_at, None)
    finance_id = await value(runtime, "SELECT id FROM staff WHERE username = 'finance'")
    assert await value(runtime, "SELECT decided_by FROM withdrawals") == finance_id
    assert await transfers(runtime) == []
    assert [job[:2] for job in await payout_jobs(runtime)] == [("pending", 0)]
    assert await purse(mall, b) == (0, 300, 50, 250)

    paid_at = runtime.clock.advance(minutes=1)
    await mall.work()
    assert await transfers(runtime) == [(made["withdrawal_no"], "b", 250)]
    assert await stored(runtime, made["id"]) == ("paid", 250, None, "sandbox", f"sbx-{made['withdrawal_no']}", None)
    [mine_] = await my_withdrawals(mall, b)
    assert (mine_["status"], mine_["bill_no"], at(mine_["paid_at"])) == (
        "paid", f"sbx-{made['withdrawal_no']}", paid_at)
    assert [job[:2] for job in await payout_jobs(runtime)] == [("done", 1)]
    assert await purse(mall, b) == (0, 300, 50, 250)

    runtime.clock.advance(hours=1)
    await mall.work()
    assert len(await transfers(runtime)) == 1
    assert await listed(mall) == [(made["id"], 250, "paid")]


async def test_a_rejected_withdrawal_is_withdrawable_again(client, mall, runtime):
    """Rejected with a reason (or the default one): no payout is queued, nothing is transferred, and the whole
    amount can be asked for again."""
    await setup(mall)
    b = await payee(mall, "b")
    first = await withdraw(mall, b, 300)
    rejected = await decide(mall, first["id"], "reject", role="owner", reason="身份信息待核实")
    assert (rejected["status"], rejected["reason"]) == ("rejected", "身份信息待核实")
    assert await purse(mall, b) == (0, 300, 300, 0)
    second = await withdraw(mall, b, 300)
    assert (await decide(mall, second["id"], "reject"))["reason"] == "rejected by the merchant"
    await mall.work()
    assert (await payout_jobs(runtime), await transfers(runtime)) == ([], [])
    third = await withdraw(mall, b, 300)
    await decide(mall, third["id"], "approve")
    await mall.work()
    assert await transfers(runtime) == [(third["withdrawal_no"], "b", 300)]
    assert [w["status"] for w in await my_withdrawals(mall, b)] == ["paid", "rejected", "rejected"]
    assert await purse(mall, b) == (0, 300, 0, 300)


async def test_a_withdrawal_is_decided_once(client, mall, runtime):
    """Approving twice, rejecting an approved one, approving a rejected one: 409 withdrawal_not_requested with
    nothing changed (one payout job); an unknown id: 404 withdrawal_not_found."""
    await setup(mall)
    b = await payee(mall, "b")
    approved = await withdraw(mall, b, 100)
    rejected = await withdraw(mall, b, 100)
    await decide(mall, approved["id"], "approve")
    await decide(mall, rejected["id"], "reject")
    finance = await mall.staff("finance")
    for withdrawal_id, action in ((approved["id"], "approve"), (approved["id"], "reject"),
                                  (rejected["id"], "approve"), (rejected["id"], "reject")):
        answer = await refused(mall, decision(mall, withdrawal_id, action, finance), 409, "withdrawal_not_requested")
        assert answer["detail"].endswith("approved already" if withdrawal_id == approved["id"] else "rejected already")
    await mall.work()
    await refused(mall, decision(mall, approved["id"], "approve", finance), 409, "withdrawal_not_requested")
    await refused(mall, decision(mall, 999_999, "approve", finance), 404, "withdrawal_not_found")
    await refused(mall, decision(mall, 999_999, "reject", finance), 404, "withdrawal_not_found")
    assert len(await payout_jobs(runtime)) == 1
    assert await transfers(runtime) == [(approved["withdrawal_no"], "b", 100)]


async def test_without_review_a_request_is_approved_and_paid_at_once(client, mall, runtime):
    """withdraw_review off: the request comes back approved (decided by no one), the worker pays it."""
    await setup(mall, withdraw_review=False)
    b = await payee(mall, "b")
    made = await withdraw(mall, b, 120)
    assert (made["status"], at(made["decided_at"])) == ("approved", runtime.clock.now())
    assert await value(runtime, "SELECT decided_by FROM withdrawals") is None
    await refused(mall, decision(mall, made["id"], "approve", await mall.staff("finance")), 409,
                  "withdrawal_not_requested")
    await mall.work()
    assert await transfers(runtime) == [(made["withdrawal_no"], "b", 120)]
    assert (await stored(runtime, made["id"]))[0] == "paid"
    assert await purse(mall, b) == (0, 300, 180, 120)


async def test_a_refused_transfer_rejects_the_withdrawal_and_gives_the_money_back(client, mall, runtime):
    """The provider refuses the transfer: the withdrawal is rejected with "transfer failed: <why>", the job is done
    (not retried), and the money is withdrawable again; the provider was asked with the withdrawal's number, the
    customer's openid, the amount and the checked real name."""
    await setup(mall)
    b = await payee(mall, "b")
    provider = script_transfers(runtime, lambda request: REFUSED)
    made = await withdraw(mall, b, 300)
    await decide(mall, made["id"], "approve")
    await mall.work()
    assert provider.calls == [TransferRequest(out_bill_no=made["withdrawal_no"], openid="b", amount_fen=300,
                                              remark="佣金提现", real_name=NAME)]
    assert await stored(runtime, made["id"]) == ("rejected", 300, "transfer failed: 收款用户账户异常", "sandbox", BILL,
                                                 None)
    assert [job[:2] for job in await payout_jobs(runtime)] == [("done", 1)]
    assert await purse(mall, b) == (0, 300, 300, 0)

    runtime.clock.advance(hours=1)
    await mall.work()
    assert len(provider.calls) == 1
    provider.script = lambda request: None
    again = await withdraw(mall, b, 300)
    await decide(mall, again["id"], "approve")
    await mall.work()
    assert await transfers(runtime) == [(again["withdrawal_no"], "b", 300)]
    assert await purse(mall, b) == (0, 300, 0, 300)


async def test_a_transfer_waiting_for_the_customer_is_asked_again_until_paid(client, mall, runtime):
    """Pending (the customer must confirm in the mini-program): the withdrawal stays approved with the bill and its
    package_info shown to the customer, the money stays taken, and a fresh job asks again ten minutes later (not
    before), until the provider says paid; then the package is cleared and no job is left."""
    await setup(mall)
    b = await payee(mall, "b")
    answers = [WAITING, WAITING, TransferResult(state="paid", bill_no=BILL)]
    provider = script_transfers(runtime, lambda request: answers[len(provider.calls) - 1])
    made = await withdraw(mall, b, 200)
    await decide(mall, made["id"], "approve")
    asked_at = runtime.clock.now()
    await mall.work()
    assert await stored(runtime, made["id"]) == ("approved", 200, None, "sandbox", BILL, PACKAGE)
    [shown] = await my_withdrawals(mall, b)
    assert (shown["status"], shown["package_info"], shown["bill_no"]) == ("approved", PACKAGE, BILL)
    assert await jobs_due(runtime) == [("done", None), ("pending", asked_at + RECHECK)]
    assert await purse(mall, b) == (0, 300, 100, 200)

    runtime.clock.advance(minutes=10, seconds=-1)
    await mall.work()
    assert len(provider.calls) == 1, "asked again too early"
    runtime.clock.advance(seconds=1)
    await mall.work()
    assert len(provider.calls) == 2
    assert await stored(runtime, made["id"]) == ("approved", 200, None, "sandbox", BILL, PACKAGE)
    runtime.clock.advance(minutes=10)
    await mall.work()
    assert [c.out_bill_no for c in provider.calls] == [made["withdrawal_no"]] * 3
    assert await stored(runtime, made["id"]) == ("paid", 200, None, "sandbox", BILL, None)
    assert [status for status, _ in await jobs_due(runtime)] == ["done"] * 3
    assert await purse(mall, b) == (0, 300, 100, 200)


async def test_a_transfer_never_confirmed_is_rejected_when_the_provider_gives_up(client, mall, runtime):
    """WeChat Pay waits 24 hours for the customer to confirm receipt, then cancels the bill: however long the worker
    has kept asking, the withdrawal ends rejected and the money is withdrawable again."""
    await setup(mall)
    b = await payee(mall, "b")
    deadline = runtime.clock.now() + timedelta(hours=24)
    cancelled = TransferResult(state="failed", bill_no=BILL, reason="用户24小时内未确认收款")
    provider = script_transfers(runtime, lambda request: WAITING if runtime.clock.now() < deadline else cancelled)
    made = await withdraw(mall, b, 300)
    await decide(mall, made["id"], "approve")
    await mall.work()
    for _ in range(3):
        runtime.clock.advance(minutes=10)
        await mall.work()
    assert (await stored(runtime, made["id"]))[0] == "approved"
    runtime.clock.advance(hours=25)
    await mall.work()
    assert len(provider.calls) == 5
    assert (await stored(runtime, made["id"]))[:3] == ("rejected", 300, "transfer failed: 用户24小时内未确认收款")
    assert [status for status, _ in await jobs_due(runtime)] == ["done"] * 5
    assert await purse(mall, b) == (0, 300, 300, 0)


async def test_a_payout_run_twice_still_leaves_one_recheck(client, mall, runtime):
    """The same payout job run a second time (a worker whose lease ran out while it was still at work) on a transfer
    waiting for the customer: one job asks again later, not one per run, or each such overlap doubles the polling
    of the provider for the rest of the day the bill stays open."""
    await setup(mall)
    b = await payee(mall, "b")
    script_transfers(runtime, lambda request: WAITING)
    made = await withdraw(mall, b, 300)
    await decide(mall, made["id"], "approve")
    await mall.work()
    await distribution.pay_out(runtime, {"withdrawal_id": made["id"]})
    assert [status for status, _ in await jobs_due(runtime)].count("pending") == 1


async def test_a_reversal_after_settlement_is_carried_and_blocks_withdrawing(client, mall, runtime):
    """300 settled and all paid out; a refund of a third then reverses 100 of settled commission: withdrawable
    is −100 and no withdrawal is possible until new settled commission has covered it."""
    await setup(mall)
    b = await join(mall, "b")
    order = await earn(mall, b, 3)
    assert (await identify(mall, b)).status_code == 200
    made = await withdraw(mall, b, 300)
    await decide(mall, made["id"], "approve")
    await mall.work()
    assert (await stored(runtime, made["id"]))[0] == "paid"

    async with runtime.sessionmaker() as session:  # the refund as refund_succeeded leaves it (as in test_commissions)
        await session.execute(text("UPDATE orders SET refund_reserved_fen = 1000, refunded_fen = 1000 WHERE id = :o"),
                              {"o": order})
        await session.commit()
    await distribution.reverse(runtime, {"merchant_id": mall.merchant_id, "subject_id": order})
    assert await purse(mall, b) == (0, 200, -100, 300)
    assert (await refused(mall, ask(mall, b, 100), 409, "insufficient_commission"))["available_fen"] == -100

    await earn(mall, b, 1)
    assert await purse(mall, b) == (0, 300, 0, 300)
    assert (await refused(mall, ask(mall, b, 100), 409, "insufficient_commission"))["available_fen"] == 0
    await earn(mall, b, 2)
    assert (await withdraw(mall, b, 200))["status"] == "requested"
    assert await purse(mall, b) == (0, 500, 0, 500)


# --- who may see and decide -------------------------------------------------------------------------------------------

async def test_only_owner_and_finance_decide_withdrawals(client, mall, runtime):
    """Operator and support: 403 forbidden on the list, approve and reject; a shopper's token: 401; nothing changes.
    The owner may approve as finance may."""
    await setup(mall)
    b = await payee(mall, "b")
    made = await withdraw(mall, b, 100)
    for role in ("operator", "support"):
        headers = await mall.staff(role)
        await refused(mall, client.get("/admin/withdrawals", headers=headers), 403, "forbidden")
        for action in ("approve", "reject"):
            await refused(mall, decision(mall, made["id"], action, headers), 403, "forbidden")
    await refused(mall, client.get("/admin/withdrawals", headers=b.who), 401, "unauthenticated")
    await refused(mall, decision(mall, made["id"], "approve", b.who), 401, "unauthenticated")
    assert await listed(mall, role="owner") == [(made["id"], 100, "requested")]
    assert (await decide(mall, made["id"], "approve", role="owner"))["status"] == "approved"
    owner_id = await value(runtime, "SELECT id FROM staff WHERE username = 'owner'")
    assert await value(runtime, "SELECT decided_by FROM withdrawals") == owner_id


async def test_a_shopper_sees_only_their_own_withdrawals(client, mall, runtime):
    """Each payee lists their own withdrawals, newest first; a customer with none sees an empty list."""
    await setup(mall)
    b1, b2 = await payee(mall, "b1"), await payee(mall, "b2")
    first, second = await withdraw(mall, b1, 100), await withdraw(mall, b1, 150)
    third = await withdraw(mall, b2, 200)
    assert [w["id"] for w in await my_withdrawals(mall, b1)] == [second["id"], first["id"]]
    assert [(w["id"], w["customer_id"]) for w in await my_withdrawals(mall, b2)] == [(third["id"], b2.id)]
    assert await my_withdrawals(mall, await join(mall, "nobody", distributor=False)) == []
    assert await purse(mall, b1) == (0, 300, 50, 250)
    assert await purse(mall, b2) == (0, 300, 100, 200)


async def test_another_merchant_neither_sees_nor_decides_withdrawals(client, mall, runtime):
    """Globex's finance lists none of Acme's withdrawals and gets 404 withdrawal_not_found deciding one, with
    nothing changed; Acme's list is unaffected by Globex's own."""
    await setup(mall)
    b = await payee(mall, "b")
    made = await withdraw(mall, b, 100)
    globex = await Mall.create(client, runtime, slug="globex")
    await setup(globex)
    g = await payee(globex, "g")
    theirs = await withdraw(globex, g, 100)
    finance = await globex.staff("finance")
    for action in ("approve", "reject"):
        await refused(mall, decision(globex, made["id"], action, finance), 404, "withdrawal_not_found")
        await refused(mall, decision(mall, theirs["id"], action, await mall.staff("finance")), 404,
                      "withdrawal_not_found")
    assert await listed(globex) == [(theirs["id"], 100, "requested")]
    assert await listed(mall) == [(made["id"], 100, "requested")]
    assert await rows(runtime, "SELECT status FROM withdrawals ORDER BY id") == [("requested",), ("requested",)]


# --- the ledger adds up -----------------------------------------------------------------------------------------------

async def test_settled_less_withdrawals_not_rejected_is_what_everyone_may_withdraw(client, mall, runtime):
    """After a short story (paid, rejected by staff, refused by the provider, waiting for the customer, waiting for
    review, and a customer who only bought), for every customer: settled commission − withdrawals requested,
    approved or paid = withdrawable on their page, and that sum is their withdrawn; the sandbox paid exactly the
    paid withdrawals; the status filter lists each group."""
    await setup(mall)
    b1, b2 = await payee(mall, "b1", 5), await payee(mall, "b2", 3)
    script_transfers(runtime, lambda r: REFUSED if r.amount_fen == 300 else WAITING if r.amount_fen == 150 else None)
    paid = await withdraw(mall, b1, 200)
    turned_down = await withdraw(mall, b1, 100)
    waiting_review = await withdraw(mall, b1, 110)
    refused_by_provider = await withdraw(mall, b2, 300)
    await decide(mall, paid["id"], "approve")
    await decide(mall, turned_down["id"], "reject")
    await decide(mall, refused_by_provider["id"], "approve")
    await mall.work()
    waiting_customer = await withdraw(mall, b2, 150)
    await decide(mall, waiting_customer["id"], "approve")
    await mall.work()

    assert await listed(mall, "paid") == [(paid["id"], 200, "paid")]
    assert await listed(mall, "rejected") == [(refused_by_provider["id"], 300, "rejected"),
                                              (turned_down["id"], 100, "rejected")]
    assert await listed(mall, "approved") == [(waiting_customer["id"], 150, "approved")]
    assert await listed(mall, "requested") == [(waiting_review["id"], 110, "requested")]
    problem(await client.get("/admin/withdrawals", headers=await mall.staff("finance"), params={"status": "lost"}),
            422, "invalid_request")

    customers = await rows(runtime, "SELECT id, openid FROM customers ORDER BY id")
    assert len(customers) == 4
    for customer_id, openid in customers:
        settled = await value(runtime, "SELECT coalesce(sum(amount_fen), 0) FROM commission_entries "
                                       "WHERE beneficiary_id = :c AND status = 'settled'", c=customer_id)
        taken = await value(runtime, "SELECT coalesce(sum(amount_fen), 0) FROM withdrawals WHERE customer_id = :c "
                                     "AND status IN ('requested', 'approved', 'paid')", c=customer_id)
        page = await mine(mall, Person(openid, await mall.shopper(openid), customer_id))
        assert (page["settled_fen"], page["withdrawable_fen"], page["withdrawn_fen"]) == (
            settled, settled - taken, taken), openid
    assert await purse(mall, b1) == (0, 500, 190, 310)
    assert await purse(mall, b2) == (0, 300, 150, 150)
    assert await transfers(runtime) == [(paid["withdrawal_no"], "b1", 200)]
    assert await value(runtime, "SELECT sum(amount_fen) FROM withdrawals WHERE status = 'paid'") == 200
