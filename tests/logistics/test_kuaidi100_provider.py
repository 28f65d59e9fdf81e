"""The Kuaidi100 provider against Kuaidi100's recorded bodies: the signatures it computes and checks, the forms it
sends, and how it reads pushes and answers (offline: a stand-in transport answers as Kuaidi100 answered)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest

from fissionmall.core.logistics_provider import InvalidPush, LogisticsProviderError, Parcel, TrackStatus
from fissionmall.logistics import rules
from fissionmall.logistics.providers.kuaidi100 import Kuaidi100Config, Kuaidi100Provider, push_sign, query_sign
from tests.logistics import kuaidi100_records as k100

pytestmark = pytest.mark.backend_free

CALLBACK = "https://mall.example.com/api/v1/logistics/notify/kuaidi100"
PARCEL = Parcel(k100.CARRIER, k100.NUMBER, k100.PHONE)


def provider(answer: dict[str, object] | None = None, *, salt: str | None = k100.SALT,
             seen: list[httpx.Request] | None = None) -> Kuaidi100Provider:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, json=answer or {})

    config = Kuaidi100Config(key=k100.KEY, customer=k100.CUSTOMER, salt=salt, callback_url=CALLBACK)
    return Kuaidi100Provider(config, lambda: httpx.AsyncClient(transport=httpx.MockTransport(handle)))


def sent_form(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return dict(parse_qsl(request.content.decode()))


def test_the_signatures_are_kuaidi100s():
    assert push_sign(k100.PUSH_SIGNED_FOR, k100.SALT) == k100.PUSH_SIGNED_FOR_SIGN
    assert push_sign(k100.PUSH_IN_TRANSIT, k100.SALT) == k100.PUSH_IN_TRANSIT_SIGN
    assert query_sign(k100.QUERY_PARAM, k100.KEY, k100.CUSTOMER) == k100.QUERY_SIGN


def test_a_signed_push_reads_as_the_whole_journey_in_utc():
    report = provider().parse_push({"param": k100.PUSH_SIGNED_FOR, "sign": k100.PUSH_SIGNED_FOR_SIGN})
    assert (report.carrier_code, report.tracking_no, report.finished) == (k100.CARRIER, k100.NUMBER, True)
    assert [p.status for p in report.points] == [TrackStatus.SIGNED, TrackStatus.DELIVERING, TrackStatus.IN_TRANSIT,
                                                 TrackStatus.COLLECTED]
    newest = report.points[0]
    assert newest.at == datetime(2026, 12, 5, 6, 21, 8, tzinfo=UTC)  # 14:21:08 in China
    assert newest.place == "上海,上海市,静安区" and newest.text.startswith("您的快件已签收")
    assert rules.signed_for(report.points) == newest

    early = provider().parse_push({"param": k100.PUSH_IN_TRANSIT, "sign": k100.PUSH_IN_TRANSIT_SIGN.lower()})
    assert not early.finished and [p.status for p in early.points] == [TrackStatus.IN_TRANSIT, TrackStatus.COLLECTED]


@pytest.mark.parametrize("form, reason", [
    ({"param": k100.PUSH_SIGNED_FOR, "sign": k100.PUSH_IN_TRANSIT_SIGN}, "bad signature"),
    ({"param": k100.PUSH_SIGNED_FOR.replace("本人", "他人"), "sign": k100.PUSH_SIGNED_FOR_SIGN}, "bad signature"),
    ({"param": k100.PUSH_SIGNED_FOR}, "missing param or sign"),
    ({"sign": k100.PUSH_SIGNED_FOR_SIGN}, "missing param or sign"),
    ({"param": "not json", "sign": push_sign("not json", k100.SALT)}, "malformed param: JSONDecodeError"),
])
def test_an_unsigned_badly_signed_or_malformed_push_is_refused(form, reason):
    with pytest.raises(InvalidPush) as refused:
        provider().parse_push(form)
    assert refused.value.reason == reason


def test_without_a_salt_no_push_is_trusted_and_the_parcel_is_polled():
    unsalted = provider(salt=None)
    assert not unsalted.pushes and provider().pushes
    with pytest.raises(InvalidPush):
        unsalted.parse_push({"param": k100.PUSH_SIGNED_FOR, "sign": k100.PUSH_SIGNED_FOR_SIGN})


async def test_a_query_sends_the_recorded_signed_form_and_reads_the_answer():
    seen: list[httpx.Request] = []
    report = await provider(k100.QUERY_ANSWER, seen=seen).query(PARCEL)
    assert str(seen[0].url) == "https://poll.kuaidi100.com/poll/query.do"
    assert sent_form(seen[0]) == {"customer": k100.CUSTOMER, "param": k100.QUERY_PARAM, "sign": k100.QUERY_SIGN}
    assert [(p.status, p.place) for p in report.points] == [(TrackStatus.IN_TRANSIT, "上海"),
                                                            (TrackStatus.COLLECTED, "浙江,杭州市,萧山区")]


async def test_a_query_with_nothing_yet_is_an_empty_journey_and_other_refusals_are_errors():
    assert (await provider(k100.QUERY_NOTHING_YET).query(PARCEL)).points == ()
    with pytest.raises(LogisticsProviderError) as failed:
        await provider(k100.QUERY_BAD_KEY).query(PARCEL)
    assert failed.value.code == "601"


async def test_a_subscription_names_the_callback_and_salt_and_a_repeat_is_no_error():
    seen: list[httpx.Request] = []
    await provider(k100.SUBSCRIBED, seen=seen).subscribe(PARCEL)
    form = sent_form(seen[0])
    assert str(seen[0].url) == "https://poll.kuaidi100.com/poll" and form["schema"] == "json"
    assert json.loads(form["param"]) == {
        "company": k100.CARRIER, "number": k100.NUMBER, "key": k100.KEY,
        "parameters": {"callbackurl": CALLBACK, "salt": k100.SALT, "resultv2": "1", "phone": k100.PHONE}}
    await provider(k100.SUBSCRIBED_BEFORE).subscribe(PARCEL)
    with pytest.raises(LogisticsProviderError) as refused:
        await provider(k100.SUBSCRIPTION_REFUSED).subscribe(PARCEL)
    assert refused.value.code == "700"


@pytest.mark.parametrize("typed, code", [("SF Express", "shunfeng"), ("顺丰速运", "shunfeng"), ("圆通速递", "yuantong"),
                                         ("中通快递", "zhongtong"), ("EMS", "ems"), ("京东物流", "jd"),
                                         ("yunda", "yunda"), ("极兔速递", "jtexpress")])
def test_the_carrier_staff_type_is_named_by_its_kuaidi100_code(typed, code):
    assert rules.carrier_code(typed) == code
