"""Velocity limits and the risk check (COMPLIANCE F3, F4).

Velocity: the (limit+1)-th action of an hour by one customer, one device or one IP range (/24) is refused with
429 velocity_limited, whether the windows live in the database (counted in the request's own transaction, so a
refusal leaves no row behind) or in Redis (one atomic script, an attempt counted even when refused); the next hour
allows it again. Risk: the default rules rank a minutes-old account with no device id as high risk; WeChat's
getuserriskrank, asked through a local stand-in, is used with its access token cached, and whenever WeChat refuses
the token or the rank, the rules decide instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from sqlalchemy import update

from fissionmall.catalog.models import Product, Sku
from fissionmall.core.errors import TooManyRequests
from fissionmall.core.runtime import Runtime
from fissionmall.core.windows import RedisWindows
from fissionmall.fraud import service as fraud
from fissionmall.fraud import velocity
from fissionmall.fraud.risk import HIGH_RISK, RulesRiskChecker, WeChatRiskChecker
from fissionmall.fraud.schemas import Actor, VelocityLimits
from fissionmall.merchants.models import Merchant, Staff, Store
from fissionmall.merchants.service import staff_token
from tests.support import Mall, Who, customer_id, password_hash, problem, rows, snapshot_of

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

REDIS_URL = "redis://127.0.0.1:6379/0"
WECHAT = "http://wechat.test"
WATCHED = ("helps", "counters", "assist_packets", "events", "outbox_jobs", "wallet_entries", "idempotency_keys")
"""What a help refused for velocity must leave exactly as it was."""


# --- helpers ----------------------------------------------------------------------------------------------------------


async def assist_campaign(mall: Mall, **velocity_limits: int) -> int:
    """A live assist campaign whose packets need 10 helps (so none opens here), with these velocity limits."""
    now = mall.runtime.clock.now()
    owner = await mall.staff("owner")
    created = await mall.client.post("/admin/campaigns", headers=owner, json={
        "kind": "assist", "name": "助力拆红包", "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat(),
        "settings": {"pool_fen": 1000, "winners": 10, "helpers_needed": 10, "per_customer_limit": 10,
                     "helps_per_helper_per_day": 50, "velocity": velocity_limits}})
    assert created.status_code == 201, created.text
    campaign_id: int = created.json()["id"]
    activated = await mall.client.post(f"/admin/campaigns/{campaign_id}/activate", headers=owner)
    assert activated.status_code == 200, activated.text
    return campaign_id


async def packets(mall: Mall, campaign_id: int, count: int, owner: str = "owner-1") -> list[int]:
    who = await mall.shopper(owner)
    ids = []
    for _ in range(count):
        response = await mall.client.post("/assists", headers=who, json={"campaign_id": campaign_id})
        assert response.status_code == 201, response.text
        ids.append(int(response.json()["id"]))
    return ids


def help_packet(client: httpx.AsyncClient, who: Who, packet_id: int, device: str | None = None) -> Any:
    """POST /assists/{id}/helps, from a device when given (not awaited)."""
    return client.post(f"/assists/{packet_id}/helps", headers={**who, **({"X-Device-Id": device} if device else {})})


async def helped(client: httpx.AsyncClient, who: Who, packet_id: int, device: str | None = None) -> None:
    response = await help_packet(client, who, packet_id, device)
    assert response.status_code == 201, response.text


snapshot = partial(snapshot_of, tables=WATCHED)


async def too_fast(runtime: Runtime, request: Any, scope: str, limit: int) -> None:
    """The help is refused 429 velocity_limited for this scope and limit, and changes no row."""
    before = await snapshot(runtime)
    body = problem(await request, 429, "velocity_limited")
    assert (body["scope"], body["limit"]) == (scope, limit)
    assert await snapshot(runtime) == before


def from_ip(client: httpx.AsyncClient, app: Any, ip: str) -> httpx.AsyncClient:
    """Another client of the app (same base URL as the harness's) whose requests come from this peer address."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url=client.base_url)


def actor(merchant_id: int, customer_id: int, *, device: str | None = None, ip: str | None = None,
          created_at: datetime | None = None, openid: str | None = None) -> Actor:
    return Actor(merchant_id=merchant_id, customer_id=customer_id, openid=openid or f"o-{customer_id}",
                 created_at=created_at or datetime(2025, 1, 1, tzinfo=UTC), is_new=True, device_id=device, ip=ip)


# --- velocity in the database, through the assist endpoints --------------------------------------------------------


async def test_one_customer_may_help_at_most_the_hourly_limit(client, mall, runtime, clock):
    """per_customer_hour 2: the third help within the hour is refused (still at 59 minutes), the next hour it
    passes; helps in another campaign are counted apart."""
    campaign_id = await assist_campaign(mall, per_customer_hour=2)
    first, second, third = await packets(mall, campaign_id, 3)
    helper = await mall.shopper("helper")
    await helped(client, helper, first)
    await helped(client, helper, second)
    await too_fast(runtime, help_packet(client, helper, third), "customer", 2)
    other_campaign = await assist_campaign(mall, per_customer_hour=2)
    [elsewhere] = await packets(mall, other_campaign, 1, owner="owner-2")
    await helped(client, helper, elsewhere)
    clock.advance(minutes=59)
    await too_fast(runtime, help_packet(client, helper, third), "customer", 2)
    clock.advance(minutes=1)
    await helped(client, helper, third)
    assert await rows(runtime, "SELECT key, period, used FROM counters WHERE key LIKE :k ORDER BY period",
                      k=f"velocity:help:{campaign_id}:customer:%") == [
        (f"velocity:help:{campaign_id}:customer:{await customer_id(mall, helper)}", "2026-01-01T20", 2),
        (f"velocity:help:{campaign_id}:customer:{await customer_id(mall, helper)}", "2026-01-01T21", 1)]


async def test_one_device_may_help_at_most_the_hourly_limit(client, mall, runtime, clock):
    """per_device_hour 2: three accounts on one phone — the third is refused (scope device); another phone is not;
    the next hour the phone may help again."""
    campaign_id = await assist_campaign(mall, per_device_hour=2)
    [packet] = await packets(mall, campaign_id, 1)
    farm = [await mall.shopper(f"farm-{i}") for i in range(4)]
    await helped(client, farm[0], packet, "phone-1")
    await helped(client, farm[1], packet, "phone-1")
    await too_fast(runtime, help_packet(client, farm[2], packet, "phone-1"), "device", 2)
    await helped(client, farm[2], packet, "phone-2")
    clock.advance(hours=1)
    await helped(client, farm[3], packet, "phone-1")
    assert await rows(runtime, "SELECT count(*) FROM helps") == [(4,)]


async def test_one_ip_range_may_help_at_most_the_hourly_limit(client, app, mall, runtime, clock):
    """per_ip_range_hour 2: three accounts, three phones, one /24 — the third is refused (scope "ip range");
    an address in the next /24 is not; the next hour the range may help again."""
    campaign_id = await assist_campaign(mall, per_ip_range_hour=2)
    [packet] = await packets(mall, campaign_id, 1)
    farm = [await mall.shopper(f"farm-{i}") for i in range(4)]
    async with from_ip(client, app, "10.1.2.3") as a, from_ip(client, app, "10.1.2.77") as b, \
            from_ip(client, app, "10.1.2.250") as c, from_ip(client, app, "10.1.3.250") as d:
        await helped(a, farm[0], packet, "phone-0")
        await helped(b, farm[1], packet, "phone-1")
        await too_fast(runtime, help_packet(c, farm[2], packet, "phone-2"), "ip range", 2)
        await helped(d, farm[2], packet, "phone-2")
        clock.advance(hours=1)
        await helped(c, farm[3], packet, "phone-3")
    ranges = await rows(runtime, "SELECT key, period, used FROM counters WHERE key LIKE :k ORDER BY period, key",
                        k=f"velocity:help:{campaign_id}:ip range:%")
    assert ranges == [(f"velocity:help:{campaign_id}:ip range:10.1.2.0/24", "2026-01-01T20", 2),
                      (f"velocity:help:{campaign_id}:ip range:10.1.3.0/24", "2026-01-01T20", 1),
                      (f"velocity:help:{campaign_id}:ip range:10.1.2.0/24", "2026-01-01T21", 1)]


async def test_database_windows_count_in_the_callers_transaction(client, mall, runtime, clock):
    """velocity.check with DatabaseWindows: counts each scope under velocity:<action>:<scope>:<value> for the
    China-time hour; a refused check raises TooManyRequests and, rolled back with its transaction, leaves no count."""
    who = actor(mall.merchant_id, 7, device="d-1", ip="192.168.5.9")
    limits = VelocityLimits(per_customer_hour=1, per_device_hour=5, per_ip_range_hour=5)
    async with runtime.sessionmaker() as session:
        await velocity.check(session, runtime, "claim:1", who, limits)
        await session.commit()
    async with runtime.sessionmaker() as session:
        with pytest.raises(TooManyRequests) as refused:
            await velocity.check(session, runtime, "claim:1", who, limits)
        await session.rollback()
    assert (refused.value.status, refused.value.code, refused.value.extra) == (
        429, "velocity_limited", {"scope": "customer", "limit": 1})
    assert await rows(runtime, "SELECT key, period, used FROM counters ORDER BY key") == [
        ("velocity:claim:1:customer:7", "2026-01-01T20", 1), ("velocity:claim:1:device:d-1", "2026-01-01T20", 1),
        ("velocity:claim:1:ip range:192.168.5.0/24", "2026-01-01T20", 1)]
    clock.advance(hours=1)
    async with runtime.sessionmaker() as session:
        await velocity.check(session, runtime, "claim:1", who, limits)
        await session.commit()
    assert await rows(runtime, "SELECT count(*), sum(used) FROM counters WHERE period = '2026-01-01T21'") == [(3, 3)]


# --- velocity in Redis ------------------------------------------------------------------------------------------------


@pytest.fixture
async def redis_windows(runtime: Runtime) -> AsyncIterator[tuple[RedisWindows, int]]:
    """The runtime's windows moved to Redis, and a merchant id no other run uses; only its keys are deleted."""
    windows = RedisWindows(REDIS_URL)
    merchant_id = 10**12 + uuid.uuid4().int % 10**12
    runtime.velocity = windows
    yield windows, merchant_id
    keys = [key async for key in windows.redis.scan_iter(match=f"fm:velocity:{merchant_id}:*")]
    if keys:
        await windows.redis.delete(*keys)
    await windows.close()


async def redis_check(runtime: Runtime, who: Actor, limits: VelocityLimits, action: str = "help:1") -> str | None:
    """None when allowed, else the refused scope."""
    async with runtime.sessionmaker() as session:
        try:
            await velocity.check(session, runtime, action, who, limits)
        except TooManyRequests as exc:
            assert (exc.status, exc.code) == (429, "velocity_limited")
            return str(exc.extra["scope"])
    return None


async def test_redis_windows_refuse_the_action_past_each_limit_until_the_next_hour(runtime, clock, redis_windows):
    """Per customer (limit 3), per device (limit 2, across customers) and per /24 (limit 2, across customers and
    devices): the action past the limit is refused for that scope; an hour later each is allowed again."""
    windows, merchant_id = redis_windows
    limits = VelocityLimits(per_customer_hour=3, per_device_hour=2, per_ip_range_hour=2)
    alone = [await redis_check(runtime, actor(merchant_id, 1), limits) for _ in range(4)]
    assert alone == [None, None, None, "customer"]
    phone = [await redis_check(runtime, actor(merchant_id, 10 + i, device="phone"), limits) for i in range(3)]
    assert phone == [None, None, "device"]
    network = [await redis_check(runtime, actor(merchant_id, 20 + i, device=f"p{i}", ip=f"10.9.8.{i + 1}"), limits)
               for i in range(3)]
    assert network == [None, None, "ip range"]
    assert await redis_check(runtime, actor(merchant_id, 30, device="p9", ip="10.9.9.1"), limits) is None
    assert await redis_check(runtime, actor(merchant_id, 1), limits, action="help:2") is None  # its own window
    clock.advance(hours=1)
    assert await redis_check(runtime, actor(merchant_id, 1), limits) is None
    assert await redis_check(runtime, actor(merchant_id, 12, device="phone"), limits) is None
    assert await redis_check(runtime, actor(merchant_id, 23, device="p3", ip="10.9.8.4"), limits) is None
    key = f"fm:velocity:{merchant_id}:help:1:customer:1:2026-01-01T20"
    assert int(await windows.redis.get(key)) == 4  # the refused attempt counted too
    assert 0 < await windows.redis.ttl(key) <= 7200
    assert int(await windows.redis.get(f"fm:velocity:{merchant_id}:help:1:customer:1:2026-01-01T21")) == 1
    assert await rows(runtime, "SELECT count(*) FROM counters") == [(0,)]  # nothing in the database


async def test_redis_counts_an_attempt_refused_by_a_later_scope(runtime, redis_windows):
    """An attempt counts in each window it reached even when a later scope refuses it: the customer's own window
    fills up with attempts its device was refused for."""
    windows, merchant_id = redis_windows
    limits = VelocityLimits(per_customer_hour=2, per_device_hour=1, per_ip_range_hour=100)
    results = [await redis_check(runtime, actor(merchant_id, 5, device="shared"), limits) for _ in range(3)]
    assert results == [None, "device", "customer"]
    assert await redis_check(runtime, actor(merchant_id, 5, device="fresh"), limits) == "customer"
    prefix = f"fm:velocity:{merchant_id}:help:1"
    assert [await windows.redis.get(f"{prefix}:{key}:2026-01-01T20")
            for key in ("customer:5", "device:shared", "device:fresh")] == [b"4", b"2", None]


async def unique_mall(client: httpx.AsyncClient, runtime: Runtime, merchant_id: int) -> Mall:
    """Mall.create with a merchant id of our own choosing (so its Redis keys are ours alone)."""
    now = runtime.clock.now()
    slug = f"m{merchant_id}"
    async with runtime.sessionmaker() as session:
        session.add(Merchant(id=merchant_id, slug=slug, name=f"{slug} mall", created_at=now))
        await session.flush()
        store = Store(merchant_id=merchant_id, name="main store")
        owner = Staff(merchant_id=merchant_id, username="owner", password_hash=password_hash(), role="owner")
        product = Product(merchant_id=merchant_id, title="Tea", status="on_sale", created_at=now)
        product.images = []
        product.skus = [Sku(merchant_id=merchant_id, code=f"{slug}-tea", name="100g", price_fen=1000, stock=100)]
        session.add_all([store, owner, product])
        await session.commit()
        mall = Mall(client, runtime, slug, merchant_id, store.id, product.id, product.skus[0].id)
    mall._staff_tokens["owner"] = staff_token(runtime.settings, runtime.clock.now(), owner, ttl_seconds=24 * 3600)
    return mall


async def test_redis_windows_refuse_helps_through_the_api(client, runtime, clock, redis_windows):
    """The app with Redis windows: the third help of the hour is 429 velocity_limited and writes no row; the next
    hour it passes."""
    _, merchant_id = redis_windows
    mall = await unique_mall(client, runtime, merchant_id)
    campaign_id = await assist_campaign(mall, per_customer_hour=2)
    first, second, third = await packets(mall, campaign_id, 3)
    helper = await mall.shopper("helper")
    await helped(client, helper, first)
    await helped(client, helper, second)
    await too_fast(runtime, help_packet(client, helper, third), "customer", 2)
    clock.advance(hours=1)
    await helped(client, helper, third)
    assert await rows(runtime, "SELECT count(*) FROM counters WHERE key LIKE 'velocity:%'") == [(0,)]


# --- the actor's network ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ip", "expected"), [
    ("10.1.2.3", "10.1.2.0/24"), ("10.1.2.254", "10.1.2.0/24"), ("2001:db8:abcd:12:0:0:0:1", "2001:db8:abcd::/48"),
    (None, None), ("", None)])
