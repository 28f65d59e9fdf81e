"""/healthz answers while the process is up; /readyz answers 503 naming what stops the mall from serving (the
database, Redis when configured, a schema behind the code); /metrics counts requests by route template, pool waits,
notifications, refund calls and the job queue, behind METRICS_TOKEN when it is set."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from fissionmall.app import create_app
from fissionmall.config import SettingsError, load_settings
from fissionmall.core.outbox import NO_MERCHANT, enqueue
from fissionmall.core.runtime import Runtime
from fissionmall.db.engine import make_engine, make_sessionmaker
from fissionmall.migrate import head_revision
from tests.conftest import PUBLIC_BASE
from tests.support import Mall, problem

TOKEN = "metrics-token-0123456789abcdef"


@asynccontextmanager
async def served(runtime: Runtime, *, engine_url: str | None = None, **settings: object
                 ) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a copy of the runtime with these settings (and, if given, a database of another address)."""
    engine = make_engine(engine_url, pool_size=1) if engine_url else runtime.engine
    changed = dataclasses.replace(runtime, settings=runtime.settings.model_copy(update=settings), engine=engine,
                                  sessionmaker=make_sessionmaker(engine))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime=changed)),
                                     base_url=PUBLIC_BASE) as client:
            yield client
    finally:
        if engine_url:
            await engine.dispose()


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(exposition) for sample in family.samples}


async def scrape(client: httpx.AsyncClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = await client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


def requests(route: str, status: str, method: str = "GET") -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("fissionmall_http_request_duration_seconds_count",
            (("method", method), ("route", route), ("status", status)))


# --- probes -------------------------------------------------------------------------------------------------------


async def test_ready_when_database_and_schema_are(runtime):
    async with served(runtime) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        schema = (await client.get("/openapi.json")).json()
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "dead_jobs": 0, "checks": {
        "database": "ok", "migrations": "ok", "redis": "not configured"}}
    assert not {"/healthz", "/readyz", "/metrics"} & set(schema["paths"])


async def test_not_ready_on_a_schema_behind_the_code(runtime):
    """A deploy that skipped `fissionmall migrate`: the database's revision is not the code's head."""
    head = head_revision()
    async with runtime.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    try:
        async with served(runtime) as client:
            answer = await client.get("/readyz")
            assert (await client.get("/healthz")).status_code == 200
    finally:
        async with runtime.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})
    body = problem(answer, 503, "not_ready")
    assert body["detail"] == "not ready: migrations"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == f"database at 0006, code at {head}: run fissionmall migrate"


async def test_not_ready_without_the_database_but_alive(runtime):
    """Nothing listens on port 1: the database check fails fast, and liveness does not depend on it."""
    async with served(runtime, engine_url="postgresql+asyncpg://postgres@127.0.0.1:1/nowhere") as client:
        health = await client.get("/healthz")
        answer = await client.get("/readyz")
    assert health.status_code == 200
    body = problem(answer, 503, "not_ready")
    assert body["detail"] == "not ready: database, migrations"
    assert body["checks"]["database"].startswith("unreachable")


async def test_redis_is_checked_when_configured(runtime):
    async with served(runtime, redis_url="redis://127.0.0.1:6379/6") as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["redis"] == "ok"
    async with served(runtime, redis_url="redis://127.0.0.1:1/6") as client:
        body = problem(await client.get("/readyz"), 503, "not_ready")
    assert body["detail"] == "not ready: redis"
    assert body["checks"]["redis"].startswith("unreachable")


# --- metrics ------------------------------------------------------------------------------------------------------


async def test_requests_are_counted_by_route_template_and_status_class(mall: Mall, runtime):
    async with served(runtime) as client:
        before = await scrape(client)
        for _ in range(3):
            assert (await client.get("/api/v1/products", params={"merchant": "acme"})).status_code == 200
        assert (await client.get("/api/v1/orders/987654")).status_code == 401
        assert (await client.get("/no/such/page/42")).status_code == 404
        after = await scrape(client)
    grown = {key: after[key] - before.get(key, 0) for key in after}
    assert grown[requests("/api/v1/products", "2xx")] == 3
    assert grown[requests("/api/v1/orders/{order_id}", "4xx")] == 1
    assert grown[requests("unmatched", "4xx")] == 1
    assert not any("987654" in str(key) or "/no/such" in str(key) for key in after), "raw paths became labels"
    assert grown[("fissionmall_db_pool_wait_seconds_count", ())] >= 3


