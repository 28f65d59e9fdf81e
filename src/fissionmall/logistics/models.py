"""Each shipment's tracking: the parcel followed at a provider, and its timeline of carrier events (物流轨迹),
append-only, each stored once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, IdMixin, TenantIdMixin, same_merchant, tenant_key

STATUSES = "('collected', 'in_transit', 'delivering', 'signed', 'problem', 'returned', 'rejected', 'customs')"


class ShipmentTrack(TenantIdMixin, Base):
    """An order's parcel as followed at the logistics provider: pushed to us after a subscription, or polled."""

    __tablename__ = "shipment_tracks"
    __table_args__ = (
        *tenant_key(),
        same_merchant("order_id", "orders"),
        UniqueConstraint("order_id", "merchant_id"),
        Index("ix_shipment_tracks_number", "tracking_no"),
        Index("ix_shipment_tracks_poll", "next_poll_at"),
        CheckConstraint(f"status IS NULL OR status IN {STATUSES}", name="status"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id)
    provider: Mapped[str] = mapped_column(String(20))
    carrier_code: Mapped[str] = mapped_column(String(30))
    """The carrier's code at the provider (快递公司编码: shunfeng, yuantong …)."""
    tracking_no: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20), default="")
    """The receiver's phone, which some carriers require to be named (SF)."""
    status: Mapped[str | None] = mapped_column(String(20))
    """The newest event's status; None until the first event."""
    created_at: Mapped[datetime]
    next_poll_at: Mapped[datetime | None]
    """When the worker queries the provider next; None when the provider pushes, or once the parcel is done."""
    finished_at: Mapped[datetime | None]
    """Signed for, or given up on by the provider: nothing more is asked."""


class ShipmentEvent(TenantIdMixin, Base):
    """One step of a parcel's journey, written once (the unique digest of its time and text): a push repeated,
    replayed or delivered twice at once adds nothing."""

    __tablename__ = "shipment_events"
    __table_args__ = (
        *tenant_key(),
        same_merchant("order_id", "orders"),
        UniqueConstraint("order_id", "digest", "merchant_id"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id)
    happened_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    place: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(40))
    """sha256 of the time and text (the carrier's identity of a step), cut to 40 hex digits."""
    source: Mapped[str] = mapped_column(String(20))
    """push, query or sandbox: how the mall learned of it."""
    recorded_at: Mapped[datetime]


class SandboxParcel(IdMixin, Base):
    """The sandbox provider's own books: each parcel it follows, since when, and the times its steps were advanced."""

    __tablename__ = "sandbox_parcels"

    carrier_code: Mapped[str] = mapped_column(String(30))
    tracking_no: Mapped[str] = mapped_column(String(60), unique=True)
    started_at: Mapped[datetime]
    steps: Mapped[list[Any]]
    """The time of each step reached so far (ISO strings), in order: 已揽收, 运输中, 派送中, 已签收."""
    reached: Mapped[int] = mapped_column(default=0)
    """How many steps: what an advance compares and sets."""
