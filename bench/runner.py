"""What a scenario is given to work with: customers with tokens, the admin API, the bench database (PostgreSQL or
SQLite, behind one handle), and one way to run a phase of journeys, which is either the load driver (a measured run)
or the in-process statement capture (one customer per phase, every SQL statement kept), so both see exactly the same
scenario code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.capture import Capture
from bench.database import Database
from bench.dataset import MERCHANT, OWNER, OWNER_PASSWORD
from bench.driver import Load, Report, run_load
from bench.machine import Meter
from bench.pgbench import Ceiling, Sweep, run_ceilings
from bench.server import System
from fissionmall.core.tokens import SigningKeys, sign_token

Mode = Literal["load", "capture"]


@dataclass
class Check:
    """An invariant read back by SQL after the load; a failure makes the bench exit non-zero."""

    name: str
    actual: Any
    expected: Any

    @property
    def ok(self) -> bool:
        return bool(self.actual == self.expected)


@dataclass
class Outcome:
    """All a scenario produced: the phases' reports, the invariants, the pgbench ceilings."""

    name: str
    title: str
    phases: list[tuple[str, Report]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    ceilings: list[Ceiling] = field(default_factory=list)


class Admin:
    """The merchant's console calls a scenario needs, through the real admin API."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=60)
        self.token = ""

    async def login(self) -> None:
        answer = await self.client.post(
            "/admin/auth/login", json={"merchant_slug": MERCHANT, "username": OWNER, "password": OWNER_PASSWORD}
        )
        answer.raise_for_status()
        self.token = answer.json()["token"]

    async def _post(self, path: str, body: Any = None) -> dict[str, Any]:
        answer = await self.client.post(path, json=body, headers={"Authorization": f"Bearer {self.token}"})
        if answer.status_code >= 400:
            raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text[:500]}")
        result: dict[str, Any] = answer.json()
        return result

    async def campaign(self, kind: str, name: str, settings: dict[str, Any], stock_cap: int | None = None) -> int:
        """Create and activate a campaign running from a minute ago until tomorrow; its id."""
        now = datetime.now(UTC)
        created = await self._post(
            "/admin/campaigns",
            {
                "kind": kind,
                "name": name,
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(days=1)).isoformat(),
                "stock_cap": stock_cap,
                "settings": settings,
            },
        )
        await self._post(f"/admin/campaigns/{created['id']}/activate")
        return int(created["id"])

    async def end(self, campaign_id: int) -> None:
        await self._post(f"/admin/campaigns/{campaign_id}/end")

    async def coupon_template(self, body: dict[str, Any]) -> int:
        return int((await self._post("/admin/coupon-templates", body))["id"])

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class Run:
    """What every scenario of one bench run shares."""

    quick: bool
    system: System
    db: Database
    console: Console
    admin: Admin
    concurrency: int | None
    sweep: Sweep | None
    """The pgbench ceilings' client counts, or None for no ceilings (SQLite, --no-pgbench, no pgbench)."""
    statements: dict[str, int] = field(default_factory=dict)
    """From the capture: '<scenario>/<phase> · <request> → <answer>' → statements sent in its transaction."""


class Bench:
    """One scenario's view of the run, in one mode: measured under load, or captured in-process."""

    def __init__(
        self, run: Run, mode: Mode, outcome: Outcome, first_customer: int, capture: Capture | None = None
    ) -> None:
        self.run, self.mode, self.outcome, self.capture = run, mode, outcome, capture
        self.quick, self.system, self.db, self.console = run.quick, run.system, run.db, run.console
        self.admin = run.admin
        self.next_customer = first_customer

    def size(self, full: int, quick: int, capture: int = 1) -> int:
        return capture if self.mode == "capture" else quick if self.quick else full

    def customers(self, count: int, **fields: Any) -> list[dict[str, Any]]:
        """`count` customers no earlier phase has used, with a shopper token minted as dev-login would."""
        ids = range(self.next_customer, self.next_customer + count)
        self.next_customer += count
        now = datetime.now(UTC)
        return [
            dict(
                fields,
                id=i,
                token=sign_token(
                    SigningKeys(self.system.secret_key),
                    {"aud": "shopper", "sub": str(i), "mid": 1},
                    now=now,
                    ttl=timedelta(hours=12),
                ),
            )
            for i in ids
        ]

    @property
    def context(self) -> dict[str, Any]:
        return {"merchant": MERCHANT, "sandbox_key": self.system.sandbox_key}

    async def phase(self, name: str, journey: str, users: list[dict[str, Any]], concurrency: int = 64) -> Report | None:
        """Run every user's journey: under the load driver (measured), or once each under the statement capture."""
        if self.mode == "capture":
            assert self.capture is not None
            await self.capture.run(f"{self.outcome.name}/{name}", journey, users, self.context)
            return None
        clients = self.run.concurrency or concurrency
        meter = Meter({p.pid for p in self.system.processes})
        meter.start()
        with Progress(
            TextColumn(f"  {name}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        ) as progress:
            task = progress.add_task(name, total=len(users))
            report = run_load(
                Load(journey, users, clients, "127.0.0.1", self.system.port, self.context),
                lambda done: progress.update(task, completed=done),
            )
        report.usage = meter.stop(await self.db.backend_pids(), report.driver_cpu_seconds)
        self.outcome.phases.append((name, report))
        return report

    async def check(self, name: str, actual: Any, expected: Any) -> None:
        if self.mode == "load":
            self.outcome.checks.append(Check(name, actual, expected))

    async def ceilings(self, scenario: str, report: Report | None, **ids: int) -> None:
        """The pgbench mirror of the scenario's write path, swept over client counts, next to the HTTP phase's rate."""
        if self.mode == "load" and report is not None:
            self.outcome.ceilings += await run_ceilings(self, scenario, report, ids)

    async def value(self, sql: str, *arguments: Any) -> Any:
        return await self.db.value(sql, *arguments)

    async def wait_for(self, what: str, probe: Callable[[], Any], seconds: float = 60) -> Any:
        """Poll until the worker has done something (a job), or stop the bench with a clear message."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = await probe()
            if found:
                return found
            await asyncio.sleep(0.2)
        raise RuntimeError(f"timed out waiting for {what} (is the worker running? see bench/out/worker.log)")
