"""Campaign kinds: each registers its typed settings model and its checks. A new mechanic is a new entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.schemas import Finding


@dataclass(frozen=True)
class CampaignKind:
    settings_model: type[BaseModel]
    product_of: Callable[[Any], int | None]
    """Which product the campaign sells, read from its settings (None for campaigns on no product)."""
    check: Callable[[AsyncSession, int, Any], Awaitable[list[Finding]]]
    """Checks that need the database (prices against the catalog …) plus the pure linter rules."""
    summary: Callable[[Any], dict[str, Any]]
    """What a product page shows of a live campaign (prices, group size …)."""
    on_activate: Callable[[AsyncSession, Any, Any], Awaitable[None]] | None = None
    """(session, campaign, settings): what must exist before customers act (an assist pool's prizes …)."""


KINDS: dict[str, CampaignKind] = {}


def register(kind: str, definition: CampaignKind) -> None:
    KINDS[kind] = definition
