from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class TrackEventOut(BaseModel):
    happened_at: datetime
    status: str
    """collected, in_transit, delivering, signed, problem, returned, rejected, customs."""
    status_name: str
    """The status as the shopper reads it (已揽收 …)."""
    place: str
    text: str


class TimelineOut(BaseModel):
    """A shipment's journey, newest first."""

    order_id: int
    carrier: str | None
    tracking_no: str | None
    provider: str | None
    """The provider following the parcel; None while nobody does (not shipped, or no provider configured)."""
    status: str | None
    status_name: str | None
    events: list[TrackEventOut]


class PushAnswer(BaseModel):
    """What Kuaidi100 expects back from its push: anything else and it pushes again."""

    result: bool
    returnCode: str  # noqa: N815 (Kuaidi100's name)
    message: str


class AdvanceOut(BaseModel):
    steps: int
    """Steps of the sandbox journey reached (4: signed for); the push follows through the worker."""
