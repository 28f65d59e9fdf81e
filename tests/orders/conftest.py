"""What the order and refund tests share: long-lived tokens (they move the clock by days) and a snapshot
of every table a refused request must leave as it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from fissionmall.merchants.models import Staff
from fissionmall.merchants.service import staff_token
from fissionmall.runtime import Runtime
from tests.support import Mall

WATCHED = ("orders", "order_items", "order_adjustments", "refunds", "payments", "skus", "customers", "events",
           "outbox_jobs", "sandbox_refunds", "payment_notifications")
"""Every table a refund request may touch: a refused request must leave all of them as they were."""

SHIPMENT = {"carrier": "SF Express", "tracking_no": "SF1234567890"}
Who = dict[str, str]


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the days these tests move the clock by."""
    return {"token_ttl_seconds": 90 * 24 * 3600}


@pytest.fixture(autouse=True)
async def _signed_staff_tokens(mall: Mall, runtime: Runtime) -> None:
    """Staff tokens signed directly: a login costs an argon2 check (~0.1 s) and its token expires in 12 hours."""
    async with runtime.sessionmaker() as session:
        staff = (await session.execute(select(Staff).where(Staff.merchant_id == mall.merchant_id))).scalars().all()
    for member in staff:
        mall._staff_tokens[member.role] = staff_token(runtime, member, ttl_seconds=90 * 24 * 3600)


# --- helpers ----------------------------------------------------------------------------------------------------------

async def snapshot(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    async with runtime.sessionmaker() as session:
        return {table: [tuple(row) for row in (await session.execute(text(f"SELECT * FROM {table} ORDER BY id")))]
                for table in WATCHED}


def at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


