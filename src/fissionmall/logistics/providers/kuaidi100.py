"""快递100 (Kuaidi100), the aggregator most Chinese malls track parcels with: subscription (订阅) and its push (推送),
and real-time query (实时查询), behind the mall's LogisticsProvider.

- Subscribe: POST {api}/poll, form `schema=json`, `param` = {company, number, key, parameters: {callbackurl, salt,
  resultv2, phone}}; answered {result, returnCode, message}: 200 accepted, 501 already followed (both fine).
- Push: Kuaidi100 POSTs a form to the callback: `param` (JSON: status, message, lastResult {state, ischeck, com, nu,
  data: [{time, ftime, context, areaName, status}]}) and `sign` = upper-case hex MD5(param + salt), the salt given
  at subscription. The mall answers {"result": true, "returnCode": "200", "message": "成功"}.
- Query: POST {api}/poll/query.do, form `customer`, `param` = {com, num, phone, resultv2}, `sign` = upper-case hex
  MD5(param + key + customer); answered with the same shape as lastResult, or {result: false, returnCode, message}.
The pushes carry the whole journey every time (全量), newest first; their times are China's (UTC+8).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from fissionmall.core.logistics_provider import (
    InvalidPush,
    LogisticsProviderError,
    Parcel,
    TrackPoint,
    TrackReport,
    TrackStatus,
)

CHINA = timezone(timedelta(hours=8))
T = TrackStatus
STATES: dict[str, TrackStatus] = {
    "0": T.IN_TRANSIT, "1": T.COLLECTED, "2": T.PROBLEM, "3": T.SIGNED, "4": T.RETURNED, "5": T.DELIVERING,
    "6": T.RETURNED, "7": T.IN_TRANSIT, "8": T.CUSTOMS, "10": T.CUSTOMS, "11": T.CUSTOMS, "12": T.CUSTOMS,
    "13": T.CUSTOMS, "14": T.REJECTED,
}
"""lastResult.state: 0在途 1揽收 2疑难 3签收 4退签 5派件 6退回 7转投 8清关 10–13清关 14拒签 (advanced states, three or
four digits with resultv2=4, start with their main state's digit)."""
NAMES: tuple[tuple[str, TrackStatus], ...] = (
    ("拒签", T.REJECTED), ("退", T.RETURNED), ("签收", T.SIGNED), ("派", T.DELIVERING), ("揽", T.COLLECTED),
    ("疑难", T.PROBLEM), ("清关", T.CUSTOMS), ("在途", T.IN_TRANSIT), ("转", T.IN_TRANSIT),
)
"""data[].status, the step's state by name, first match (with resultv2=1: 在途 揽收 疑难 签收 退签 派件 退回
转投 清关 拒签)."""
ACCEPTED = frozenset({"200", "501"})
"""Subscription answers that mean the parcel is followed: accepted now, or already (重复订阅)."""
ANSWER_OK = {"result": True, "returnCode": "200", "message": "成功"}
"""What the callback answers a push it took; anything else and Kuaidi100 pushes again later."""


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 (Kuaidi100's signature scheme)


def push_sign(param: str, salt: str) -> str:
    return md5_upper(param + salt)


def query_sign(param: str, key: str, customer: str) -> str:
    return md5_upper(param + key + customer)


def state_of(code: object) -> TrackStatus | None:
    text = str(code or "")
    if text in STATES:
        return STATES[text]
    return STATES.get(text[0]) if len(text) >= 3 else None


def status_named(name: object) -> TrackStatus | None:
    text = str(name or "")
    return next((status for word, status in NAMES if word in text), None)


def china_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA).astimezone(UTC)


def decode_result(result: Mapping[str, Any], *, finished: bool = False) -> TrackReport:
    """A lastResult (or a query's answer): each step with its own state where it names one; a step that names none
    is in transit, except the newest, which is in the parcel's current state."""
    steps = sorted(result.get("data") or [], key=lambda step: str(step.get("ftime") or step.get("time")),
                   reverse=True)
    current = state_of(result.get("state")) or T.IN_TRANSIT
    if str(result.get("ischeck")) == "1":
        current = T.SIGNED
    points = []
    for index, step in enumerate(steps):
        named = status_named(step.get("status"))
        status = named or (current if index == 0 else T.IN_TRANSIT)
        points.append(TrackPoint(at=china_time(str(step.get("ftime") or step["time"])), status=status,
                                 place=str(step.get("areaName") or step.get("location") or "")[:100],
                                 text=str(step["context"])[:500]))
    return TrackReport(carrier_code=str(result.get("com") or ""), tracking_no=str(result.get("nu") or ""),
                       points=tuple(points), finished=finished)


def parse_push_form(form: Mapping[str, str], salt: str) -> TrackReport:
    """Verify a push's `sign` over its `param` exactly as received, then decode it."""
    param, sign = form.get("param"), form.get("sign")
    if not param or not sign:
        raise InvalidPush("missing param or sign")
    if not hmac.compare_digest(push_sign(param, salt), sign.upper()):
        raise InvalidPush("bad signature")
    try:
        body = json.loads(param)
        result = body["lastResult"]
        report = decode_result(result, finished=body.get("status") in ("shutdown", "abort"))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidPush(f"malformed param: {type(exc).__name__}") from None
    if not report.tracking_no:
        raise InvalidPush("no tracking number")
    return report


def compact(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Kuaidi100Config:
    key: str
    """授权key: signs queries and names the account in subscriptions."""
    customer: str
    """The account's customer id (查询公司编号)."""
    salt: str | None
    """Signs pushes: set, the mall subscribes and takes pushes; unset, it polls with real-time queries instead."""
    callback_url: str
    api_base: str = "https://poll.kuaidi100.com"


class Kuaidi100Provider:
    name = "kuaidi100"

    def __init__(self, config: Kuaidi100Config, http: Callable[[], httpx.AsyncClient]) -> None:
        self.config = config
        self.http = http
        self.pushes = config.salt is not None

    def subscription_form(self, parcel: Parcel) -> dict[str, str]:
        parameters = {"callbackurl": self.config.callback_url, "salt": self.config.salt or "", "resultv2": "1",
                      "phone": parcel.phone}
        param = {"company": parcel.carrier_code, "number": parcel.tracking_no, "key": self.config.key,
                 "parameters": parameters}
        return {"schema": "json", "param": compact(param)}

    def query_form(self, parcel: Parcel) -> dict[str, str]:
        param = compact({"com": parcel.carrier_code, "num": parcel.tracking_no, "phone": parcel.phone,
                         "resultv2": "1"})
        return {"customer": self.config.customer, "param": param,
                "sign": query_sign(param, self.config.key, self.config.customer)}

    async def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            async with self.http() as client:
                response = await client.post(f"{self.config.api_base}{path}", data=form)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise LogisticsProviderError("unreachable", f"{type(exc).__name__}: {exc}") from None
        if response.status_code != 200 or not isinstance(answer, dict):
            raise LogisticsProviderError(str(response.status_code), response.text[:200])
        return answer

    async def subscribe(self, parcel: Parcel) -> None:
        answer = await self._post("/poll", self.subscription_form(parcel))
        if str(answer.get("returnCode")) not in ACCEPTED:
            raise LogisticsProviderError(str(answer.get("returnCode")), str(answer.get("message")))

    async def query(self, parcel: Parcel) -> TrackReport:
        answer = await self._post("/poll/query.do", self.query_form(parcel))
        if answer.get("result") is False:
            if str(answer.get("returnCode")) == "500":  # 查询无结果: nothing collected yet
                return TrackReport(carrier_code=parcel.carrier_code, tracking_no=parcel.tracking_no, points=())
            raise LogisticsProviderError(str(answer.get("returnCode")), str(answer.get("message")))
        try:
            report = decode_result(answer)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LogisticsProviderError("malformed", f"{type(exc).__name__}") from None
        return TrackReport(carrier_code=report.carrier_code or parcel.carrier_code,
                           tracking_no=report.tracking_no or parcel.tracking_no, points=report.points,
                           finished=report.finished)

    def parse_push(self, form: Mapping[str, str]) -> TrackReport:
        if self.config.salt is None:
            raise InvalidPush("pushes are not configured (no KUAIDI100_SALT)")
        return parse_push_form(form, self.config.salt)
