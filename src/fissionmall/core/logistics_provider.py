"""The contract every logistics provider meets (快递查询): subscribe a parcel, query it, verify a push."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class TrackStatus(StrEnum):
    """Where a parcel is, in the mall's own words: each provider maps its codes onto these."""

    COLLECTED = "collected"
    IN_TRANSIT = "in_transit"
    DELIVERING = "delivering"
    SIGNED = "signed"
    PROBLEM = "problem"
    RETURNED = "returned"
    REJECTED = "rejected"
    CUSTOMS = "customs"


STATUS_NAMES: dict[str, str] = {
    TrackStatus.COLLECTED: "已揽收", TrackStatus.IN_TRANSIT: "运输中", TrackStatus.DELIVERING: "派送中",
    TrackStatus.SIGNED: "已签收", TrackStatus.PROBLEM: "疑难件", TrackStatus.RETURNED: "退回",
    TrackStatus.REJECTED: "拒签", TrackStatus.CUSTOMS: "清关",
}
"""What a shopper reads for each status."""


@dataclass(frozen=True)
class Parcel:
    """What a provider needs to find a parcel: the carrier's code at the provider, the number, and the phone some
    carriers ask for (SF: the receiver's or sender's phone)."""

    carrier_code: str
    tracking_no: str
    phone: str = ""


@dataclass(frozen=True)
class TrackPoint:
    """One step of a parcel's journey as the carrier reported it."""

    at: datetime
    status: TrackStatus
    place: str
    text: str


@dataclass(frozen=True)
class TrackReport:
    """A parcel's whole journey known so far (providers report it whole, newest first or not): verified, decoded."""

    carrier_code: str
    tracking_no: str
    points: tuple[TrackPoint, ...]
    finished: bool = False
    """The provider stopped following it (signed for, or given up on): no more pushes will come."""


class InvalidPush(Exception):
    """A push whose signature, form or content cannot be trusted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LogisticsProviderError(Exception):
    """The provider refused or could not be reached; `code` is its return code or our tag."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class LogisticsProvider(Protocol):
    name: str
    pushes: bool
    """True when the provider pushes updates after a subscription; False: the worker polls with `query`."""

    async def subscribe(self, parcel: Parcel) -> None:
        """Ask to be told of this parcel's updates (订阅); idempotent (a repeat is not an error)."""
        ...

    async def query(self, parcel: Parcel) -> TrackReport:
        """The parcel's journey as of now (实时查询)."""
        ...

    def parse_push(self, form: Mapping[str, str]) -> TrackReport:
        """Verify a push (推送) on its form fields as received and decode it; raise InvalidPush on any doubt."""
        ...
