"""Kuaidi100 through the real endpoints, its gateway replaced by a stand-in answering the recorded bodies: pushes
verified on their form fields and applied once (good, badly signed, unsigned, replayed, for a number nobody ships),
the parcel polled where no salt is set, the staff's real-time query, and the carrier's 已签收 against the shopper's
confirmation and the auto-receive sweep: whichever comes first receives the order, once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from fissionmall.core.clock import FrozenClock
from fissionmall.logistics.providers.kuaidi100 import Kuaidi100Config, Kuaidi100Provider, push_sign
from tests.logistics import kuaidi100_records as k100
from tests.logistics.conftest import received_by, shipped, snapshot
from tests.support import LONG_TOKEN_TTL_SECONDS, Mall, at, problem, refused_unchanged, rows

NOTIFY = "/logistics/notify/kuaidi100"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
WATCHED = ("orders", "shipment_events", "shipment_tracks", "events", "outbox_jobs")

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")


@pytest.fixture
def clock() -> FrozenClock:
    """The morning before the recorded parcel was collected (2026-12-04 10:12 in China)."""
    return FrozenClock(datetime(2026, 12, 4, 0, 0, tzinfo=UTC))


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS, "logistics_provider": "kuaidi100",
            "kuaidi100_key": k100.KEY, "kuaidi100_customer": k100.CUSTOMER, "kuaidi100_salt": k100.SALT}


class Gateway:
    """Kuaidi100's side: answers by path from `answers`, and keeps every form it was sent."""

    def __init__(self) -> None:
        self.answers: dict[str, dict[str, Any]] = {"/poll": k100.SUBSCRIBED, "/poll/query.do": k100.QUERY_ANSWER}
        self.sent: list[tuple[str, dict[str, str]]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path, dict(parse_qsl(request.content.decode()))))
        return httpx.Response(200, json=self.answers[request.url.path])

    def install(self, runtime: Any, *, salt: str | None) -> None:
        config = Kuaidi100Config(key=k100.KEY, customer=k100.CUSTOMER, salt=salt,
                                 callback_url="http://mall.test/api/v1/logistics/notify/kuaidi100")
        runtime.carriers["kuaidi100"] = Kuaidi100Provider(
            config, lambda: httpx.AsyncClient(transport=httpx.MockTransport(self.handle)))


@pytest.fixture
def gateway(runtime) -> Gateway:
    stand_in = Gateway()
    stand_in.install(runtime, salt=k100.SALT)
    return stand_in


async def push(client: httpx.AsyncClient, param: str, sign: str | None) -> httpx.Response:
    return await client.post(NOTIFY, content=k100.push_body(param, sign), headers=FORM)


def acknowledged(response: httpx.Response, outcome: str) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"result": True, "returnCode": "200", "message": f"成功 ({outcome})"}


async def test_a_shipped_parcel_is_subscribed_once_with_the_callback_and_salt(mall, runtime, gateway):
    alice = await mall.shopper("alice")
    await shipped(mall, alice, k100.NUMBER)
    [(path, form)] = gateway.sent
    assert path == "/poll" and form["schema"] == "json" and '"salt":"k100-salt-Qm7v2Lx9"' in form["param"]
    assert '"callbackurl":"http://mall.test/api/v1/logistics/notify/kuaidi100"' in form["param"]
    assert await rows(runtime, "SELECT provider, carrier_code, tracking_no, next_poll_at FROM shipment_tracks") == [
        ("kuaidi100", "yuantong", k100.NUMBER, None)]
    await mall.work()
    assert len(gateway.sent) == 1  # pushed to, never polled


