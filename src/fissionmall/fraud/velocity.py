"""Velocity limits (COMPLIANCE F3): how often one customer, device or IP range may act per hour.

Counted in the runtime's windows (`core/windows.py`): Redis when REDIS_URL is set, the database's capped counters
otherwise. A refusal is `429 velocity_limited` and nothing else changes.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import counters
from fissionmall.core.runtime import Runtime
from fissionmall.fraud import errors
from fissionmall.fraud.schemas import Actor, VelocityLimits


async def check(session: AsyncSession, runtime: Runtime, action: str, actor: Actor, limits: VelocityLimits) -> None:
    """Count this action against each limit that applies; the first one exceeded refuses it."""
    hour = counters.hour_of(runtime.clock.now())
    scopes = [("customer", str(actor.customer_id), limits.per_customer_hour),
              ("device", actor.device_id, limits.per_device_hour),
              ("ip range", actor.ip_range, limits.per_ip_range_hour)]
    for scope, value, limit in scopes:
        if value and not await runtime.velocity.take(session, actor.merchant_id, f"{action}:{scope}:{value}",
                                                     hour, limit):
            raise errors.velocity_limited(scope, limit)
