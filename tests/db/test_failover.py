"""Kill the primary in the middle of a stream of orders and payments: a pg_auto_failover formation of this machine
(scripts/ha.sh: a monitor and two nodes), and one `fissionmall serve` started against the URL that names both nodes.

Shoppers sign in, open a group (order), pay, and the provider confirms with its signed notification. Whatever is
answered 503 (or not answered at all) is sent again as it was, with the same Idempotency-Key; the provider sends
its notification again. The primary is stopped at once, keeper and Postgres, as a machine that dies; the monitor
promotes the secondary; the server, never restarted, serves again. Then on the new primary: every order and payment
the API acknowledged is there, each applied once, and stock and the campaign's count equal the live orders.

Runs alone, on the formation it starts and deletes: `make test-failover` (FISSIONMALL_TEST_DB=failover)."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fissionmall.core.clock import FrozenClock
from fissionmall.migrate import upgrade_async
from fissionmall.payments.providers.sandbox import signed_headers
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.jobs.test_worker_killed import free_port
from tests.payments.test_notifications import payment_body
from tests.support import ADDRESS, Mall, rows, value

pytestmark = pytest.mark.failover

ROOT = Path(__file__).resolve().parents[2]
HA = ROOT / "scripts" / "ha.sh"
CLI = ROOT / ".venv" / "bin" / "fissionmall"
SHOPPERS = 8
"""Shoppers at a time, each going through one customer's journey after another."""
BEFORE_KILL = 24
"""Journeys done before the primary is killed."""
AFTER_PROMOTION = 24
"""Journeys begun after the kill that must be done before the run stops."""
STOCK = 1000
WAIT = 240.0
"""Generous: the secondary is promoted about 10 s after the primary stops (50 s at pg_auto_failover's defaults)."""