def test_ip_range_is_the_ipv4_24_or_the_ipv6_48(ip, expected):
    """Velocity per IP range groups a /24 (IPv4) or /48 (IPv6)."""
    assert actor(1, 1, ip=ip).ip_range == expected


def test_compressed_ipv6_addresses_of_one_48_share_their_range():
    """2001:db8::1 and 2001:db8:0:1::2 are both in 2001:db8::/48, as the peer address is usually written."""
    assert actor(1, 1, ip="2001:db8::1").ip_range == actor(1, 2, ip="2001:db8:0:1::2").ip_range == "2001:db8::/48"


# --- the rules risk checker -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "device", "rank"), [
    (timedelta(0), None, 3), (timedelta(minutes=9, seconds=59), None, 3), (timedelta(minutes=10), None, 1),
    (timedelta(0), "phone", 1), (timedelta(days=30), "phone", 0), (timedelta(days=30), "", 1)])
async def test_rules_rank_a_minutes_old_account_with_no_device_as_high_risk(runtime, clock, age, device, rank):
    """Young (< 10 minutes) and anonymous together is 3 (high risk); either alone is 1; neither is 0."""
    who = actor(1, 1, device=device, created_at=clock.now() - age)
    assert await RulesRiskChecker().rank(runtime, who) == rank
    assert (rank >= HIGH_RISK) == (rank == 3)