async def test_signed_pushes_keep_each_step_once_and_the_signed_for_step_receives_the_order(client, mall, runtime,
                                                                                          clock, gateway):
    alice = await mall.shopper("alice")
    order = await shipped(mall, alice, k100.NUMBER)

    acknowledged(await push(client, k100.PUSH_IN_TRANSIT, k100.PUSH_IN_TRANSIT_SIGN), "applied")
    assert (await mall.get_order(alice, order["id"]))["status"] == "shipped"
    clock.advance(days=2)
    acknowledged(await push(client, k100.PUSH_SIGNED_FOR, k100.PUSH_SIGNED_FOR_SIGN), "applied")

    timeline = (await client.get(f"/orders/{order['id']}/tracking", headers=alice)).json()
    assert [(e["status_name"], e["place"]) for e in timeline["events"]] == [
        ("已签收", "上海,上海市,静安区"), ("派送中", "上海,上海市,静安区"), ("运输中", "上海"),
        ("已揽收", "浙江,杭州市,萧山区")]
    assert (timeline["carrier"], timeline["tracking_no"]) == ("圆通速递", k100.NUMBER)
    assert timeline["status_name"] == "已签收"
    received = await mall.get_order(alice, order["id"])
    assert received["status"] == "received"
    assert at(received["received_at"]) == at(timeline["events"][0]["happened_at"])  # when the carrier says

    # replayed, in any order: acknowledged, nothing written
    before = await snapshot(runtime)
    acknowledged(await push(client, k100.PUSH_SIGNED_FOR, k100.PUSH_SIGNED_FOR_SIGN), "duplicate")
    acknowledged(await push(client, k100.PUSH_IN_TRANSIT, k100.PUSH_IN_TRANSIT_SIGN), "duplicate")
    assert await snapshot(runtime) == before


async def test_a_signed_for_time_ahead_of_the_mall_is_kept_to_now(client, mall, clock, gateway):
    """Receipt is dated by the carrier, but never after the mall heard of it (nor before the order shipped)."""
    alice = await mall.shopper("alice")
    order = await shipped(mall, alice, k100.NUMBER)  # 2026-12-04 00:00; the recorded 已签收 is 12-05 06:21
    acknowledged(await push(client, k100.PUSH_SIGNED_FOR, k100.PUSH_SIGNED_FOR_SIGN), "applied")
    received = await mall.get_order(alice, order["id"])
    assert at(received["received_at"]) == clock.now() == at(received["shipped_at"])
    assert await received_by(mall, order["id"]) == ["carrier"]


async def test_a_badly_signed_unsigned_or_unknown_push_is_refused_and_changes_nothing(client, mall, gateway):
    alice = await mall.shopper("alice")
    await shipped(mall, alice, k100.NUMBER)
    refused = await refused_unchanged(mall, push(client, k100.PUSH_SIGNED_FOR, k100.PUSH_IN_TRANSIT_SIGN), 401,
                                      "invalid_push", tables=WATCHED)
    assert refused["message"] == "物流推送无效"
    forged = k100.PUSH_SIGNED_FOR.replace("本人", "门卫")
    await refused_unchanged(mall, push(client, forged, k100.PUSH_SIGNED_FOR_SIGN), 401, "invalid_push",
                            tables=WATCHED)
    await refused_unchanged(mall, push(client, k100.PUSH_SIGNED_FOR, None), 401, "invalid_push", tables=WATCHED)
    stranger = k100.PUSH_SIGNED_FOR.replace(k100.NUMBER, "YT0000000000000")
    await refused_unchanged(mall, push(client, stranger, push_sign(stranger, k100.SALT)), 404, "unknown_shipment",
                            tables=WATCHED)
    problem(await client.post("/logistics/notify/sandbox", content=k100.push_body(k100.PUSH_SIGNED_FOR, "x"),
                              headers=FORM), 404, "unknown_logistics_provider")


async def test_the_shopper_confirming_first_leaves_the_push_only_its_steps(client, mall, gateway):
    alice = await mall.shopper("alice")
    order = await shipped(mall, alice, k100.NUMBER)
    assert (await client.post(f"/orders/{order['id']}/receive", headers=alice)).status_code == 200
    acknowledged(await push(client, k100.PUSH_SIGNED_FOR, k100.PUSH_SIGNED_FOR_SIGN), "applied")
    assert (await mall.get_order(alice, order["id"]))["status"] == "received"
    assert await received_by(mall, order["id"]) == ["customer"]