def ha(command: str) -> str:
    done = subprocess.run(["bash", str(HA), command], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"scripts/ha.sh {command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def formation() -> Iterator[str]:
    """The formation's DATABASE_URL; deleted at the end whether the test passed or not."""
    try:
        yield dict(line.split("=", 1) for line in ha("start").splitlines() if "=" in line)["DATABASE_URL"]
    finally:
        ha("stop")


@pytest.fixture(scope="session")
async def database_url(formation: str) -> str:
    """The test harness's database is the formation's, migrated through the URL that names both nodes."""
    await upgrade_async(formation)
    return formation


@pytest.fixture
def clock() -> FrozenClock:
    """The real time: the server runs on the system clock, and the campaign set up here must be live for it."""
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
async def mall(client: httpx.AsyncClient, runtime) -> Mall:  # type: ignore[no-untyped-def]
    return await Mall.create(client, runtime, slug="acme", stock=STOCK)


@dataclass
class Server:
    """The server under test: its process (the parent of its HTTP processes), its port, its output."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path


@pytest.fixture
def server(runtime, database_url: str, tmp_path: Path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """`fissionmall serve` (two processes) on the formation, with the sandbox key the test signs notifications with;
    its process group is stopped at the end."""
    port, log = free_port(), tmp_path / "server.log"
    settings = runtime.settings
    environment = {**{k: v for k, v in os.environ.items() if k != "REDIS_URL"}, "DATABASE_URL": database_url,
                   "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SECRET_KEY": settings.secret_key,
                   "SANDBOX_KEY": settings.sandbox_key, "TEST_DEPLOYMENT": "true", "DEV_LOGIN": "true",
                   "MEDIA_DIR": str(tmp_path / "media"), "LOG_LEVEL": "WARNING"}
    with log.open("wb") as output:
        process = subprocess.Popen([str(CLI), "serve", "--workers", "2", "--port", str(port)], env=environment,
                                   cwd=tmp_path, stdout=output, stderr=output, start_new_session=True)
    try:
        yield Server(process, port, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Ledger:
    """What the server acknowledged, and every answer it gave, by step."""

    kill_at: float = float("inf")
    orders: dict[int, int] = field(default_factory=dict)
    """Order id → total, from each 201."""
    payments: set[str] = field(default_factory=set)
    """out_trade_no of each payment opened (200)."""
    confirmed: set[str] = field(default_factory=set)
    """out_trade_no of each notification acknowledged."""
    answers: Counter[tuple[str, str]] = field(default_factory=Counter)
    refused: list[float] = field(default_factory=list)
    """When each 503 came (monotonic)."""
    moments: dict[str, float] = field(default_factory=lambda: {"start": time.monotonic()})
    """When each phase of the run ended (monotonic)."""
    done_after_kill: int = 0
    done: int = 0


Send = Callable[[], Awaitable[httpx.Response]]


async def until_answered(ledger: Ledger, step: str, send: Send, success: int) -> Any:
    """Send until the answer is `success`: again after a 503 (Retry-After) or a lost connection; anything else
    fails the test."""
    while True:
        try:
            answer = await send()
        except httpx.TransportError as exc:
            ledger.answers[step, type(exc).__name__] += 1
            await asyncio.sleep(0.5)
            continue
        code = answer.json()["code"] if answer.headers["content-type"] == "application/problem+json" else ""
        ledger.answers[step, f"{answer.status_code} {code}".strip()] += 1
        if answer.status_code == success:
            return answer.json()
        assert answer.status_code == 503 and "Retry-After" in answer.headers, (step, answer.status_code, answer.text)
        ledger.refused.append(time.monotonic())
        await asyncio.sleep(float(answer.headers["Retry-After"]))


async def journey(http: httpx.AsyncClient, ledger: Ledger, n: int, campaign_id: int, sku_id: int,
                  sandbox_key: str) -> None:
    """One customer: sign in, open a group, pay, and the provider's confirmation."""
    began = time.monotonic()
    device = {"X-Device-Id": f"device-{n}", "X-Forwarded-For": f"10.9.{n >> 8 & 255}.{n & 255}"}
    signed_in = await until_answered(ledger, "sign in", lambda: http.post("/auth/dev-login", headers=device, json={
        "merchant_slug": "acme", "openid": f"failover-{n}", "nickname": f"顾客{n}"}), 200)
    shopper = {**device, "Authorization": f"Bearer {signed_in['token']}"}
    order = await until_answered(ledger, "order", lambda: http.post(
        "/orders", headers={**shopper, "Idempotency-Key": f"order-{n}"},
        json={"items": [{"sku_id": sku_id, "quantity": 1}], "address": ADDRESS,
              "campaign": {"kind": "group", "campaign_id": campaign_id}}), 201)
    ledger.orders[order["id"]] = order["total_fen"]
    pay = await until_answered(ledger, "pay", lambda: http.post(
        f"/orders/{order['id']}/pay", headers={**shopper, "Idempotency-Key": f"pay-{n}"}), 200)
    trade_no, amount = pay["params"]["out_trade_no"], pay["params"]["amount_fen"]
    ledger.payments.add(trade_no)
    body = payment_body(trade_no, amount)
    await until_answered(ledger, "notification", lambda: http.post(
        "/payments/notify/sandbox", content=body, headers=signed_headers(sandbox_key, body, datetime.now(UTC))), 200)
    ledger.confirmed.add(trade_no)
    ledger.done += 1
    ledger.done_after_kill += began > ledger.kill_at


async def waited(condition: Callable[[], bool], what: str, shoppers: list[asyncio.Task[None]]) -> None:
    """Until the condition holds; a shopper that stopped on an unexpected answer fails the test at once."""
    deadline = time.monotonic() + WAIT
    while not condition():
        for stopped in (task for task in shoppers if task.done()):
            stopped.result()
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.1)