# --- WeChat's risk rank -----------------------------------------------------------------------------------------------


class FakeWechat:
    """A small stand-in of api.weixin.qq.com: /cgi-bin/token and /wxa/getuserriskrank, recording what it is asked.
    `token_answer` and `rank_answer` say what each returns (a dict as JSON, an httpx.Response, or an exception)."""

    def __init__(self) -> None:
        self.token_requests: list[dict[str, str]] = []
        self.rank_requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.token_answer: Any = {"access_token": "token-1", "expires_in": 7200}
        self.rank_answer: Any = {"errcode": 0, "errmsg": "ok", "risk_rank": 2, "unoin_id": 1}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(parse_qsl(request.url.query.decode()))
        if (request.method, request.url.path) == ("GET", "/cgi-bin/token"):
            self.token_requests.append(query)
            return self._answer(self.token_answer, request)
        if (request.method, request.url.path) == ("POST", "/wxa/getuserriskrank"):
            self.rank_requests.append((query, json.loads(request.content)))
            answer = self.rank_answer(query) if callable(self.rank_answer) else self.rank_answer
            return self._answer(answer, request)
        return httpx.Response(404, json={"errcode": -1, "errmsg": "no such api"})

    @staticmethod
    def _answer(answer: Any, request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"wechat_api_base": WECHAT}