async def test_payments_refunds_and_rejected_notifications_are_counted(mall: Mall, runtime):
    async with served(runtime) as client:
        before = await scrape(client)
    who = await mall.shopper("alice")
    order = await mall.order(who)
    await mall.pay(who, order["id"])
    refund = await mall.client.post(f"/admin/orders/{order['id']}/refunds", headers=await mall.staff("finance"),
                                    json={"reason": "goodwill"})
    assert refund.status_code == 201, refund.text
    await mall.work()
    forged = await mall.client.post("/payments/notify/sandbox", content=b"{}", headers={
        "Sandbox-Timestamp": str(int(runtime.clock.now().timestamp())), "Sandbox-Nonce": "n",
        "Sandbox-Signature": "forged"})
    assert forged.status_code == 401
    async with served(runtime) as client:
        after = await scrape(client)
    grown = {key: after[key] - before.get(key, 0) for key in after}
    notifications = "fissionmall_payment_notifications_total"
    assert grown[(notifications, (("outcome", "applied"), ("provider", "sandbox")))] == 2  # the payment, the refund
    assert grown[(notifications, (("outcome", "rejected"), ("provider", "sandbox")))] == 1
    assert grown[("fissionmall_refund_calls_total", (("outcome", "accepted"), ("provider", "sandbox")))] == 1


async def test_the_job_queue_is_read_from_the_database(runtime, clock):
    async with runtime.sessionmaker() as session:
        for kind in ("payments.refund", "payments.refund", "sandbox.deliver_notification"):
            await enqueue(session, kind, {}, now=clock.now(), merchant_id=NO_MERCHANT)
        await session.commit()
    async with runtime.engine.begin() as connection:
        await connection.execute(text("UPDATE outbox_jobs SET status = 'dead' WHERE id IN "
                                      "(SELECT min(id) FROM outbox_jobs GROUP BY kind)"))
    clock.advance(seconds=90)
    async with served(runtime) as client:
        metrics = await scrape(client)
        ready = (await client.get("/readyz")).json()
    assert metrics[("fissionmall_jobs_due", ())] == 1
    assert metrics[("fissionmall_jobs_oldest_due_age_seconds", ())] == 90
    assert metrics[("fissionmall_jobs_dead", (("kind", "payments.refund"),))] == 1
    assert metrics[("fissionmall_jobs_dead", (("kind", "sandbox.deliver_notification"),))] == 1
    assert ready["dead_jobs"] == 2


async def test_a_pool_timeout_is_counted(mall: Mall, runtime, database_url):
    engine = make_engine(database_url, pool_size=1, pool_timeout=0.2)
    small = dataclasses.replace(runtime, engine=engine, sessionmaker=make_sessionmaker(engine))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime=small)),
                                     base_url=PUBLIC_BASE) as client:
            before = await scrape(client)
            async with engine.connect():
                assert (await client.get("/api/v1/products", params={"merchant": "acme"})).status_code == 503
            after = await scrape(client)
    finally:
        await engine.dispose()
    assert after[("fissionmall_db_pool_timeouts_total", ())] - before.get(("fissionmall_db_pool_timeouts_total", ()),
                                                                           0) == 1


async def test_metrics_need_the_token_when_one_is_set(runtime):
    async with served(runtime, metrics_token=TOKEN) as client:
        problem(await client.get("/metrics"), 401, "metrics_token_required")
        problem(await client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}), 401,
                "metrics_token_required")
        problem(await client.get("/metrics", headers={"Authorization": TOKEN[:-1]}), 401, "metrics_token_required")
        assert ("fissionmall_jobs_due", ()) in await scrape(client, Authorization=f"Bearer {TOKEN}")
        assert (await client.get("/healthz")).status_code == 200  # probes stay open


@pytest.mark.parametrize(("name", "bad"), [("job_lease_seconds", 0), ("job_lease_seconds", "soon"),
                                           ("metrics_token", "short")])
@pytest.mark.backend_free
def test_bad_operation_settings_stop_start_up(name, bad):
    with pytest.raises(SettingsError) as refused:
        load_settings(**{name: bad})
    assert name.upper() in str(refused.value)
