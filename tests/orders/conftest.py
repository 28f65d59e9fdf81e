"""What the order and refund tests share: long-lived shopper tokens (they move the clock by days) and a snapshot
of every table a refused request must leave as it was."""

from __future__ import annotations

from functools import partial

import pytest

from tests.support import LONG_TOKEN_TTL_SECONDS, snapshot_of

WATCHED = ("orders", "order_items", "order_adjustments", "refunds", "payments", "skus", "customers", "events",
           "outbox_jobs", "sandbox_refunds", "payment_notifications")
"""Every table a refund request may touch: a refused request must leave all of them as they were."""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the days these tests move the clock by."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


snapshot = partial(snapshot_of, tables=WATCHED)