@pytest.fixture
def wechat(runtime: Runtime) -> FakeWechat:
    fake = FakeWechat()
    runtime.http_transport = httpx.MockTransport(fake)
    return fake


def checker(appid: str = "wx-risk") -> WeChatRiskChecker:
    return WeChatRiskChecker(appid, "app-secret")


async def test_wechat_rank_is_returned_and_the_token_is_fetched_once(runtime, clock, wechat):
    """Three ranks, one token: the token request names the app, each rank request carries the token, the openid,
    scene 1 (marketing) and the client's address; the rank is WeChat's, even where the rules would say 3."""
    risky_by_rules = actor(1, 1, openid="o-alice", ip="10.0.0.8", created_at=clock.now())
    wechat_checker = checker()
    ranks = [await wechat_checker.rank(runtime, risky_by_rules) for _ in range(2)]
    wechat.rank_answer = {"errcode": 0, "errmsg": "ok", "risk_rank": 0}
    ranks.append(await wechat_checker.rank(runtime, actor(1, 2, openid="o-bob")))
    assert ranks == [2, 2, 0]
    assert wechat.token_requests == [{"grant_type": "client_credential", "appid": "wx-risk", "secret": "app-secret"}]
    assert wechat.rank_requests == [
        ({"access_token": "token-1"}, {"appid": "wx-risk", "openid": "o-alice", "scene": 1, "client_ip": "10.0.0.8"}),
        ({"access_token": "token-1"}, {"appid": "wx-risk", "openid": "o-alice", "scene": 1, "client_ip": "10.0.0.8"}),
        ({"access_token": "token-1"}, {"appid": "wx-risk", "openid": "o-bob", "scene": 1, "client_ip": ""})]


