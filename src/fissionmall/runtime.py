"""Everything a request or a worker job needs, built once per process from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from structlog.typing import FilteringBoundLogger

from fissionmall.campaigns.gate import Gate, OpenGate, gate_for
from fissionmall.config import Settings
from fissionmall.core.auth import StaffStandings
from fissionmall.core.clock import Clock, SystemClock
from fissionmall.core.logging import get_logger
from fissionmall.db.engine import make_engine, make_sessionmaker
from fissionmall.fraud.velocity import DatabaseWindows, RedisWindows, Windows, windows_for
from fissionmall.merchants import repository as merchants
from fissionmall.merchants.throttle import DatabaseLoginThrottle, LoginThrottle, RedisLoginThrottle, login_throttle_for
from fissionmall.payments.providers.base import PaymentProvider


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    http_transport: httpx.AsyncBaseTransport | None = None
    """Outgoing HTTP goes through this when set (tests route it to the app in-process)."""
    providers: dict[str, PaymentProvider] = field(default_factory=dict)
    velocity: Windows = field(default_factory=DatabaseWindows)
    """Where velocity counts live: Redis when REDIS_URL is set, the database otherwise."""
    gate: Gate = field(default_factory=OpenGate)
    """The admission gate in front of campaigns with a stock cap: Redis when REDIS_URL is set, open otherwise."""
    log: FilteringBoundLogger = field(default_factory=get_logger)
    staff_standing: StaffStandings = merchants.staff_standing
    """How a staff request's session is checked (core knows staff only through this)."""
    login_throttle: LoginThrottle = field(default_factory=DatabaseLoginThrottle)
    """Where failed staff sign-ins are counted: Redis when REDIS_URL is set, the database otherwise."""

    def http_client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.http_transport, timeout=10.0, **kwargs)  # type: ignore[arg-type]

    @property
    def payment_provider(self) -> PaymentProvider:
        return self.providers[self.settings.payment_provider]

    async def close(self) -> None:
        if isinstance(self.velocity, RedisWindows):
            await self.velocity.close()
        await self.gate.close()
        if isinstance(self.login_throttle, RedisLoginThrottle):
            await self.login_throttle.close()
        await self.engine.dispose()


async def request_runtime(request: Request) -> Runtime:
    """The process's runtime, for an endpoint (a coroutine: no thread hop)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(request_runtime)]


def build_runtime(settings: Settings, *, clock: Clock | None = None,
                  http_transport: httpx.AsyncBaseTransport | None = None) -> Runtime:
    from fissionmall.payments.providers import build_providers

    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    runtime = Runtime(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine),
                      clock=clock or SystemClock(), http_transport=http_transport,
                      velocity=windows_for(settings.redis_url), gate=gate_for(settings.redis_url),
                      login_throttle=login_throttle_for(settings.redis_url))
    runtime.providers = build_providers(runtime)
    return runtime
