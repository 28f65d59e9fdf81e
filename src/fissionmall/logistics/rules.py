"""Pure rules of parcel tracking: which carrier a staff member's words name, a step's identity, the timeline's order."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

from fissionmall.core.logistics_provider import STATUS_NAMES, TrackPoint, TrackStatus

CARRIERS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("顺丰", "sf", "shunfeng"), "shunfeng", "顺丰速运"),
    (("圆通", "yto", "yuantong"), "yuantong", "圆通速递"),
    (("中通", "zto", "zhongtong"), "zhongtong", "中通快递"),
    (("申通", "sto", "shentong"), "shentong", "申通快递"),
    (("韵达", "yunda"), "yunda", "韵达快递"),
    (("极兔", "j&t", "jtexpress"), "jtexpress", "极兔速递"),
    (("京东", "jd"), "jd", "京东物流"),
    (("德邦", "debang", "deppon"), "debangkuaidi", "德邦快递"),
    (("ems", "邮政", "china post", "youzheng"), "ems", "EMS"),
)
"""Words staff type for a carrier (any case), Kuaidi100's code for it (快递公司编码), and its usual name."""
CODE = re.compile(r"^[a-z0-9]{2,30}$")


def carrier_code(carrier: str) -> str:
    """Kuaidi100's code for the carrier a staff member named: a known name or abbreviation, or a code typed as such
    (lower case letters and digits); otherwise the words themselves, cut, which the provider will not know."""
    text = carrier.strip().lower()
    for words, code, _ in CARRIERS:
        if any(text.startswith(word) or word in text and not word.isascii() for word in words):
            return code
    return text if CODE.match(text) else text[:30]


def step_digest(at: datetime, text: str) -> str:
    """A step's identity: its time and the carrier's words, which a provider repeats unchanged in every push."""
    return hashlib.sha256(f"{at.isoformat()}|{text}".encode()).hexdigest()[:40]


def newest_first(points: Iterable[TrackPoint]) -> list[TrackPoint]:
    return sorted(points, key=lambda point: point.at, reverse=True)


def status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


def signed_for(points: Iterable[TrackPoint]) -> TrackPoint | None:
    """The step where the parcel was signed for, if any (the earliest, should a carrier report it twice)."""
    return min((p for p in points if p.status == TrackStatus.SIGNED), key=lambda p: p.at, default=None)
