"""Everything a request or a worker job needs, built once per process from the settings (`fissionmall.composition`).

Each adapter is typed by a protocol defined here in core, so every package may take the runtime without learning
which adapter (Redis or the database, WeChat Pay or the sandbox) the process chose."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from structlog.typing import FilteringBoundLogger

from fissionmall.config import Settings
from fissionmall.core.audit import StaffAuditWriter
from fissionmall.core.auth import LoginThrottle, StaffStandings
from fissionmall.core.clock import Clock
from fissionmall.core.gate import Gate
from fissionmall.core.logging import get_logger
from fissionmall.core.logistics_provider import LogisticsProvider
from fissionmall.core.payment_provider import PaymentProvider
from fissionmall.core.windows import Windows


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    velocity: Windows
    """Where velocity counts live: Redis when REDIS_URL is set, the database otherwise."""
    gate: Gate
    """The admission gate in front of campaigns with a stock cap: Redis when REDIS_URL is set, open otherwise."""
    staff_standing: StaffStandings
    """How a staff request's session is checked (core knows staff only through this)."""
    staff_audit: StaffAuditWriter
    """Where every staff write's audit row goes (`core/audit.py`); the merchants domain provides it."""
    login_throttle: LoginThrottle
    """Where failed staff sign-ins are counted: Redis when REDIS_URL is set, the database otherwise."""
    replica_engine: AsyncEngine | None = None
    """DATABASE_REPLICA_URL's, read-only; None: the routes that may read a replica read the primary."""
    replica_sessionmaker: async_sessionmaker[AsyncSession] | None = None
    http_transport: httpx.AsyncBaseTransport | None = None
    """Outgoing HTTP goes through this when set (tests route it to the app in-process)."""
    providers: dict[str, PaymentProvider] = field(default_factory=dict)
    carriers: dict[str, LogisticsProvider] = field(default_factory=dict)
    """The logistics provider this deployment runs (LOGISTICS_PROVIDER), by name; empty when none."""
    log: FilteringBoundLogger = field(default_factory=get_logger)

    def http_client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.http_transport, timeout=10.0, **kwargs)  # type: ignore[arg-type]

    @property
    def payment_provider(self) -> PaymentProvider:
        return self.providers[self.settings.payment_provider]

    @property
    def logistics_provider(self) -> LogisticsProvider | None:
        name = self.settings.tracking_provider
        return None if name is None else self.carriers.get(name)

    async def close(self) -> None:
        await self.velocity.close()
        await self.gate.close()
        await self.login_throttle.close()
        await self.engine.dispose()
        if self.replica_engine is not None:
            await self.replica_engine.dispose()


async def request_runtime(request: Request) -> Runtime:
    """The process's runtime, for an endpoint (a coroutine: no thread hop)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(request_runtime)]
