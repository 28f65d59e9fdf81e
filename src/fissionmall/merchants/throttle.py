"""Where failed sign-ins are counted: Redis when REDIS_URL is set (shared by every API process), the database's
`login_failures` otherwise. Counts are written in a transaction of their own, since the refused sign-in's request
rolls back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Failures
from fissionmall.merchants import repository
from fissionmall.merchants.rules import FORGET_AFTER


class DatabaseLoginThrottle:
    async def failures(self, session: AsyncSession, merchant_id: int, keys: Sequence[str]) -> list[Failures | None]:
        found = await repository.login_failures(session, merchant_id, keys)
        return [found.get(key) for key in keys]

    async def failed(self, session: AsyncSession, merchant_id: int, keys: Sequence[str], now: datetime) -> None:
        await repository.count_login_failures(session, merchant_id, keys, now, now - FORGET_AFTER)

    async def forget(self, session: AsyncSession, merchant_id: int, key: str) -> None:
        await repository.forget_login_failures(session, merchant_id, key)

    async def close(self) -> None:
        return None


FAIL_SCRIPT = """
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '0')
local n = 1
if at >= tonumber(ARGV[2]) then n = redis.call('HINCRBY', KEYS[1], 'n', 1) else redis.call('HSET', KEYS[1], 'n', 1) end
redis.call('HSET', KEYS[1], 'at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return n
"""


class RedisLoginThrottle:
    """A hash per key (count and time of the last failure), counted by one atomic script; it expires once
    forgotten."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.script = self.redis.register_script(FAIL_SCRIPT)

    @staticmethod
    def _name(merchant_id: int, key: str) -> str:
        return f"fm:login:{merchant_id}:{key}"

    async def failures(self, session: AsyncSession, merchant_id: int, keys: Sequence[str]) -> list[Failures | None]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(self._name(merchant_id, key), "n", "at")
            answers = await pipe.execute()
        return [Failures(int(n), datetime.fromtimestamp(float(at), UTC)) if n and at else None
                for n, at in answers]

    async def failed(self, session: AsyncSession, merchant_id: int, keys: Sequence[str], now: datetime) -> None:
        forget_before = (now - FORGET_AFTER).timestamp()
        for key in keys:
            await self.script(keys=[self._name(merchant_id, key)],
                              args=[now.timestamp(), forget_before, int(FORGET_AFTER.total_seconds())])

    async def forget(self, session: AsyncSession, merchant_id: int, key: str) -> None:
        await self.redis.delete(self._name(merchant_id, key))

    async def close(self) -> None:
        await self.redis.aclose()
