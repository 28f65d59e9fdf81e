"""The system under test, as it runs in production: `fissionmall serve` (uvicorn, several worker processes, no
job worker inside) and, when a scenario needs background jobs, a separate `fissionmall worker`; both started as
subprocesses with settings from the environment, their output kept in bench/out/.

On SQLite every one of these processes opens the same file (WAL, BEGIN IMMEDIATE, a busy timeout: see
fissionmall/db/engine.py), so the bench also shows that several processes can share it under load.

Beyond one machine (docs/scaling.md): the API servers may connect through PgBouncer (`pooler_url`), and may run as
two hosts, each its own `fissionmall serve` on its own port, behind HAProxy (`hosts`, scripts/balanced.sh)."""

from __future__ import annotations

import csv
import io
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

OUT = Path(__file__).parent / "out"
FISSIONMALL = Path(sys.executable).parent / "fissionmall"
BALANCED = Path(__file__).parent.parent / "scripts" / "balanced.sh"
BALANCER_PORT, HOST_PORTS = 8800, (8801, 8802)


def test_deployment_settings() -> dict[str, str]:
    """What a bench deployment sets besides its database: it is a test deployment (the sandbox provider and dev
    login, which start-up refuses on PostgreSQL otherwise), with fresh random keys."""
    return {"TEST_DEPLOYMENT": "true", "SECRET_KEY": secrets.token_urlsafe(48),
            "SANDBOX_KEY": secrets.token_urlsafe(48)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class System:
    """The settings every process of the system under test shares, and the processes started so far."""

    database_url: str
    redis_url: str | None
    workers: int = 2
    """uvicorn worker processes of each API server."""
    port: int = field(default_factory=free_port)
    pooler_url: str | None = None
    """A PgBouncer in transaction mode in front of `database_url`'s database: the API servers connect through it;
    the job worker keeps a direct connection, as a worker waiting on LISTEN must."""
    hosts: tuple[int, ...] = ()
    """Ports of API servers that stand for separate hosts, behind HAProxy on `port`; none: one server on `port`."""
    keys: dict[str, str] = field(default_factory=test_deployment_settings)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def secret_key(self) -> str:
        return self.keys["SECRET_KEY"]

    @property
    def sandbox_key(self) -> str:
        return self.keys["SANDBOX_KEY"]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = dict(
            os.environ,
            DATABASE_URL=self.database_url,
            **self.keys,
            DEV_LOGIN="true",
            PUBLIC_BASE_URL=self.base_url,
            DEFAULT_MERCHANT="bench",
            MEDIA_DIR=str(OUT / "media"),
            LOG_LEVEL="WARNING",
            PAYMENT_PROVIDER="sandbox",
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def server_environment(self) -> dict[str, str]:
        if self.pooler_url is None:
            return self.environment()
        return dict(self.environment(), DATABASE_URL=self.pooler_url, DATABASE_POOLER="pgbouncer")

    def _start(self, name: str, *arguments: str, program: tuple[str, ...] = (str(FISSIONMALL),),
               env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        OUT.mkdir(exist_ok=True)
        log = (OUT / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [*program, *arguments],
            env=env or self.environment(),
            stdout=log,
            stderr=log,
            cwd=OUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def start_server(self) -> None:
        """One server on `port`; or one per host port, then HAProxy in front of them once they all answer (its first
        health checks would otherwise mark a server still starting as down)."""
        for port, name in [(port, f"server-{port}") for port in self.hosts] or [(self.port, "server")]:
            process = self._start(name, "serve", "--workers", str(self.workers), "--port", str(port),
                                  "--no-with-worker", env=self.server_environment())
            self._wait_for(process, port, name)
        if self.hosts:
            balancer = self._start("balancer", "balancer", program=("bash", str(BALANCED)), env=dict(
                self.environment(), BALANCER_PORT=str(self.port), HOST_PORTS=" ".join(map(str, self.hosts))))
            self._wait_for(balancer, self.port, "balancer")

    def _wait_for(self, process: subprocess.Popen[bytes], port: int, name: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the {name} exited with {process.returncode}: see {OUT / name}.log")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/categories?merchant=bench", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the {name} did not answer within 60 s: see {OUT / name}.log")

    def requests_by_host(self) -> dict[str, int]:
        """What HAProxy counted: the requests each host's server answered."""
        stats = httpx.get(f"{self.base_url}/haproxy-stats;csv", timeout=5).text.lstrip("# ")
        return {row["svname"]: int(row["req_tot"] or row["stot"]) for row in csv.DictReader(io.StringIO(stats))
                if row["pxname"] == "api" and row["svname"] != "BACKEND"}

    def start_worker(self) -> None:
        self._start("worker", "worker")

    def stop(self) -> None:
        """Stop what this bench started (its own process groups), gently first."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