@pytest.mark.parametrize(("answer", "rank"), [(9, 4), (-2, 0), (4, 4)])
async def test_a_rank_outside_the_scale_is_clamped(runtime, wechat, answer, rank):
    """The scale is 0–4 whatever WeChat sends."""
    wechat.rank_answer = {"errcode": 0, "risk_rank": answer}
    assert await checker().rank(runtime, actor(1, 1)) == rank


@pytest.mark.parametrize("refusal", [
    {"errcode": 40013, "errmsg": "invalid appid"}, {"access_token": ""},
    httpx.Response(502, text="<html>bad gateway</html>"), httpx.ConnectError("connection refused")],
    ids=["errcode", "empty-token", "not-json", "unreachable"])
async def test_a_refused_token_falls_back_to_the_rules_and_is_asked_again(runtime, clock, wechat, refusal):
    """No token: the rules decide (3 for a minutes-old anonymous account, 0 for an old one on a device), no rank is
    asked, and the next check asks for a token again."""
    wechat.token_answer = refusal
    wechat_checker = checker()
    assert await wechat_checker.rank(runtime, actor(1, 1, created_at=clock.now())) == 3
    assert await wechat_checker.rank(runtime, actor(1, 2, device="phone")) == 0
    assert (len(wechat.token_requests), wechat.rank_requests) == (2, [])


