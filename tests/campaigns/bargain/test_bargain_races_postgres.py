"""Bargaining under real concurrency (PostgreSQL): many help requests at the same moment, each on its own
connection (and, where it matters, from its own network, so nothing but the bargain itself orders them).

However the requests interleave: exactly N helps land on a bargain, taking the cuts of the stored schedule in order
(seq 1..N) and ending exactly at the floor; one helper cuts one bargain once; a helper's daily allowance is never
exceeded; a reward budget is never overspent and each reward is credited once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from tests.campaigns.bargain.test_bargain_paths import (
    FLOOR,
    START,
    bargain_campaign,
    help_,
    proof,
    started,
    stored,
    view,
)
from tests.conftest import PUBLIC_BASE
from tests.support import Who, codes, problem, rows, shoppers, together, value

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]


# --- helpers ----------------------------------------------------------------------------------------------------------


def help_from(app: Any, stack: contextlib.AsyncExitStack, ip: str, who: Who, bargain_id: int,
              device: str | None = None) -> Awaitable[httpx.Response]:
    """A help sent from its own address (its own IP range), so the requests share no velocity counter."""
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    network = httpx.AsyncClient(transport=transport, base_url=f"{PUBLIC_BASE}/api/v1")
    stack.push_async_callback(network.aclose)
    headers = {**who, **({"X-Device-Id": device} if device else {})}
    return network.post(f"/bargains/{bargain_id}/helps", headers=headers)


# --- many friends, one bargain ----------------------------------------------------------------------------------------


async def test_fifty_helpers_at_once_take_exactly_five_cuts_to_the_floor(client, app, mall):
    """50 distinct friends from 50 networks help a bargain needing 5 at the same moment: exactly 5 succeed, taking
    cuts 1..5 of the stored schedule in order, the price ends exactly at the floor, the other 45 are told the
    bargain is complete and leave nothing behind."""
    campaign_id = await bargain_campaign(mall)
    bargain = await started(mall, await mall.shopper("alice"), campaign_id)
    bargain_id = bargain["id"]
    schedule = list((await stored(mall, bargain_id)).schedule)
    crowd = await shoppers(mall, "friend", 50, at_once=True)
    async with contextlib.AsyncExitStack() as stack:
        answers = await together(help_from(app, stack, f"10.{i}.0.1", who, bargain_id)
                                 for i, who in enumerate(crowd))
    assert codes(answers) == {(201, None): 5, (409, "bargain_complete"): 45}
    for answer in answers:
        if answer.status_code == 409:
            problem(answer, 409, "bargain_complete")
    # each winner's price was computed under the bargain's row lock: the 5 steps of the schedule, one each
    prices = sorted((r.json()["price_fen"] for r in answers if r.status_code == 201), reverse=True)
    assert prices == [START - sum(schedule[:k]) for k in range(1, 6)]

    row = await stored(mall, bargain_id)
    assert (row.status, row.price_fen, row.helps_done, list(row.schedule)) == ("reached_floor", FLOOR, 5, schedule)
    helps = await rows(mall.runtime, "SELECT seq, amount_fen FROM helps WHERE target_id = :b ORDER BY seq",
                       b=bargain_id)
    assert helps == [(k, schedule[k - 1]) for k in range(1, 6)]
    assert await value(mall.runtime, "SELECT count(DISTINCT helper_id) FROM helps") == 5
    assert await value(mall.runtime, "SELECT count(*) FROM events WHERE kind = 'help'") == 5
    assert await rows(mall.runtime, "SELECT count(*), sum(used) FROM counters WHERE key LIKE :k",
                      k=f"helps:{campaign_id}:%") == [(5, 5)]
    page = await view(mall, bargain_id)
    assert (page["price_fen"], [c["seq"] for c in page["cuts"]], page["schedule"]) == (
        FLOOR, [1, 2, 3, 4, 5], schedule)
    assert sum(c["amount_fen"] for c in page["cuts"]) == START - FLOOR
    assert proof(page["salt"], page["schedule"]) == bargain["schedule_hash"]


async def test_each_simultaneous_help_answers_with_its_own_step(client, app, mall):
    """The answer to a successful help shows the bargain as that help left it: helps_done is its seq, the cuts
    listed are the first seq cuts, helps_remaining is what is really left."""
    campaign_id = await bargain_campaign(mall)
    bargain_id = (await started(mall, await mall.shopper("alice"), campaign_id))["id"]
    crowd = await shoppers(mall, "friend", 30, at_once=True)
    async with contextlib.AsyncExitStack() as stack:
        answers = await together(help_from(app, stack, f"10.{i}.0.1", who, bargain_id)
                                 for i, who in enumerate(crowd))
    winners = [r.json() for r in answers if r.status_code == 201]
    assert len(winners) == 5
    seen = sorted((w["helps_done"], len(w["cuts"]), w["helps_remaining"]) for w in winners)
    assert seen == [(k, k, 5 - k) for k in range(1, 6)]


async def test_one_helper_fifty_times_at_once_cuts_once(client, mall):
    """50 simultaneous helps by the same friend on one bargain: one cut (seq 1, the first scheduled), 49 told
    already_helped; the counters hold one help."""
    campaign_id = await bargain_campaign(mall)
    bargain_id = (await started(mall, await mall.shopper("alice"), campaign_id))["id"]
    schedule = list((await stored(mall, bargain_id)).schedule)
    bob = await mall.shopper("bob")
    answers = await together(help_(mall, bob, bargain_id) for _ in range(50))
    assert codes(answers) == {(201, None): 1, (409, "already_helped"): 49}
    row = await stored(mall, bargain_id)
    assert (row.status, row.price_fen, row.helps_done) == ("ongoing", START - schedule[0], 1)
    assert await rows(mall.runtime, "SELECT seq, amount_fen FROM helps") == [(1, schedule[0])]
    assert await rows(mall.runtime, "SELECT used FROM counters WHERE key LIKE :k", k=f"helps:{campaign_id}:%") == [
        (1,)]
    assert await rows(mall.runtime, "SELECT used FROM counters WHERE key LIKE :k",
                      k=f"velocity:help:{campaign_id}:customer:%") == [(1,)]
    assert await value(mall.runtime, "SELECT count(*) FROM events WHERE kind = 'help'") == 1


async def test_a_helpers_daily_allowance_holds_across_ten_bargains_at_once(client, mall):
    """helps_per_helper_per_day 3: one friend helping 10 different bargains at the same moment cuts exactly 3;
    the other 7 are help_limit_reached and those bargains are untouched."""
    campaign_id = await bargain_campaign(mall, helps_per_helper_per_day=3)
    starters = await shoppers(mall, "starter", 10, at_once=True)
    bargains = [b["id"] for b in await together(started(mall, who, campaign_id) for who in starters)]
    helper = await mall.shopper("helper")
    answers = await together(help_(mall, helper, bargain_id) for bargain_id in bargains)
    assert codes(answers) == {(201, None): 3, (409, "help_limit_reached"): 7}
    helped = sorted(r.json()["id"] for r in answers if r.status_code == 201)
    assert await rows(mall.runtime, "SELECT target_id, seq FROM helps ORDER BY target_id") == [
        (bargain_id, 1) for bargain_id in helped]
    done = dict(await rows(mall.runtime, "SELECT id, helps_done FROM bargains"))
    assert done == {bargain_id: int(bargain_id in helped) for bargain_id in bargains}
    assert await rows(mall.runtime, "SELECT used FROM counters WHERE key LIKE :k", k=f"helps:{campaign_id}:%") == [
        (3,)]


async def test_a_reward_budget_is_never_overspent_by_simultaneous_helpers(client, app, mall):
    """F5: 30 friends (each with its own device and network) help at once with a budget of 10 rewards: all 30 cut,
    exactly 10 are credited 30 fen once each, and the grants add up to the budget, never more."""
    campaign_id = await bargain_campaign(mall, helps_needed=30, helper_reward_fen=30, reward_budget={"total_fen": 300})
    bargain_id = (await started(mall, await mall.shopper("alice"), campaign_id))["id"]
    schedule = list((await stored(mall, bargain_id)).schedule)
    crowd = await shoppers(mall, "friend", 30, at_once=True)
    async with contextlib.AsyncExitStack() as stack:
        answers = await together(help_from(app, stack, f"10.{i}.0.1", who, bargain_id, device=f"phone-{i}")
                                 for i, who in enumerate(crowd))
    assert codes(answers) == {(201, None): 30}
    row = await stored(mall, bargain_id)
    assert (row.status, row.price_fen, row.helps_done) == ("reached_floor", FLOOR, 30)
    assert await rows(mall.runtime, "SELECT seq, amount_fen FROM helps ORDER BY seq") == [
        (k, schedule[k - 1]) for k in range(1, 31)]
    assert await rows(mall.runtime, "SELECT count(*), count(DISTINCT customer_id), sum(amount_fen), min(amount_fen) "
                                    "FROM wallet_entries WHERE kind = 'helper_reward'") == [(10, 10, 300, 30)]
    assert await rows(mall.runtime, "SELECT count(*), sum(balance_fen) FROM wallets") == [(10, 300)]
    assert await rows(mall.runtime, "SELECT used FROM counters WHERE key = :k",
                      k=f"budget:{campaign_id}:helper_reward") == [(300,)]
    # the rewarded helps are exactly the ones whose event says so
    rewarded = await rows(mall.runtime, "SELECT count(*) FROM events WHERE kind = 'help' AND "
                                        "CAST(data ->> 'reward_fen' AS integer) = 30")
    assert rewarded == [(10,)]
