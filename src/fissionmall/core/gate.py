"""The admission gate in front of campaigns with a stock cap (a flash sale: thousands of shoppers for a few
hundred units).

With Redis configured, one Lua check-and-decrement per order turns away the shoppers who arrive after the last
unit, before they reach PostgreSQL (no SKU reservation, no campaign row lock, no rollback). PostgreSQL stays the
only source of truth: an admitted order still claims its unit by the guarded UPDATE, and a unit is never sold
because Redis said so alone.

The gate learns what is left from PostgreSQL: after each claim it is seeded (if it has no figure) with the units
left, and a claim PostgreSQL refuses as sold out sets it to zero. Every figure lives a few seconds only, so an
admitted order that failed later (its token is not given back) or units that came back (a cancelled order) cost
at most that long before the figure is read again from the database. Without Redis every order is admitted and
PostgreSQL alone decides, as always.
"""

from __future__ import annotations

from typing import Protocol

FIGURE_SECONDS = 3

ADMIT = """
local left = redis.call('GET', KEYS[1])
if not left then return -1 end
if tonumber(left) < tonumber(ARGV[1]) then return 0 end
redis.call('DECRBY', KEYS[1], ARGV[1])
return 1
"""


class Gate(Protocol):
    async def admit(self, campaign_id: int, quantity: int) -> bool:
        """False when the campaign is known to be sold out; True otherwise (PostgreSQL then decides)."""
        ...

    async def learn(self, campaign_id: int, left: int) -> None:
        """PostgreSQL's figure after a claim: `left` units (0 when it refused the claim as sold out)."""
        ...

    async def close(self) -> None: ...


class OpenGate:
    """No Redis: everyone is admitted and PostgreSQL alone decides."""

    async def admit(self, campaign_id: int, quantity: int) -> bool:
        return True

    async def learn(self, campaign_id: int, left: int) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisGate:
    def __init__(self, url: str, namespace: str = "fm") -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.script = self.redis.register_script(ADMIT)
        self.namespace = namespace
        """Several malls (or test runs) sharing one Redis keep apart by it."""

    def _key(self, campaign_id: int) -> str:
        return f"{self.namespace}:gate:{campaign_id}"

    async def admit(self, campaign_id: int, quantity: int) -> bool:
        return int(await self.script(keys=[self._key(campaign_id)], args=[quantity])) != 0

    async def learn(self, campaign_id: int, left: int) -> None:
        """A sold-out answer always overwrites; a figure after a sale only seeds a gate that has none, so the
        decrements of orders admitted meanwhile are not undone."""
        await self.redis.set(self._key(campaign_id), max(left, 0), ex=FIGURE_SECONDS, nx=left > 0)

    async def close(self) -> None:
        await self.redis.aclose()
