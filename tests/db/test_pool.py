"""A burst larger than the pool can queue is answered 503 server_busy (with Retry-After), and nothing is written."""

from __future__ import annotations

import httpx

from fissionmall.app import create_app
from fissionmall.composition import build_runtime
from fissionmall.db.engine import make_engine
from tests.conftest import PUBLIC_BASE
from tests.support import ADDRESS, value


async def test_a_request_that_waits_out_the_pool_is_told_to_come_back(mall, runtime, database_url):
    """One connection, held elsewhere past the pool's timeout: the product list and an order answer 503 with a
    stable code and Retry-After, and no order is written; once the connection is free the list answers 200."""
    alice = await mall.shopper("alice")
    engine = make_engine(database_url, pool_size=1, pool_timeout=0.2)
    small = build_runtime(runtime.settings, engine=engine, clock=runtime.clock, http_transport=runtime.http_transport)
    transport = httpx.ASGITransport(app=create_app(runtime=small))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=f"{PUBLIC_BASE}/api/v1") as client:
            async with engine.connect():
                busy = await client.get("/products", params={"merchant": "acme"})
                order = await client.post("/orders", headers={**alice, "Idempotency-Key": "busy-1"}, json={
                    "items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS})
            for answer in (busy, order):
                assert answer.status_code == 503
                assert answer.headers["content-type"] == "application/problem+json"
                assert (answer.json()["code"], answer.headers["Retry-After"]) == ("server_busy", "1")
            assert await value(runtime, "SELECT count(*) FROM orders") == 0
            assert (await client.get("/products", params={"merchant": "acme"})).status_code == 200
    finally:
        await engine.dispose()
