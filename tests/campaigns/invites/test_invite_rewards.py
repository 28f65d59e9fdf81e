"""Invite rewards (邀请有礼) through the API and the worker: an inviter earns shop credit once for each friend who
signs up through their invite link and then really does something (a first paid order by default, or the sign-up
itself), never for sharing. A friend on a device an earlier account used counts as not new, a high-risk friend
earns nothing, max_friends and the budget (in all and per day) cap what is paid, a retried job pays nothing twice,
and the ledger balances: every wallet equals the sum of its entries and each budget counter the credit it paid."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update

from fissionmall.campaigns.invites.tasks import reward_friend
from fissionmall.core.outbox import OutboxJob
from fissionmall.core.runtime import Runtime
from fissionmall.merchants.models import Merchant
from tests.support import Mall, Who, counter, problem, rows, value

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

REWARD = 500
WATCHED = ("invite_rewards", "wallets", "wallet_entries", "counters", "events", "outbox_jobs")
"""What a rerun reward job must leave exactly as it was."""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the days the daily-budget test moves the clock by."""
    return {"token_ttl_seconds": 30 * 24 * 3600}


# --- helpers ----------------------------------------------------------------------------------------------------------


async def invite_campaign(mall: Mall, *, activate: bool = True, **settings: Any) -> int:
    """A live invite campaign running for 30 days: 500 fen per friend, a budget of ¥1,000 unless overridden."""
    now = mall.runtime.clock.now()
    body = {"kind": "invite", "name": "邀请有礼", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=30)).isoformat(),
            "settings": {"reward_fen": REWARD, "budget": {"total_fen": 100_000}, **settings}}
    owner = await mall.staff("owner")
    created = await mall.client.post("/admin/campaigns", headers=owner, json=body)
    assert created.status_code == 201, created.text
    campaign_id: int = created.json()["id"]
    if activate:
        activated = await mall.client.post(f"/admin/campaigns/{campaign_id}/activate", headers=owner)
        assert activated.status_code == 200, activated.text
    return campaign_id


async def sign_up(mall: Mall, openid: str, *, code: str | None = None, device: str | None = None) -> tuple[Who, int]:
    """POST /auth/dev-login, through a share link when `code` is given, from a device when `device` is given."""
    body: dict[str, Any] = {"merchant_slug": mall.slug, "openid": openid, "nickname": openid}
    if code is not None:
        body["share_code"] = code
    response = await mall.client.post("/auth/dev-login", json=body,
                                      headers={"X-Device-Id": device} if device else {})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}, int(response.json()["customer_id"])


