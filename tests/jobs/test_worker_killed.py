"""Kill -9 the worker in the middle of a batch of refunds, twice, and start another: every refund is carried out
once at the provider and applied once to its order, and nothing is counted twice.

Real processes: `fissionmall serve` receives the sandbox's signed notifications over HTTP, and `fissionmall worker`
processes are started and killed against the test database. The job lease (JOB_LEASE_SECONDS) is two seconds, so
a killed worker's jobs are free again soon after."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fissionmall.core.clock import FrozenClock
from tests.support import Mall, rows, value

pytestmark = pytest.mark.postgres

CLI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "fissionmall"
ORDERS = 40
SHOPPERS = 4
PRICE = 1000
WAIT = 40.0


@pytest.fixture
def clock() -> FrozenClock:
    """The real time: the processes run on the system clock, and the jobs queued here must be due for them."""
    return FrozenClock(datetime.now(UTC))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def processes(database_url: str, tmp_path: Path) -> Iterator[dict[str, object]]:
    """Starts the server, and workers on demand; whatever is still running at the end is killed."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                   "SECRET_KEY": "fault-test-secret-key-0123456789abcdef", "TEST_DEPLOYMENT": "true",
                   "SANDBOX_KEY": "fault-test-sandbox-key-0123456789abcdef", "MEDIA_DIR": str(tmp_path / "media"),
                   "JOB_LEASE_SECONDS": "2", "LOG_LEVEL": "WARNING"}
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([str(CLI), *args], env=environment, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        started.append(process)
        return process

    server = start("serve", "--no-with-worker", "--port", str(port))
    try:
        yield {"start_worker": lambda: start("worker"), "server": server, "port": port}
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


async def until(condition, what: str, *, poll: float = 0.005) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while not await condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(poll)


async def paid_orders(mall: Mall) -> list[int]:
    """ORDERS orders of one unit, paid through the sandbox (notifications delivered in-process)."""
    order_ids = []
    for n in range(ORDERS):
        who = await mall.shopper(f"shopper{n % SHOPPERS}")
        order = await mall.order(who)
        payment = await mall.client.post(f"/orders/{order['id']}/pay", headers=who)
        assert payment.status_code == 200, payment.text
        completed = await mall.client.post(f"/sandbox/payments/{payment.json()['payment_id']}/complete", headers=who)
        assert completed.status_code == 202, completed.text
        order_ids.append(order["id"])
    await mall.work()
    assert await value(mall.runtime, "SELECT count(*) FROM orders WHERE status = 'to_ship'") == ORDERS
    return order_ids


async def test_refunds_survive_a_killed_worker_exactly_once(mall: Mall, runtime, processes):
    order_ids = await paid_orders(mall)
    finance = await mall.staff("finance")
    for order_id in order_ids:
        answer = await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=finance,
                                        json={"reason": "warehouse fire"})
        assert answer.status_code == 201, answer.text
    assert await value(runtime, "SELECT count(*) FROM outbox_jobs WHERE kind = 'payments.refund' "
                                "AND status = 'pending'") == ORDERS

    port = processes["port"]
    async with httpx.AsyncClient() as client:
        async def serving() -> bool:
            try:
                return (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await until(serving, "the server", poll=0.1)

    async def accepted() -> int:
        return int(await value(runtime, "SELECT count(*) FROM sandbox_refunds"))

    async def applied() -> int:
        return int(await value(runtime, "SELECT count(*) FROM refunds WHERE status = 'succeeded'"))

    # first worker: killed while it is asking the provider for refunds
    worker = processes["start_worker"]()  # type: ignore[operator]
    await until(lambda: _at_least(accepted, 1), "the first refund at the provider")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert 0 < await accepted() < ORDERS, "the worker was not killed in the middle of the refund batch"

    # second worker: takes the rest once the lease runs out; killed while notifications are being applied
    worker = processes["start_worker"]()  # type: ignore[operator]
    await until(lambda: _at_least(applied, 1), "the first refund applied")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert await applied() < ORDERS, "the second worker was not killed in the middle of the notifications"

    # third worker: finishes
    processes["start_worker"]()  # type: ignore[operator]
    await until(lambda: _at_least(applied, ORDERS), "every refund applied", poll=0.1)
    await until(_queue_drained(runtime), "the refund and notification jobs done", poll=0.1)

    # the provider carried out each refund once, for its amount, through the payment it names
    assert await rows(runtime, "SELECT s.out_refund_no, s.out_trade_no, s.amount_fen FROM sandbox_refunds s "
                               "ORDER BY s.out_refund_no") == sorted(await rows(runtime, """
        SELECT r.refund_no, r.out_trade_no, r.amount_fen FROM refunds r WHERE r.status = 'succeeded'"""))
    assert await value(runtime, "SELECT count(*) FROM refunds") == ORDERS
    # each refund's notification applied once, each order refunded exactly what was paid, and closed
    assert await value(runtime, "SELECT count(*) FROM payment_notifications WHERE kind = 'refund'") == ORDERS
    assert await rows(runtime, "SELECT status, paid_fen, refunded_fen, refund_reserved_fen, count(*) FROM orders "
                               "GROUP BY status, paid_fen, refunded_fen, refund_reserved_fen") == [
        ("refunded", PRICE, PRICE, PRICE, ORDERS)]
    # nothing counted twice: one refund event per order, the stock back exactly once
    assert await rows(runtime, "SELECT subject_id, count(*) FROM events WHERE kind = 'refund' "
                               "GROUP BY subject_id HAVING count(*) <> 1") == []
    assert await value(runtime, "SELECT count(*) FROM events WHERE kind = 'refund'") == ORDERS
    assert await value(runtime, "SELECT stock FROM skus WHERE id = :s", s=mall.sku_id) == 100
    assert await value(runtime, "SELECT count(*) FROM outbox_jobs WHERE status = 'dead'") == 0


async def _at_least(count, target: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(await count() >= target)


def _queue_drained(runtime):  # type: ignore[no-untyped-def]
    async def drained() -> bool:
        return bool(await value(runtime, "SELECT count(*) FROM outbox_jobs WHERE status <> 'done' AND kind IN "
                                         "('payments.refund', 'sandbox.deliver_notification')") == 0)

    return drained
