"""What can be shared: each target type with a check that the target exists (and returns the campaign it belongs
to, for attribution). Filled once by fissionmall.mechanics.install(): product and invite pages, and each
mechanic's share target."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper

TargetCheck = Callable[[AsyncSession, Shopper, int], Awaitable[int | None]]
"""(session, sharer, target id) -> campaign id or None; raises a domain error when the target is not valid."""

TARGETS: dict[str, TargetCheck] = {}

