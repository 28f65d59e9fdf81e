"""What can be shared: each target type with a check that the target exists (and returns the campaign it belongs
to, for attribution), and the facts its poster shows. Filled once by fissionmall.mechanics.install(): product
pages, orders (a saved-money card), check-in streaks, and each mechanic's share target."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock

TargetCheck = Callable[[AsyncSession, Shopper, int], Awaitable[int | None]]
"""(session, sharer, target id) -> campaign id or None; raises a domain error when the target is not valid."""


@dataclass(frozen=True)
class PosterFacts:
    """What a shared record's poster shows, supplied by the record's owner (a mechanic, orders, points): one
    drawing serves every kind. Only what a stranger may see belongs here: no address, phone or order number."""

    title: str
    image_url: str | None = None
    """A /media/ address (a product's first image); anything else is drawn as a placeholder."""
    price_fen: int | None = None
    list_price_fen: int | None = None
    """Struck through beside the price when it is higher (the list price, a bargain's start)."""
    badge: str | None = None
    """The mechanic's own name on a red tag: "3 人团", "砍价" …"""
    status: str | None = None
    """Where the record stands, in one line: "还差 1 人", "已砍 ¥12.00，还差 3 刀"."""
    progress_percent: int | None = None
    """0–100, drawn as a bar under the status; never rounded up."""
    details: tuple[str, ...] = ()
    """Small print: the published rule that matters most, a coupon's threshold …"""
    hero: str | None = None
    """A big line on a red panel ("拼团成功", "省了 ¥35.00"): show-off cards and records without a product image."""
    hero_note: str | None = None
    """The small line above the hero ("我在某某小店")."""
    sharer_says: str = "推荐给你"
    """After the sharer's name at the bottom: "推荐给你", "的晒单" …"""
    tagline: str = "长按识别二维码，和我一起买"


PosterLoader = Callable[[AsyncSession, Clock, int, int], Awaitable[PosterFacts]]
"""(session, clock, merchant id, target id) -> what the target's poster shows, as of now."""


@dataclass(frozen=True)
class ShareTarget:
    target_type: str
    check: TargetCheck
    poster: PosterLoader | None = None
    """What its poster shows; without one the poster is the mall's generic invitation."""


TARGETS: dict[str, ShareTarget] = {}