async def test_auto_receive_and_the_carrier_never_both_receive(client, mall, runtime, clock, gateway):
    alice = await mall.shopper("alice")
    late = await shipped(mall, alice, k100.NUMBER)
    signed = await shipped(mall, alice, "YT1111111111111")
    signed_param = k100.PUSH_SIGNED_FOR.replace(k100.NUMBER, "YT1111111111111")
    acknowledged(await push(client, signed_param, push_sign(signed_param, k100.SALT)), "applied")

    clock.advance(days=11)  # past auto_receive_days: the sweep receives the order nobody signed for
    await mall.work()
    acknowledged(await push(client, k100.PUSH_SIGNED_FOR, k100.PUSH_SIGNED_FOR_SIGN), "applied")
    assert await received_by(mall, late["id"]) == ["timeout"]
    assert await received_by(mall, signed["id"]) == ["carrier"]
    assert await rows(runtime, "SELECT count(*) FROM shipment_events") == [(8,)]


async def test_without_a_salt_the_worker_polls_and_staff_can_query_at_once(client, mall: Mall, runtime, clock):
    gateway = Gateway()
    gateway.install(runtime, salt=None)
    alice = await mall.shopper("alice")
    order = await shipped(mall, alice, k100.NUMBER)
    assert gateway.sent == []  # nothing subscribed: no push could be trusted
    await mall.work()  # the poll sweep
    [(path, form)] = gateway.sent
    assert path == "/poll/query.do" and form == {"customer": k100.CUSTOMER, "param": k100.QUERY_PARAM,
                                                 "sign": k100.QUERY_SIGN}
    timeline = (await client.get(f"/orders/{order['id']}/tracking", headers=alice)).json()
    assert [e["status"] for e in timeline["events"]] == ["in_transit", "collected"]

    await mall.work()
    assert len(gateway.sent) == 1  # not again before LOGISTICS_POLL_MINUTES
    clock.advance(minutes=240)
    gateway.answers["/poll/query.do"] = k100.QUERY_BAD_KEY
    await mall.work()
    assert len(gateway.sent) == 2  # asked, refused: tried again later, nothing lost

    gateway.answers["/poll/query.do"] = {**k100.QUERY_ANSWER, "state": "3", "ischeck": "1", "data": [
        {"time": "2026-12-05 14:21:08", "ftime": "2026-12-05 14:21:08", "context": "已签收，签收人：本人",
         "areaName": "上海", "status": "签收"}, *k100.QUERY_ANSWER["data"]]}  # type: ignore[misc]
    refreshed = await client.post(f"/admin/orders/{order['id']}/tracking/refresh", headers=await mall.staff())
    assert refreshed.status_code == 200, refreshed.text
    assert [e["status"] for e in refreshed.json()["events"]] == ["signed", "in_transit", "collected"]
    assert await received_by(mall, order["id"]) == ["carrier"]
    assert await rows(runtime, "SELECT next_poll_at, finished_at IS NOT NULL FROM shipment_tracks") == [(None, True)]


async def test_the_console_shows_the_steps_and_lets_shippers_ask_kuaidi100_now(client, mall, gateway, desk):
    alice = await mall.shopper("alice")
    order = await shipped(mall, alice, k100.NUMBER)
    acknowledged(await push(client, k100.PUSH_IN_TRANSIT, k100.PUSH_IN_TRANSIT_SIGN), "applied")
    operator, finance = await desk("operator"), await desk("finance")
    page = (await operator.page(f"/console/orders/{order['id']}")).text
    assert "运输中（快递100跟踪）" in page and page.count('<li class="in_transit">') == 1
    assert "快件已到达【上海转运中心】" in page and "查询最新物流" in page
    assert "查询最新物流" not in (await finance.page(f"/console/orders/{order['id']}")).text  # may not ship
    refreshed = await operator.api("POST", f"/admin/orders/{order['id']}/tracking/refresh")
    assert refreshed.status_code == 200, refreshed.text
    problem(await finance.api("POST", f"/admin/orders/{order['id']}/tracking/refresh"), 403, "forbidden")