async def serving(port: int) -> None:
    async with httpx.AsyncClient() as probe:
        async def answers() -> bool:
            try:
                return (await probe.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        deadline = time.monotonic() + WAIT
        while not await answers():
            assert time.monotonic() < deadline, "the server did not start"
            await asyncio.sleep(0.2)


async def primary_port(runtime) -> int:  # type: ignore[no-untyped-def]
    return int(await value(runtime, "SELECT inet_server_port()"))


async def test_orders_and_payments_survive_the_primary_dying(mall: Mall, runtime, server: Server) -> None:  # type: ignore[no-untyped-def]
    campaign_id = await group_campaign(mall, group_size=2)
    old_primary = await primary_port(runtime)
    # what makes an acknowledged commit survive: it is acknowledged once the secondary has it on disk
    assert await value(runtime, "SHOW synchronous_commit") == "on"
    assert (await value(runtime, "SHOW synchronous_standby_names")).startswith("ANY 1 (pgautofailover_standby_")
    await runtime.engine.dispose()  # the harness's own connections would only meet the dead primary
    ledger, numbers, stop = Ledger(), itertools.count(), asyncio.Event()
    await serving(server.port)
    ledger.moments["server answering"] = time.monotonic()

    async def shopper(http: httpx.AsyncClient) -> None:
        while not stop.is_set():
            await journey(http, ledger, next(numbers), campaign_id, mall.sku_id, runtime.settings.sandbox_key)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}/api/v1", timeout=60) as http:
        shoppers = [asyncio.create_task(shopper(http)) for _ in range(SHOPPERS)]
        try:
            await waited(lambda: ledger.done >= BEFORE_KILL, f"{BEFORE_KILL} journeys before the kill", shoppers)
            ledger.kill_at = ledger.moments["journeys before the kill"] = time.monotonic()
            await asyncio.to_thread(ha, "kill-primary")
            ledger.moments["primary stopped"] = time.monotonic()
            await waited(lambda: ledger.done_after_kill >= AFTER_PROMOTION,
                         f"{AFTER_PROMOTION} journeys begun after the kill (server log: {server.log})", shoppers)
            ledger.moments["journeys after the kill"] = time.monotonic()
            stop.set()
            await asyncio.gather(*shoppers)  # each journey under way finishes: none is left half done
            ledger.moments["journeys under way done"] = time.monotonic()
        finally:
            for task in shoppers:
                task.cancel()
            await asyncio.gather(*shoppers, return_exceptions=True)
    report(ledger)

    assert server.process.poll() is None, f"the server died: {server.log}"
    assert ledger.refused, "the primary was killed but no request met its absence: not a failover under load"
    assert await primary_port(runtime) != old_primary, "the secondary was not promoted"

    # every acknowledged order is on the new primary, and nothing else: each journey's retries made one order
    assert sorted(await rows(runtime, "SELECT id, total_fen FROM orders")) == sorted(ledger.orders.items())
    assert await rows(runtime, "SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) > 1") == []
    # every acknowledged payment is there, succeeded once, for its order's total
    assert sorted(r[0] for r in await rows(runtime, "SELECT out_trade_no FROM payments")) == sorted(ledger.payments)
    assert ledger.confirmed == ledger.payments
    assert await rows(runtime, """
        SELECT o.id FROM orders o LEFT JOIN payments p ON p.order_id = o.id AND p.status = 'succeeded'
        GROUP BY o.id, o.paid_fen, o.total_fen HAVING count(p.id) <> 1 OR o.paid_fen <> o.total_fen
            OR sum(p.amount_fen) <> o.total_fen""") == []
    assert await value(runtime, "SELECT count(*) FROM payment_notifications") == len(ledger.orders)
    # the contended counters equal the live orders
    live = await value(runtime, "SELECT count(*) FROM orders WHERE status NOT IN ('cancelled', 'refunded')")
    assert live == len(ledger.orders)
    assert await value(runtime, "SELECT stock FROM skus WHERE id = :s", s=mall.sku_id) == STOCK - live
    assert await value(runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == live


def report(ledger: Ledger) -> None:
    """What the run went through, for `pytest -s` and the operator's notes."""
    refused = ledger.refused or [ledger.kill_at]
    previous = ledger.moments["start"]
    for moment, at in ledger.moments.items():
        print(f"{moment}: {at - previous:.1f} s")
        previous = at
    print(f"journeys: {ledger.done} ({ledger.done_after_kill} begun after the kill)"
          f"\n503s: {len(ledger.refused)}, from {refused[0] - ledger.kill_at:.1f} s to "
          f"{refused[-1] - ledger.kill_at:.1f} s after the kill")
    for (step, answer), count in sorted(ledger.answers.items()):
        print(f"  {step:>12}  {answer:<28} {count}")

