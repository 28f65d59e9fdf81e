"""A built-in stand-in for Kuaidi100. It follows a parcel once subscribed; each time it is advanced (the
shopper's sandbox button, `POST /sandbox/shipments/{order_id}/advance`) it takes the parcel one step further along
a fixed journey (已揽收 → 运输中 → 派送中 → 已签收), stamped with the injected clock, and pushes the whole journey
to the mall as Kuaidi100 does: a form of `param` and `sign` = MD5(param + salt), its salt SANDBOX_KEY, retried by
the worker until the mall answers {"result": true}. The mall's push path so runs exactly as in production."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fissionmall.core.clock import Clock
from fissionmall.core.logistics_provider import Parcel, TrackReport
from fissionmall.core.outbox import NO_MERCHANT, enqueue, job
from fissionmall.core.runtime import Runtime
from fissionmall.db.sql import insert_ignoring_conflicts
from fissionmall.logistics.models import SandboxParcel
from fissionmall.logistics.providers.kuaidi100 import CHINA, compact, decode_result, parse_push_form, push_sign

JOURNEY: tuple[tuple[str, str, str, str], ...] = (
    ("1", "揽收", "浙江省杭州市", "【杭州萧山营业点】快件已揽收"),
    ("0", "在途", "上海市", "快件已到达【上海转运中心】，正发往下一站"),
    ("5", "派件", "上海市静安区", "【静安南京西路营业点】快递员正在为您派送，请保持电话畅通"),
    ("3", "签收", "上海市静安区", "您的快件已签收，签收人：本人。感谢使用，期待再次为您服务"),
)
"""Each step: Kuaidi100's state code and name, the place, the carrier's words."""
DELIVER_JOB = "sandbox.deliver_push"
NOTIFY_PATH = "/api/v1/logistics/notify/sandbox"


def push_param(parcel: SandboxParcel | Any, steps: list[str]) -> str:
    """The push's `param` as Kuaidi100 writes it: the whole journey so far, newest first, in China's time."""
    data = []
    for (_, name, place, text), stamp in zip(JOURNEY, steps, strict=False):
        local = datetime.fromisoformat(stamp).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        data.append({"context": text, "time": local, "ftime": local, "areaName": place, "status": name})
    data.reverse()
    done = len(steps) == len(JOURNEY)
    last = {"message": "ok", "state": JOURNEY[len(steps) - 1][0] if steps else "0", "status": "200",
            "condition": "F00", "ischeck": "1" if done else "0", "com": parcel.carrier_code,
            "nu": parcel.tracking_no, "data": data}
    return compact({"status": "shutdown" if done else "polling", "billstatus": "", "message": "",
                    "autoCheck": "0", "comOld": "", "comNew": "", "lastResult": last})


class SandboxLogistics:
    name = "sandbox"
    pushes = True

    def __init__(self, salt: str, clock: Clock, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """`sessionmaker`: the sandbox keeps its books (the parcels it follows) in the mall's database."""
        self._salt = salt
        self.clock = clock
        self.sessionmaker = sessionmaker

    async def subscribe(self, parcel: Parcel) -> None:
        async with self.sessionmaker() as session:
            await session.execute(insert_ignoring_conflicts(session, SandboxParcel).values(
                carrier_code=parcel.carrier_code, tracking_no=parcel.tracking_no, started_at=self.clock.now(),
                steps=[], reached=0))
            await session.commit()

    async def query(self, parcel: Parcel) -> TrackReport:
        async with self.sessionmaker() as session:
            found = (await session.execute(select(SandboxParcel).where(
                SandboxParcel.tracking_no == parcel.tracking_no))).scalar_one_or_none()
        if found is None:
            return TrackReport(carrier_code=parcel.carrier_code, tracking_no=parcel.tracking_no, points=())
        return decode_result(json.loads(push_param(found, list(found.steps)))["lastResult"],
                             finished=len(found.steps) == len(JOURNEY))

    def parse_push(self, form: Mapping[str, str]) -> TrackReport:
        return parse_push_form(form, self._salt)

    async def advance(self, session: AsyncSession, tracking_no: str) -> int:
        """One step further, now, in the caller's transaction, and a push of the journey queued: the steps reached
        (unchanged once signed for). A compare-and-set on the count read: two advances at once make two steps."""
        now = self.clock.now()
        for _ in range(5):
            found = (await session.execute(select(SandboxParcel).where(SandboxParcel.tracking_no == tracking_no)
                                           .execution_options(populate_existing=True))).scalar_one_or_none()
            if found is None:
                return 0
            steps = list(found.steps)
            if len(steps) == len(JOURNEY):
                return len(steps)
            moved = await session.execute(
                update(SandboxParcel).where(SandboxParcel.id == found.id, SandboxParcel.reached == len(steps))
                .values(steps=[*steps, now.isoformat()], reached=len(steps) + 1))
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                param = push_param(found, [*steps, now.isoformat()])
                await enqueue(session, DELIVER_JOB, {"param": param}, now=now, merchant_id=NO_MERCHANT,
                              dedupe_key=f"sandbox-parcel:{tracking_no}:{len(steps) + 1}")
                return len(steps) + 1
        return 0

    def signed_form(self, param: str) -> dict[str, str]:
        return {"param": param, "sign": push_sign(param, self._salt)}


@job(DELIVER_JOB)
async def deliver_push(runtime: Runtime, payload: dict[str, Any]) -> None:
    """POST the signed push to the mall as a form; anything but {"result": true} means: try again later."""
    sandbox = runtime.carriers["sandbox"]
    assert isinstance(sandbox, SandboxLogistics)
    body = urlencode(sandbox.signed_form(payload["param"]))
    async with runtime.http_client() as client:
        response = await client.post(f"{runtime.settings.public_base_url}{NOTIFY_PATH}", content=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    if response.status_code != 200 or response.json().get("result") is not True:
        raise RuntimeError(f"mall answered {response.status_code}: {response.text[:200]}")