@pytest.mark.parametrize("refusal", [
    {"errcode": 61010, "errmsg": "user not found"}, {"errcode": 0, "errmsg": "ok"},
    httpx.Response(500, text="oops"), httpx.ReadTimeout("timed out"), {"errcode": 0, "risk_rank": "high"}],
    ids=["errcode", "no-rank", "not-json", "timeout", "not-a-number"])
async def test_a_refused_rank_falls_back_to_the_rules(runtime, clock, wechat, refusal):
    """WeChat answers the rank with an error (or not at all): the rules' rank is used; the token stays cached."""
    wechat.rank_answer = refusal
    wechat_checker = checker()
    assert await wechat_checker.rank(runtime, actor(1, 1, created_at=clock.now())) == 3
    assert await wechat_checker.rank(runtime, actor(1, 2, device="phone", created_at=clock.now())) == 1
    assert (len(wechat.token_requests), len(wechat.rank_requests)) == (1, 2)


async def test_a_token_wechat_says_is_invalid_is_fetched_anew(runtime, wechat):
    """WeChat invalidates a token when another process fetches a new one: 40001 must not stick for two hours."""
    wechat.rank_answer = lambda query: ({"errcode": 40001, "errmsg": "invalid credential"}
                                        if query["access_token"] == "token-1" else {"errcode": 0, "risk_rank": 4})
    wechat_checker = checker()
    await wechat_checker.rank(runtime, actor(1, 1, device="phone"))
    wechat.token_answer = {"access_token": "token-2", "expires_in": 7200}
    assert await wechat_checker.rank(runtime, actor(1, 1, device="phone")) == 4


async def test_merchants_with_mini_program_credentials_get_wechats_rank(client, mall, runtime, clock, wechat):
    """checker_for: the rules for a merchant without credentials; WeChat (one cached checker, one token) for a
    merchant with them."""
    young = actor(mall.merchant_id, 1, created_at=clock.now())
    async with runtime.sessionmaker() as session:
        assert isinstance(await fraud.checker_for(session, mall.merchant_id), RulesRiskChecker)
        assert await fraud.risk_rank(session, runtime, young) == 3
        appid = f"wx{uuid.uuid4().hex[:16]}"
        await session.execute(update(Merchant).where(Merchant.id == mall.merchant_id).values(
            wechat_appid=appid, wechat_secret="app-secret"))
        await session.commit()
    async with runtime.sessionmaker() as session:
        found = await fraud.checker_for(session, mall.merchant_id)
        assert isinstance(found, WeChatRiskChecker) and found.appid == appid
        assert [await fraud.risk_rank(session, runtime, young) for _ in range(2)] == [2, 2]
        assert await fraud.checker_for(session, mall.merchant_id) is found
    assert [r["appid"] for r in wechat.token_requests] == [appid]
    assert len(wechat.rank_requests) == 2

