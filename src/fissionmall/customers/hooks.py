"""How sign-in learns which share brought a new customer, without customers knowing the sharing domain.

`HOOKS.shares` is filled once by fissionmall.mechanics.install() with the sharing domain's service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.config import Settings


@dataclass(frozen=True)
class Attribution:
    share_id: int
    sharer_id: int
    depth: int
    """The sharer's depth: whoever arrives is depth + 1."""
    campaign_id: int | None


class Shares(Protocol):
    async def attribution(self, session: AsyncSession, settings: Settings, merchant_id: int, code: str) -> Attribution:
        """Whose share a code is; a domain error when it is not valid for this mall."""
        ...


@dataclass
class Hooks:
    shares: Shares | None = None

    def share_resolver(self) -> Shares:
        if self.shares is None:
            raise RuntimeError("sharing is not installed: call fissionmall.mechanics.install() first")
        return self.shares


HOOKS = Hooks()
