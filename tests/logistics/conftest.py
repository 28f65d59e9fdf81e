"""What the tracking tests share: long-lived tokens (some move the clock by days), a shipped order, and the tables a
refused push must leave as they were."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from tests.console.conftest import desk as desk  # the console as staff see it
from tests.support import LONG_TOKEN_TTL_SECONDS, Mall, Who, rows, snapshot_of

WATCHED = ("orders", "shipment_events", "shipment_tracks", "events", "outbox_jobs", "sandbox_parcels")
snapshot = partial(snapshot_of, tables=WATCHED)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


async def shipped(mall: Mall, who: Who, tracking_no: str, carrier: str = "圆通速递") -> dict[str, Any]:
    """An order paid, shipped with this number, and its parcel followed (the worker's follow job has run)."""
    order = await mall.order(who)
    await mall.pay(who, order["id"])
    response = await mall.client.post(f"/admin/orders/{order['id']}/ship", headers=await mall.staff(),
                                      json={"carrier": carrier, "tracking_no": tracking_no})
    assert response.status_code == 200, response.text
    await mall.work()
    return order


async def received_by(mall: Mall, order_id: int) -> list[str]:
    """Who received the order, by its order_received events (customer, carrier, timeout): one, whatever raced."""
    found = await rows(mall.runtime, "SELECT data FROM events WHERE kind = 'order_received' AND subject_type = 'order' "
                                     "AND subject_id = :id", id=order_id)
    return [(json.loads(data) if isinstance(data, str) else data)["by"] for (data,) in found]
