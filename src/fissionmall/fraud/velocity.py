"""Velocity limits (COMPLIANCE F3): how often one customer, device or IP range may act per hour.

Kept in Redis when REDIS_URL is set (a Lua increment-and-check, shared by every API process), in the
database's capped counters otherwise. A refusal is `429 velocity_limited` and nothing else changes.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import counters
from fissionmall.fraud import errors
from fissionmall.fraud.schemas import Actor, VelocityLimits


class Windows(Protocol):
    async def take(self, session: AsyncSession, merchant_id: int, key: str, hour: str, limit: int) -> bool: ...


class DatabaseWindows:
    """Counters in the request's own transaction: a refused or failed request leaves no count behind."""

    async def take(self, session: AsyncSession, merchant_id: int, key: str, hour: str, limit: int) -> bool:
        return await counters.take(session, merchant_id, f"velocity:{key}", hour, limit) is not None


TAKE_SCRIPT = """
local used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if used > tonumber(ARGV[1]) then return 0 end
return 1
"""


class RedisWindows:
    """One atomic script per check; keys expire with their hour. An attempt counts even when refused."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.script = self.redis.register_script(TAKE_SCRIPT)

    async def take(self, session: AsyncSession, merchant_id: int, key: str, hour: str, limit: int) -> bool:
        return bool(await self.script(keys=[f"fm:velocity:{merchant_id}:{key}:{hour}"], args=[limit, 7200]))

    async def close(self) -> None:
        await self.redis.aclose()


def windows_for(redis_url: str | None) -> Windows:
    return RedisWindows(redis_url) if redis_url else DatabaseWindows()


async def check(session: AsyncSession, runtime: Any, action: str, actor: Actor, limits: VelocityLimits) -> None:
    """Count this action against each limit that applies; the first one exceeded refuses it."""
    hour = counters.hour_of(runtime.clock.now())
    scopes = [("customer", str(actor.customer_id), limits.per_customer_hour),
              ("device", actor.device_id, limits.per_device_hour),
              ("ip range", actor.ip_range, limits.per_ip_range_hour)]
    for scope, value, limit in scopes:
        if value and not await runtime.velocity.take(session, actor.merchant_id, f"{action}:{scope}:{value}",
                                                     hour, limit):
            raise errors.velocity_limited(scope, limit)