async def invite_link(mall: Mall, who: Who, customer_id: int) -> str:
    """The code of the customer's own invite page share."""
    response = await mall.client.post("/shares", headers=who, json={"target_type": "invite", "target_id": customer_id})
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def buy(mall: Mall, who: Who) -> dict[str, Any]:
    """Place and pay a one-tea order through the sandbox; the worker runs (notifications, then reward jobs)."""
    order = await mall.order(who)
    paid = await mall.pay(who, order["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", 1000), paid
    return paid


async def rewards(runtime: Runtime) -> list[tuple[int, int, int, str, int]]:
    """(campaign, inviter, invitee, outcome, amount) of every invite reward, oldest first."""
    return await rows(runtime, "SELECT campaign_id, inviter_id, invitee_id, outcome, amount_fen FROM invite_rewards "
                               "ORDER BY id")  # type: ignore[return-value]


async def balances(runtime: Runtime) -> dict[int, int]:
    return dict(await rows(runtime, "SELECT customer_id, balance_fen FROM wallets"))


async def wallet(mall: Mall, who: Who) -> dict[str, Any]:
    response = await mall.client.get("/wallet", headers=who)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def mine(mall: Mall, who: Who, campaign_id: int) -> dict[str, Any]:
    response = await mall.client.get(f"/invite-campaigns/{campaign_id}/mine", headers=who)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def reward_jobs(runtime: Runtime) -> list[dict[str, Any]]:
    """Payloads of the invites.reward jobs queued so far (decoded JSON on both databases)."""
    async with runtime.sessionmaker() as session:
        found = await session.execute(select(OutboxJob.payload).where(OutboxJob.kind == "invites.reward")
                                      .order_by(OutboxJob.id))
        return [dict(payload) for payload in found.scalars()]


async def snapshot(runtime: Runtime, tables: tuple[str, ...] = WATCHED) -> dict[str, list[tuple[Any, ...]]]:
    return {table: await rows(runtime, f"SELECT * FROM {table} ORDER BY id") for table in tables}


async def assert_ledger_balances(runtime: Runtime) -> None:
    """Every wallet is the sum of its entries (and no entry lacks a wallet); every invite budget counter holds
    exactly the invite credit its campaign paid, which is what its rewarded rows say."""
    per_wallet = await rows(runtime, "SELECT w.customer_id, w.balance_fen, "
                                     "(SELECT coalesce(sum(e.amount_fen), 0) FROM wallet_entries e "
                                     " WHERE e.customer_id = w.customer_id) FROM wallets w")
    assert [(c, b) for c, b, _ in per_wallet] == [(c, s) for c, _, s in per_wallet]
    assert await value(runtime, "SELECT count(*) FROM wallet_entries e WHERE NOT EXISTS "
                                "(SELECT 1 FROM wallets w WHERE w.customer_id = e.customer_id)") == 0
    paid = dict(await rows(runtime, "SELECT campaign_id, sum(amount_fen) FROM wallet_entries "
                                    "WHERE kind = 'invite_reward' GROUP BY campaign_id"))
    budget_counters = await rows(runtime, "SELECT key, used FROM counters WHERE key LIKE :k AND period = 'all'",
                                 k="budget:%:invite_reward")
    used = {int(key.split(":")[1]): n for key, n in budget_counters if n}
    assert paid == used
    recorded = dict(await rows(runtime, "SELECT campaign_id, sum(amount_fen) FROM invite_rewards "
                                        "WHERE outcome = 'rewarded' GROUP BY campaign_id"))
    assert recorded == paid
    assert await value(runtime, "SELECT count(*) FROM invite_rewards WHERE outcome <> 'rewarded' "
                                "AND amount_fen <> 0") == 0


async def inviter(mall: Mall, openid: str = "alice", device: str | None = "dev-alice") -> tuple[Who, int, str]:
    """A customer and the code of their invite link."""
    who, customer_id = await sign_up(mall, openid, device=device)
    return who, customer_id, await invite_link(mall, who, customer_id)


# --- the worked example -----------------------------------------------------------------------------------------------


async def test_friend_who_pays_a_first_order_earns_the_inviter_the_reward_once(client, mall, runtime):
    """Alice shares her invite link, Bob signs up through it on his own phone (nothing yet: the default rewards the
    first purchase) and pays a first order: Alice's wallet gets 500 fen once; rerunning or redelivering the job,
    and Bob's second order, change nothing."""
    campaign_id = await invite_campaign(mall)
    alice, alice_id, code = await inviter(mall)
    bob, bob_id = await sign_up(mall, "bob", code=code, device="dev-bob")
    me = (await client.get("/me", headers=bob)).json()
    assert (me["inviter_id"], me["depth"]) == (alice_id, 1)
    await mall.work()
    assert await rewards(runtime) == []
    assert await balances(runtime) == {}

    order = await buy(mall, bob)
    [(reward_id,)] = await rows(runtime, "SELECT id FROM invite_rewards")
    assert await rewards(runtime) == [(campaign_id, alice_id, bob_id, "rewarded", REWARD)]
    assert await balances(runtime) == {alice_id: REWARD}
    assert await rows(runtime, "SELECT customer_id, amount_fen, kind, source_type, source_id, campaign_id "
                               "FROM wallet_entries") == [(alice_id, REWARD, "invite_reward", "invite", reward_id,
                                                           campaign_id)]
    seen = await wallet(mall, alice)
    assert seen["balance_fen"] == REWARD
    assert [(e["amount_fen"], e["kind"], e["source_type"], e["source_id"]) for e in seen["entries"]] == [
        (REWARD, "invite_reward", "invite", reward_id)]
    assert await wallet(mall, bob) == {"balance_fen": 0, "entries": []}
    assert await counter(runtime, f"invites:{campaign_id}:{alice_id}") == 1
    assert await counter(runtime, f"budget:{campaign_id}:invite_reward") == REWARD
    events = await rows(runtime, "SELECT actor_id, inviter_id, campaign_id, subject_type, subject_id FROM events "
                                 "WHERE kind = 'invite_reward'")
    assert events == [(alice_id, alice_id, campaign_id, "customer", bob_id)]
    # one job per deed: Bob's registration and his first purchase (of his first order)
    assert [(j["event"], j["actor_id"], j["subject_type"], j["subject_id"]) for j in await reward_jobs(runtime)] == [
        ("register", bob_id, "customer", bob_id), ("first_purchase", bob_id, "order", order["id"])]

    before = await snapshot(runtime)
    for payload in await reward_jobs(runtime):  # a worker that lost its lease runs each job again
        await reward_friend(runtime, payload)
    assert await snapshot(runtime) == before
    async with runtime.sessionmaker() as session:  # the outbox delivers them once more
        await session.execute(update(OutboxJob).where(OutboxJob.kind == "invites.reward")
                              .values(status="pending", locked_until=None, run_at=runtime.clock.now()))
        await session.commit()
    assert (await mall.work())["jobs"] == 2
    assert await snapshot(runtime, tuple(t for t in WATCHED if t != "outbox_jobs")) == {
        t: v for t, v in before.items() if t != "outbox_jobs"}

    await buy(mall, bob)  # a second order is no first purchase: no job, no reward
    assert len(await reward_jobs(runtime)) == 2
    assert await rewards(runtime) == [(campaign_id, alice_id, bob_id, "rewarded", REWARD)]
    assert await balances(runtime) == {alice_id: REWARD}

    page = await mine(mall, alice, campaign_id)
    assert {k: v for k, v in page.items() if k not in ("friends", "rules", "ends_at")} == {
        "campaign_id": campaign_id, "name": "邀请有礼", "reward_on": "first_purchase", "reward_fen": REWARD,
        "max_friends": 10, "joined": 1, "rewarded": 1, "earned_fen": REWARD}
    assert [(f["invitee_id"], f["nickname"], f["outcome"], f["amount_fen"]) for f in page["friends"]] == [
        (bob_id, "bob", "rewarded", REWARD)]
    assert page["rules"][0] == "好友通过你的邀请链接完成首单支付，你获得 ¥5.00 店铺余额，最多 10 位好友。"
    assert (await mine(mall, bob, campaign_id))["friends"] == []
    await assert_ledger_balances(runtime)


async def test_sharing_and_clicks_alone_earn_nothing(client, mall, runtime):
    """S1: creating invite shares and having them opened queues no reward and credits nobody."""
    await invite_campaign(mall, reward_on="register")
    alice, alice_id, code = await inviter(mall)
    await invite_link(mall, alice, alice_id)  # shared again
    bob, _ = await sign_up(mall, "bob", device="dev-bob")  # an existing customer opens the link
    assert (await client.get(f"/shares/{code}", headers=bob)).status_code == 200
    assert (await client.get(f"/shares/{code}")).status_code == 200  # an anonymous visitor too
    await mall.work()
    assert await reward_jobs(runtime) == []
    assert await rewards(runtime) == []
    assert await rows(runtime, "SELECT count(*) FROM wallet_entries") == [(0,)]
    assert await value(runtime, "SELECT count(*) FROM events WHERE kind = 'share'") == 2
    assert await value(runtime, "SELECT count(*) FROM events WHERE kind = 'click'") == 2


async def test_reward_on_register_pays_at_sign_up_and_not_again_at_the_first_purchase(client, mall, runtime):
    """reward_on "register": the friend's sign-up is the deed; their first purchase earns nothing more."""
    campaign_id = await invite_campaign(mall, reward_on="register", reward_fen=300)
    alice, alice_id, code = await inviter(mall)
    bob, bob_id = await sign_up(mall, "bob", code=code, device="dev-bob")
    await mall.work()
    assert await rewards(runtime) == [(campaign_id, alice_id, bob_id, "rewarded", 300)]
    assert await balances(runtime) == {alice_id: 300}
    await buy(mall, bob)
    assert await rewards(runtime) == [(campaign_id, alice_id, bob_id, "rewarded", 300)]
    assert await balances(runtime) == {alice_id: 300}
    page = await mine(mall, alice, campaign_id)
    assert (page["reward_on"], page["rewarded"]) == ("register", 1)
    assert page["rules"][0] == "好友通过你的邀请链接注册成为新用户，你获得 ¥3.00 店铺余额，最多 10 位好友。"
    await assert_ledger_balances(runtime)


async def test_a_register_campaign_and_a_first_purchase_campaign_each_reward_their_own_deed(client, mall, runtime):
    """Two live campaigns: sign-up pays the first, the first order the second; each once, from its own budget."""
    on_register = await invite_campaign(mall, reward_on="register", reward_fen=100)
    on_purchase = await invite_campaign(mall, reward_on="first_purchase", reward_fen=700)
    _, alice_id, code = await inviter(mall)
    bob, bob_id = await sign_up(mall, "bob", code=code, device="dev-bob")
    await mall.work()
    assert await rewards(runtime) == [(on_register, alice_id, bob_id, "rewarded", 100)]
    await buy(mall, bob)
    assert await rewards(runtime) == [(on_register, alice_id, bob_id, "rewarded", 100),
                                      (on_purchase, alice_id, bob_id, "rewarded", 700)]
    assert await balances(runtime) == {alice_id: 800}
    await assert_ledger_balances(runtime)


# --- caps -------------------------------------------------------------------------------------------------------------


async def test_max_friends_caps_the_rewarded_friends(client, mall, runtime):
    """max_friends 2: the third paying friend is recorded as limit_reached with nothing paid."""
    campaign_id = await invite_campaign(mall, max_friends=2)
    alice, alice_id, code = await inviter(mall)
    friends = [await sign_up(mall, f"friend{i}", code=code, device=f"dev-{i}") for i in range(3)]
    for who, _ in friends:
        await buy(mall, who)
    assert await rewards(runtime) == [(campaign_id, alice_id, friends[0][1], "rewarded", REWARD),
                                      (campaign_id, alice_id, friends[1][1], "rewarded", REWARD),
                                      (campaign_id, alice_id, friends[2][1], "limit_reached", 0)]
    assert await balances(runtime) == {alice_id: 2 * REWARD}
    assert await counter(runtime, f"invites:{campaign_id}:{alice_id}") == 2
    page = await mine(mall, alice, campaign_id)
    assert (page["rewarded"], [f["outcome"] for f in page["friends"]]) == (
        2, ["rewarded", "rewarded", "limit_reached"])
    # the cap is per inviter: Bob's friend still earns Bob his reward
    bob, bob_id = friends[0]
    carol, carol_id = await sign_up(mall, "carol", code=await invite_link(mall, bob, bob_id), device="dev-carol")
    await buy(mall, carol)
    assert (await rewards(runtime))[-1] == (campaign_id, bob_id, carol_id, "rewarded", REWARD)
    assert await balances(runtime) == {alice_id: 2 * REWARD, bob_id: REWARD}
    await assert_ledger_balances(runtime)


async def test_a_budget_of_two_rewards_leaves_the_third_friend_budget_spent(client, mall, runtime):
    """budget.total_fen covers two rewards: the third friend is budget_spent, and the max_friends place their
    reward did not use is given back."""
    campaign_id = await invite_campaign(mall, budget={"total_fen": 2 * REWARD})
    alice, alice_id, code = await inviter(mall)
    friends = [await sign_up(mall, f"friend{i}", code=code, device=f"dev-{i}") for i in range(3)]
    for who, _ in friends:
        await buy(mall, who)
    assert [r[2:] for r in await rewards(runtime)] == [
        (friends[0][1], "rewarded", REWARD), (friends[1][1], "rewarded", REWARD), (friends[2][1], "budget_spent", 0)]
    assert await balances(runtime) == {alice_id: 2 * REWARD}
    assert await counter(runtime, f"budget:{campaign_id}:invite_reward") == 2 * REWARD
    assert await counter(runtime, f"invites:{campaign_id}:{alice_id}") == 2
    assert (await mine(mall, alice, campaign_id))["rewarded"] == 2
    await assert_ledger_balances(runtime)


async def test_a_daily_budget_pays_again_the_next_day(client, mall, runtime, clock):
    """budget.daily_fen covers one reward a day (China time): the second friend of the day is budget_spent, a
    friend the next day is rewarded, and the day's refusal leaves the total budget untouched."""
    campaign_id = await invite_campaign(mall, budget={"total_fen": 10_000, "daily_fen": REWARD})
    _, alice_id, code = await inviter(mall)
    first, second = [await sign_up(mall, f"friend{i}", code=code, device=f"dev-{i}") for i in range(2)]
    await buy(mall, first[0])
    await buy(mall, second[0])
    clock.advance(days=1)
    third = await sign_up(mall, "friend2", code=code, device="dev-2")
    await buy(mall, third[0])
    assert [r[2:] for r in await rewards(runtime)] == [
        (first[1], "rewarded", REWARD), (second[1], "budget_spent", 0), (third[1], "rewarded", REWARD)]
    assert await balances(runtime) == {alice_id: 2 * REWARD}
    key = f"budget:{campaign_id}:invite_reward"
    assert await counter(runtime, key) == 2 * REWARD
    assert await counter(runtime, key, "2026-01-01") == REWARD
    assert await counter(runtime, key, "2026-01-02") == REWARD
    await assert_ledger_balances(runtime)


# --- who counts -------------------------------------------------------------------------------------------------------


async def test_a_friend_on_a_device_an_earlier_account_used_is_not_new(client, mall, runtime):
    """F2: the inviter's own phone, or a phone an earlier customer signed up on, makes the friend not_new (nothing
    paid, no place or budget used); a later account on the friend's phone, or one at another merchant, does not."""
    campaign_id = await invite_campaign(mall)
    beta = await Mall.create(client, runtime, slug="beta")
    await sign_up(beta, "elsewhere", device="dev-shared-elsewhere")
    _, alice_id, code = await inviter(mall, device="dev-alice")
    await sign_up(mall, "organic", device="dev-organic")
    own_phone, own_phone_id = await sign_up(mall, "alice-2", code=code, device="dev-alice")
    old_phone, old_phone_id = await sign_up(mall, "second-hand", code=code, device="dev-organic")
    fresh, fresh_id = await sign_up(mall, "fresh", code=code, device="dev-fresh")
    await sign_up(mall, "later", device="dev-fresh")
    other_mall, other_mall_id = await sign_up(mall, "beta-user", code=code, device="dev-shared-elsewhere")
    for who in (own_phone, old_phone, fresh, other_mall):
        await buy(mall, who)
    assert await rewards(runtime) == [(campaign_id, alice_id, own_phone_id, "not_new", 0),
                                      (campaign_id, alice_id, old_phone_id, "not_new", 0),
                                      (campaign_id, alice_id, fresh_id, "rewarded", REWARD),
                                      (campaign_id, alice_id, other_mall_id, "rewarded", REWARD)]
    assert await balances(runtime) == {alice_id: 2 * REWARD}
    assert await counter(runtime, f"invites:{campaign_id}:{alice_id}") == 2
    await assert_ledger_balances(runtime)


async def test_a_high_risk_friend_earns_nothing(client, mall, runtime, clock):
    """F4 with the default rules: a friend with no device id who pays within 10 minutes of signing up is high_risk
    (nothing paid, no place or budget used); the same without a device id 10 minutes on is only a mild signal."""
    campaign_id = await invite_campaign(mall, max_friends=1)
    alice, alice_id, code = await inviter(mall)
    quick, quick_id = await sign_up(mall, "quick", code=code)
    await buy(mall, quick)
    clock.advance(minutes=1)
    almost, almost_id = await sign_up(mall, "almost", code=code)
    clock.advance(minutes=9, seconds=59)
    await buy(mall, almost)
    assert await rewards(runtime) == [(campaign_id, alice_id, quick_id, "high_risk", 0),
                                      (campaign_id, alice_id, almost_id, "high_risk", 0)]
    assert await rows(runtime, "SELECT count(*) FROM wallet_entries") == [(0,)]
    assert await counter(runtime, f"invites:{campaign_id}:{alice_id}") is None
    assert await counter(runtime, f"budget:{campaign_id}:invite_reward") is None

    patient, patient_id = await sign_up(mall, "patient", code=code)
    clock.advance(minutes=10)
    await buy(mall, patient)  # the one place max_friends allows is still free for them
    assert (await rewards(runtime))[-1] == (campaign_id, alice_id, patient_id, "rewarded", REWARD)
    assert await balances(runtime) == {alice_id: REWARD}
    assert [f["outcome"] for f in (await mine(mall, alice, campaign_id))["friends"]] == [
        "high_risk", "high_risk", "rewarded"]
    await assert_ledger_balances(runtime)


async def test_a_customer_who_came_without_an_invite_link_earns_nobody_anything(client, mall, runtime):
    """No inviter, no job: an organic sign-up and purchase, and an existing customer who signs in again through a
    link (not newly invited, so not bound), leave no reward, no credit, no job."""
    campaign_id = await invite_campaign(mall)
    await invite_campaign(mall, reward_on="register")
    alice, _, code = await inviter(mall)
    organic, _ = await sign_up(mall, "organic", device="dev-organic")
    await buy(mall, organic)
    again, _ = await sign_up(mall, "organic", code=code, device="dev-organic")
    assert (await client.get("/me", headers=again)).json()["inviter_id"] is None
    await buy(mall, again)
    assert await reward_jobs(runtime) == []
    assert await rewards(runtime) == []
    assert await rows(runtime, "SELECT count(*), coalesce(sum(balance_fen), 0) FROM wallets") == [(0, 0)]
    assert await rows(runtime, "SELECT count(*) FROM wallet_entries") == [(0,)]
    assert await rows(runtime, "SELECT count(*) FROM counters") == [(0,)]
    assert (await mine(mall, alice, campaign_id))["friends"] == []


async def test_a_deed_while_no_invite_campaign_runs_earns_nothing_later(client, mall, runtime, clock):
    """Rewards are decided by the campaigns live when the deed is processed: a paused campaign pays nothing, and
    activating it again does not reward the deeds it missed."""
    campaign_id = await invite_campaign(mall)
    _, alice_id, code = await inviter(mall)
    owner = await mall.staff("owner")
    assert (await client.post(f"/admin/campaigns/{campaign_id}/pause", headers=owner)).status_code == 200
    bob, bob_id = await sign_up(mall, "bob", code=code, device="dev-bob")
    await buy(mall, bob)
    assert await rewards(runtime) == []
    assert (await client.post(f"/admin/campaigns/{campaign_id}/activate", headers=owner)).status_code == 200
    await mall.work()
    assert await rewards(runtime) == []
    carol, carol_id = await sign_up(mall, "carol", code=code, device="dev-carol")
    await buy(mall, carol)
    assert await rewards(runtime) == [(campaign_id, alice_id, carol_id, "rewarded", REWARD)]
    assert bob_id not in await balances(runtime)


@pytest.mark.postgres
async def test_reward_jobs_running_at_once_pay_within_the_budget_and_each_friend_once(client, mall, runtime):
    """Twelve friends' sign-up jobs, each delivered three times, all run at once against a budget of five rewards:
    exactly five friends rewarded and seven budget_spent, one row per friend, the ledger balanced."""
    campaign_id = await invite_campaign(mall, reward_on="register", budget={"total_fen": 5 * REWARD},
                                        max_friends=100)
    _, alice_id, code = await inviter(mall)
    friends = {(await sign_up(mall, f"friend{i}", code=code, device=f"dev-{i}"))[1] for i in range(12)}
    payloads = await reward_jobs(runtime)
    assert {p["actor_id"] for p in payloads} == friends
    gate = asyncio.Semaphore(20)

    async def run(payload: dict[str, Any]) -> None:
        async with gate:
            await reward_friend(runtime, payload)

    await asyncio.gather(*(run(payload) for payload in payloads * 3))
    found = await rewards(runtime)
    assert sorted(r[2] for r in found) == sorted(friends)
    assert sorted((r[3], r[4]) for r in found) == [("budget_spent", 0)] * 7 + [("rewarded", REWARD)] * 5
    assert await balances(runtime) == {alice_id: 5 * REWARD}
    assert await counter(runtime, f"invites:{campaign_id}:{alice_id}") == 5
    assert await value(runtime, "SELECT count(*) FROM events WHERE kind = 'invite_reward'") == 12
    await assert_ledger_balances(runtime)


# --- a merchant whose risk check is WeChat's --------------------------------------------------------------------------


class WechatAndMall(httpx.AsyncBaseTransport):
    """WeChat's risk API answered by a small stand-in (rank 4 for openids starting "farm", 0 otherwise); everything
    else goes where the harness sends it (the sandbox's notifications to the app)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "wechat.test":
            return await self.inner.handle_async_request(request)
        self.calls.append(request.url.path)
        if request.url.path == "/cgi-bin/token":
            return httpx.Response(200, json={"access_token": "token-1", "expires_in": 7200})
        openid = json.loads(await request.aread())["openid"]
        rank = 4 if openid.startswith("farm") else 0
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", "risk_rank": rank})


@pytest.mark.parametrize("settings_overrides", [{"wechat_api_base": "http://wechat.test",
                                                  "token_ttl_seconds": 7 * 24 * 3600}])
async def test_a_merchant_with_mini_program_credentials_asks_wechat_for_the_risk_rank(client, mall, runtime):
    """F4 in production: WeChat's rank 4 makes a friend high_risk even with a device id; rank 0 rewards a friend
    with none who pays at once (which the rules alone would have refused)."""
    async with runtime.sessionmaker() as session:
        await session.execute(update(Merchant).where(Merchant.id == mall.merchant_id).values(
            wechat_appid=f"wx{uuid.uuid4().hex[:16]}", wechat_secret="s3cret"))
        await session.commit()
    transport = WechatAndMall(runtime.http_transport)  # type: ignore[arg-type]
    runtime.http_transport = transport
    campaign_id = await invite_campaign(mall)
    _, alice_id, code = await inviter(mall)
    farm, farm_id = await sign_up(mall, "farm-1", code=code, device="dev-farm")
    honest, honest_id = await sign_up(mall, "honest", code=code)
    await buy(mall, farm)
    await buy(mall, honest)
    assert await rewards(runtime) == [(campaign_id, alice_id, farm_id, "high_risk", 0),
                                      (campaign_id, alice_id, honest_id, "rewarded", REWARD)]
    assert transport.calls == ["/cgi-bin/token", "/wxa/getuserriskrank", "/wxa/getuserriskrank"]
    await assert_ledger_balances(runtime)


# --- the inviter's page and the settings ------------------------------------------------------------------------------


async def test_the_invite_page_is_found_only_for_a_live_invite_campaign_of_ones_own_mall(client, mall, runtime):
    """A draft, another kind's campaign, or another merchant's invite campaign is 404 campaign_not_found."""
    draft = await invite_campaign(mall, activate=False)
    live = await invite_campaign(mall)
    beta = await Mall.create(client, runtime, slug="beta")
    foreign = await invite_campaign(beta)
    group = await client.post("/admin/campaigns", headers=await mall.staff(), json={
        "kind": "group", "name": "拼团", "starts_at": runtime.clock.now().isoformat(),
        "ends_at": (runtime.clock.now() + timedelta(days=1)).isoformat(),
        "settings": {"product_id": mall.product_id, "skus": [{"sku_id": mall.sku_id, "group_price_fen": 800}],
                     "group_size": 2}})
    assert group.status_code == 201, group.text
    alice, _ = await sign_up(mall, "alice")
    for campaign_id in (draft, foreign, group.json()["id"]):
        problem(await client.get(f"/invite-campaigns/{campaign_id}/mine", headers=alice), 404, "campaign_not_found")
    page = await mine(mall, alice, live)
    assert (page["rewarded"], page["friends"], len(page["rules"])) == (0, [], 3)
    assert (await client.get(f"/invite-campaigns/{live}/mine")).status_code == 401


@pytest.mark.parametrize(("settings", "field"), [
    ({"reward_on": "share", "reward_fen": 500, "budget": {"total_fen": 1000}}, "settings.reward_on"),
    ({"reward_fen": 0, "budget": {"total_fen": 1000}}, "settings.reward_fen"),
    ({"reward_fen": 500}, "settings.budget"),
    ({"reward_fen": 500, "max_friends": 0, "budget": {"total_fen": 1000}}, "settings.max_friends"),
    ({"reward_fen": 500, "budget": {"total_fen": 1000, "daily_fen": 0}}, "settings.budget.daily_fen"),
])
async def test_bad_invite_settings_are_refused_field_by_field(client, mall, runtime, settings, field):
    """S1, F5: only a real deed can be rewarded (never a share), always from a budget; nothing is created."""
    now = runtime.clock.now()
    response = await client.post("/admin/campaigns", headers=await mall.staff(), json={
        "kind": "invite", "name": "邀请有礼", "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(), "settings": settings})
    assert problem(response, 422, "invalid_settings")["field"] == field
    async with runtime.sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM campaigns"))).scalar() == 0
