"""Withdrawals under real concurrency (PostgreSQL): many HTTP requests at the same moment, each on its own
connection.

Twenty withdrawal requests from one payee at once, each for more than half of the settled balance: exactly one is
taken, the other nineteen are 409 insufficient_commission and leave nothing behind (the payee's row is locked per
request, so no two read the same balance: PITFALLS, a stale balance). Two staff deciding one withdrawal at once:
one decision counts, and an approval pays out once, even with two workers (or two overlapping payout runs) at it.
Ten retries of one request under one Idempotency-Key at once: one withdrawal.
"""

from __future__ import annotations

from typing import Any

import pytest

from fissionmall.distribution import tasks as withdrawals
from tests.distribution.test_withdrawals import (  # noqa: F401  (settings_overrides: long-lived shopper tokens)
    ask,
    decision,
    payee,
    payout_jobs,
    purse,
    settings_overrides,
    setup,
    stored,
    transfers,
    withdraw,
)
from tests.support import problem, rows, together, value

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]



@pytest.mark.parametrize("review", [True, False], ids=["reviewed", "approved_at_once"])
async def test_twenty_requests_at_once_take_the_balance_once(client, mall, runtime, review):
    """300 fen settled; 20 requests of 200 at once: one 201, nineteen 409 insufficient_commission each reporting
    the 100 left; one withdrawal row, one event (and, without review, one payout job and one transfer)."""
    await setup(mall, withdraw_review=review)
    b = await payee(mall, "b")
    events_before = await value(runtime, "SELECT count(*) FROM events")

    answers = await together(ask(mall, b, 200) for _ in range(20))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 19, [r.text for r in answers]
    for refused in (r for r in answers if r.status_code != 201):
        assert problem(refused, 409, "insufficient_commission")["available_fen"] == 100
    [made] = [r.json() for r in answers if r.status_code == 201]
    assert made["status"] == ("requested" if review else "approved")
    assert await rows(runtime, "SELECT id, amount_fen FROM withdrawals") == [(made["id"], 200)]
    assert await value(runtime, "SELECT count(*) FROM events") == events_before + 1
    assert await purse(mall, b) == (0, 300, 100, 200)

    await mall.work()
    assert len(await payout_jobs(runtime)) == (0 if review else 1)
    assert await transfers(runtime) == ([] if review else [(made["withdrawal_no"], "b", 200)])


async def test_ten_retries_with_one_idempotency_key_at_once_withdraw_once(client, mall, runtime):
    """A client retrying one request ten times at once under one Idempotency-Key: ten 201s with the same
    withdrawal (nine replayed), one row, and the balance taken once."""
    await setup(mall)
    b = await payee(mall, "b")
    keyed = {**b.who, "Idempotency-Key": "retry-1"}

    answers = await together(client.post("/distributors/me/withdrawals", headers=keyed, json={"amount_fen": 100})
                             for _ in range(10))
    assert [r.status_code for r in answers] == [201] * 10, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 9
    assert await value(runtime, "SELECT count(*) FROM withdrawals") == 1
    assert await purse(mall, b) == (0, 300, 200, 100)


@pytest.mark.parametrize("actions", [("approve", "approve"), ("approve", "reject")], ids=["two_approvals",
                                                                                        "approve_and_reject"])
async def test_two_staff_deciding_at_once_decide_once(client, mall, runtime, actions):
    """Owner and finance decide the same withdrawal at the same moment: one 200, one 409 withdrawal_not_requested;
    the row ends as the winner said; an approval queues one payout, and two workers ticking at once transfer it
    once."""
    await setup(mall)
    b = await payee(mall, "b")
    made = await withdraw(mall, b, 300)
    staff = [await mall.staff("owner"), await mall.staff("finance")]

    answers = await together(decision(mall, made["id"], action, headers, "两人同时处理")
                             for action, headers in zip(actions, staff, strict=True))
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    [won] = [r.json() for r in answers if r.status_code == 200]
    [lost] = [r for r in answers if r.status_code == 409]
    problem(lost, 409, "withdrawal_not_requested")
    approved = won["status"] == "approved"

    await together([mall.work(), mall.work()])
    assert (await stored(runtime, made["id"]))[0] == ("paid" if approved else "rejected")
    assert [job[:2] for job in await payout_jobs(runtime)] == ([("done", 1)] if approved else [])
    assert await transfers(runtime) == ([(made["withdrawal_no"], "b", 300)] if approved else [])
    assert await purse(mall, b) == ((0, 300, 0, 300) if approved else (0, 300, 300, 0))


async def test_overlapping_payout_runs_transfer_once(client, mall, runtime):
    """A payout job run twice at the same moment (a worker whose lease ran out while it was still at work): the
    provider is asked under one bill number, so one transfer is made, and the withdrawal is paid once."""
    await setup(mall)
    b = await payee(mall, "b")
    made = await withdraw(mall, b, 300)
    assert (await decision(mall, made["id"], "approve", await mall.staff("finance"))).status_code == 200
    payload: dict[str, Any] = {"withdrawal_id": made["id"]}

    await together(withdrawals.pay_out(runtime, payload) for _ in range(5))
    assert await transfers(runtime) == [(made["withdrawal_no"], "b", 300)]
    assert await stored(runtime, made["id"]) == ("paid", 300, None, "sandbox", f"sbx-{made['withdrawal_no']}", None)
    assert await purse(mall, b) == (0, 300, 0, 300)
