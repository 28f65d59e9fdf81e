"""Parcel tracking's use cases: follow a shipped order's parcel, take a provider's push or answer, keep the timeline,
and let the carrier's 已签收 move the order to received (DOMAIN.md, Orders: customers see status and logistics)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper
from fissionmall.core.errors import NotFound
from fissionmall.core.logistics_provider import (
    InvalidPush,
    LogisticsProvider,
    LogisticsProviderError,
    Parcel,
    TrackReport,
    TrackStatus,
)
from fissionmall.core.outbox import commit_and_wake, enqueue
from fissionmall.core.runtime import Runtime
from fissionmall.logistics import errors, repository, rules
from fissionmall.logistics.models import ShipmentTrack
from fissionmall.logistics.providers.sandbox import SandboxLogistics
from fissionmall.logistics.schemas import AdvanceOut, TimelineOut, TrackEventOut
from fissionmall.orders import service as orders

FOLLOW_JOB = "logistics.follow"
POLL_CHUNK = 100


class Tracker:
    """The order record's `Shipments` hook: a shipped order's parcel is followed by the worker (a provider's
    subscription is a network call, made outside the order's transaction and retried until it is taken)."""

    async def shipped(self, session: AsyncSession, merchant_id: int, order_id: int, at: datetime) -> None:
        await enqueue(session, FOLLOW_JOB, {"merchant_id": merchant_id, "order_id": order_id}, now=at,
                      merchant_id=merchant_id, dedupe_key=f"follow-parcel:{order_id}")


TRACKER = Tracker()


async def follow(session: AsyncSession, runtime: Runtime, merchant_id: int,
                 order_id: int) -> tuple[LogisticsProvider, Parcel] | None:
    """Record the order's parcel as followed by the deployment's provider: polled from now where nothing pushes;
    where the provider pushes, what the caller subscribes once this is committed. None: nothing to follow."""
    provider = runtime.logistics_provider
    order = await orders.find_order(session, merchant_id, order_id)
    if provider is None or order is None or not order.carrier or not order.tracking_no:
        return None
    now = runtime.clock.now()
    track = await repository.add_track(session, dict(
        merchant_id=merchant_id, order_id=order_id, provider=provider.name,
        carrier_code=rules.carrier_code(order.carrier), tracking_no=order.tracking_no,
        phone=str(order.address.get("phone", ""))[:20], status=None, created_at=now,
        next_poll_at=None if provider.pushes else now, finished_at=None))
    if not provider.pushes:
        return None
    return provider, Parcel(track.carrier_code, track.tracking_no, track.phone)


async def apply_report(session: AsyncSession, track: ShipmentTrack, report: TrackReport, source: str,
                       now: datetime) -> int:
    """Store the steps not seen before (each once, whatever arrives twice or at once), and when the carrier's
    已签收 is among them move the order shipped → received, once. How many steps were new."""
    rows = [dict(merchant_id=track.merchant_id, order_id=track.order_id, happened_at=point.at, status=point.status,
                 place=point.place, text=point.text, digest=rules.step_digest(point.at, point.text), source=source,
                 recorded_at=now) for point in report.points]
    written = await repository.record_events(session, rows)
    signed = rules.signed_for(report.points)
    if written:
        await repository.update_track(session, track.id, status=await repository.newest_status(session, track.order_id))
    if signed is not None and TrackStatus.SIGNED in written:
        await orders.receive_by_carrier(session, track.order_id, signed.at, now)
    if (signed is not None or report.finished) and track.finished_at is None:
        await repository.update_track(session, track.id, finished_at=now, next_poll_at=None)
    return len(written)


def read_form(body: bytes) -> dict[str, str]:
    """A form body as received (application/x-www-form-urlencoded): the signature is checked on these values."""
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except (UnicodeDecodeError, ValueError):
        raise errors.invalid_push("the body is not a UTF-8 form") from None


async def receive_push(session: AsyncSession, runtime: Runtime, provider_name: str, form: Mapping[str, str]) -> str:
    """A provider's push (推送): verified on its fields as received, applied once; "applied" or "duplicate". 404 for
    a provider this server lacks or a number nobody ships under, 401 for anything unsigned or badly signed: refused,
    it changes nothing."""
    provider = runtime.carriers.get(provider_name)
    if provider is None:
        raise errors.no_provider(provider_name)
    try:
        report = provider.parse_push(form)
    except InvalidPush as exc:
        runtime.log.warning("logistics_push_rejected", provider=provider_name, reason=exc.reason)
        raise errors.invalid_push(exc.reason) from None
    tracks = await repository.tracks_by_number(session, provider.name, report.tracking_no)
    if not tracks:
        raise errors.unknown_shipment(report.tracking_no)
    now = runtime.clock.now()
    written = 0
    for track in tracks:
        written += await apply_report(session, track, report, "push", now)
    return "applied" if written else "duplicate"


async def timeline(session: AsyncSession, merchant_id: int, order_id: int, *,
                   customer_id: int | None = None) -> TimelineOut:
    """The order's journey as the shopper and the console show it, newest first."""
    order = await orders.require_order(session, merchant_id, order_id, customer_id=customer_id)
    track = await repository.track_of(session, merchant_id, order_id)
    events = [TrackEventOut(happened_at=e.happened_at, status=e.status, status_name=rules.status_name(e.status),
                            place=e.place, text=e.text) for e in await repository.events_of(session, merchant_id,
                                                                                              order_id)]
    status = track.status if track else None
    return TimelineOut(order_id=order.id, carrier=order.carrier, tracking_no=order.tracking_no,
                       provider=track.provider if track else None, status=status,
                       status_name=rules.status_name(status) if status else None, events=events)


async def refresh(session: AsyncSession, runtime: Runtime, merchant_id: int, order_id: int) -> TimelineOut:
    """Ask the provider now (实时查询) and keep what is new; for staff, whose pushes may be late."""
    await orders.require_order(session, merchant_id, order_id)
    track = await repository.track_of(session, merchant_id, order_id)
    provider = runtime.carriers.get(track.provider) if track else None
    if track is None or provider is None:
        raise errors.not_tracked(order_id)
    try:
        report = await provider.query(Parcel(track.carrier_code, track.tracking_no, track.phone))
    except LogisticsProviderError as exc:
        raise errors.provider_failed(exc.code, exc.message) from None
    await apply_report(session, track, report, "query", runtime.clock.now())
    return await timeline(session, merchant_id, order_id)


async def poll_due(runtime: Runtime, now: datetime) -> int:
    """The worker's poll where nothing pushes: each due parcel queried outside any transaction, its news applied in
    a short one, and its next poll set (also after a failed query: the provider is asked again later)."""
    async with runtime.sessionmaker() as session:
        due = await repository.due_for_poll(session, now, POLL_CHUNK)
    pause = timedelta(minutes=runtime.settings.logistics_poll_minutes)
    for track in due:
        provider = runtime.carriers.get(track.provider)
        report = None
        if provider is not None:
            try:
                report = await provider.query(Parcel(track.carrier_code, track.tracking_no, track.phone))
            except LogisticsProviderError as exc:
                runtime.log.warning("logistics_query_failed", provider=track.provider, code=exc.code)
        async with runtime.sessionmaker() as session:
            await repository.update_track(session, track.id, next_poll_at=now + pause)
            if report is not None:
                await apply_report(session, track, report, "query", now)
            await commit_and_wake(session)
    return len(due)


async def sandbox_advance(session: AsyncSession, runtime: Runtime, shopper: Shopper, order_id: int) -> AdvanceOut:
    """The sandbox carrier takes the shopper's parcel one step further and pushes (test deployments only: 404
    where the sandbox is not the provider)."""
    sandbox = runtime.carriers.get("sandbox")
    order = await orders.find_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    track = order and await repository.track_of(session, shopper.merchant_id, order_id)
    if not isinstance(sandbox, SandboxLogistics) or not track or track.provider != "sandbox":
        raise NotFound("shipment_not_found", f"no sandbox shipment for order {order_id}")
    return AdvanceOut(steps=await sandbox.advance(session, track.tracking_no))
