"""Hourly counting windows behind the velocity limits (`fraud/velocity.py`): in Redis when REDIS_URL is set (a Lua
increment-and-check, shared by every API process), in the database's capped counters otherwise."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import counters


class Windows(Protocol):
    async def take(self, session: AsyncSession, merchant_id: int, key: str, hour: str, limit: int) -> bool:
        """Count one more in the window `key` of `hour`; False once `limit` is passed."""
        ...

    async def close(self) -> None: ...


class DatabaseWindows:
    """Counters in the request's own transaction: a refused or failed request leaves no count behind."""

    async def take(self, session: AsyncSession, merchant_id: int, key: str, hour: str, limit: int) -> bool:
        return await counters.take(session, merchant_id, f"velocity:{key}", hour, limit) is not None

    async def close(self) -> None:
        return None


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
