"""Load benchmark of Fission Mall on PostgreSQL or on the embedded SQLite default.

    .venv/bin/python -m bench [group flash bargain viral browse] [--quick]
    .venv/bin/python -m bench --database-url sqlite+aiosqlite:///bench/out/fm_bench.db [--quick] [scenario ...]
    .venv/bin/python -m bench group --quick --pooler-url postgresql+asyncpg://postgres@127.0.0.1:6432/fm_bench
    .venv/bin/python -m bench group --quick --balanced
    .venv/bin/python -m bench recommend        # offline: recall@10 of each recommendation strategy (bench/recommend.py)

Creates its own database (dropped or deleted first), loads a merchant, its catalogue and 100,000 customers by SQL,
starts the server as in production (`fissionmall serve --workers N`, plus `fissionmall worker`), captures the SQL
each write request issues (in-process, one customer per phase), then drives every scenario from a separate process
and prints, per request, the rate and latency, every answer by status and problem code, the invariants read back by
SQL, and on PostgreSQL the same statements replayed by pgbench at 1, 2, 4 … 64 clients, the best of which is the
database's ceiling. An invariant violated exits with 1; no timing ever fails anything.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from bench import database, dataset, report
from bench.capture import Capture
from bench.pgbench import Sweep, pgbench_binary
from bench.runner import Admin, Bench, Outcome, Run
from bench.scenarios import SCENARIOS
from bench.server import BALANCER_PORT, HOST_PORTS, System
from fissionmall.config import load_settings

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/fm_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
DEFAULT_WORKERS = {"postgresql": 2, "sqlite": 1}
"""uvicorn worker processes by database. SQLite gets 1, chosen by measuring 1 against 2 (seven --quick runs,
alternated, on the 2-core machine while another job took up to one core): no phase was consistently faster with 2
(each within ±20% either way, run to run), browse's p99 was lower with 1 (2.5–3.4 s against 4.3–5.9 s), and 2
processes never used more than 1.1 cores even with the other core idle. Every transaction, reads included, takes
the file's one write lock at BEGIN (BEGIN IMMEDIATE, fissionmall/db/engine.py) and keeps it to its commit, so a
second process adds lock polling, not throughput; 1 is also what `fissionmall serve` runs by default on SQLite."""


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "scenarios",
        nargs="*",
        choices=[[], *SCENARIOS],
        metavar="scenario",
        help=f"any of {', '.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a minute or two")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help="a PostgreSQL database (dropped and created anew) or sqlite+aiosqlite:///a/file.db (deleted and created "
        "anew) (default: %(default)s)",
    )
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS,
        help="velocity counters and the admission gate, as in production; '' keeps them in the database "
        "(default: %(default)s)",
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=None, help="connections of the driver (default: 64)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"uvicorn worker processes (default: {DEFAULT_WORKERS['postgresql']} on PostgreSQL, "
        f"{DEFAULT_WORKERS['sqlite']} on SQLite)",
    )
    parser.add_argument("--no-pgbench", action="store_true", help="skip the pgbench ceilings (PostgreSQL only)")
    parser.add_argument(
        "--pooler-url",
        default=None,
        help="the API servers connect through this PgBouncer in transaction mode (scripts/pgbouncer.sh), in front "
        "of --database-url's database, with DATABASE_POOLER=pgbouncer; the bench and the job worker connect directly",
    )
    parser.add_argument(
        "--balanced",
        action="store_true",
        help=f"two API servers, on ports {HOST_PORTS[0]} and {HOST_PORTS[1]} as two hosts, each with half the "
        f"--workers, behind HAProxy on {BALANCER_PORT} (scripts/balanced.sh); prints the requests each answered",
    )
    parser.add_argument(
        "--ceiling-clients",
        type=client_counts,
        default=CEILING_CLIENTS,
        help="client counts of each pgbench sweep, comma-separated; the HTTP phase's own is always added "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--ceiling-seconds",
        type=int,
        default=None,
        help=f"length of each timed pgbench point (default: {CEILING_SECONDS[False]}, "
        f"with --quick {CEILING_SECONDS[True]})",
    )
    options = parser.parse_args()
    options.database_url = database.absolute(options.database_url)
    if options.pooler_url and not options.pooler_url.startswith("postgresql+asyncpg://"):
        parser.error("--pooler-url: a postgresql+asyncpg:// URL of the same database through PgBouncer")
    return options


def system_of(options: argparse.Namespace, dialect: str) -> System:
    workers = options.workers or DEFAULT_WORKERS[dialect]
    if options.balanced:
        return System(options.database_url, options.redis_url or None, max(1, workers // 2), port=BALANCER_PORT,
                      pooler_url=options.pooler_url, hosts=HOST_PORTS)
    return System(options.database_url, options.redis_url or None, workers, pooler_url=options.pooler_url)


async def prepare_database(console: Console, url: str, customers: int) -> None:
    with console.status("creating and migrating the bench database …"):
        await dataset.create(url)
    with Progress(
        TextColumn("loading customers"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task("customers", total=customers)
        await dataset.load(url, customers, lambda n: progress.advance(task, n))
    console.print(f"database ready ({url}): 1 merchant, {dataset.PRODUCTS} products, {customers:,} customers")


async def forget_velocity(redis_url: str) -> None:
    """Velocity windows of an earlier run would refuse this run's helps: drop the bench merchant's keys."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter("fm:velocity:1:*", count=1000)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


CEILING_CLIENTS = "1,2,4,8,16,32,64"
CEILING_SECONDS = {False: 5, True: 2}
"""Seconds of each timed pgbench point, by --quick: long enough for a few hundred journeys at the slowest point."""


def client_counts(text: str) -> tuple[int, ...]:
    counts = tuple(sorted({int(n) for n in text.split(",") if n.strip()}))
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"client counts must be positive integers: {text!r}")
    return counts


def sweep_of(console: Console, options: argparse.Namespace, dialect: str) -> Sweep | None:
    """How the pgbench ceilings will be swept, or None (and why) when there are none."""
    if options.no_pgbench:
        return None
    if dialect == "sqlite":
        console.print("pgbench ceilings: not applicable on SQLite (no database server to replay the statements on)")
        return None
    binary = pgbench_binary()
    if binary is None:
        console.print("pgbench ceilings: [bold yellow]pgbench not found[/] (PATH, /usr/lib/postgresql/*/bin)")
        return None
    return Sweep(binary, options.ceiling_clients, options.ceiling_seconds or CEILING_SECONDS[options.quick])


CAPTURE_CUSTOMERS = 1000
"""The last customers are kept for the statement capture, which uses a few per phase."""


async def main(options: argparse.Namespace) -> int:
    console = Console(width=None if sys.stdout.isatty() else 170)
    names = options.scenarios or list(SCENARIOS)
    await prepare_database(console, options.database_url, options.customers)
    if options.redis_url:
        await forget_velocity(options.redis_url)
    db = await database.connect(options.database_url)
    system = system_of(options, db.dialect)
    sweep = sweep_of(console, options, db.dialect)
    run = Run(options.quick, system, db, console, Admin(system.base_url), options.concurrency, sweep)
    outcomes: list[Outcome] = []
    try:
        with console.status("starting the server and the worker …"):
            system.start_server()
            system.start_worker()
            await run.admin.login()
        console.print(f"server: {describe(system)}; job worker running")
        await capture_statements(run, names, first_customer=options.customers - CAPTURE_CUSTOMERS + 1)
        next_customer = 1
        for name in names:
            console.rule(f"{name}: {SCENARIOS[name][0]}")
            bench = Bench(run, "load", Outcome(name, SCENARIOS[name][0]), next_customer)
            await SCENARIOS[name][1](bench)
            next_customer = bench.next_customer
            report.show(console, bench.outcome)
            outcomes.append(bench.outcome)
        if system.hosts:
            answered = system.requests_by_host()
            console.print("requests answered by each host (HAProxy): "
                          + ", ".join(f"{host} {count:,}" for host, count in answered.items()))
    finally:
        await run.admin.close()
        await db.close()
        system.stop()
    report.summary(console, outcomes)
    violated = [c for o in outcomes for c in o.checks if not c.ok]
    if violated:
        console.print(
            f"[bold white on red] {len(violated)} INVARIANT(S) VIOLATED [/] " + "; ".join(c.name for c in violated)
        )
        return 1
    return 0


def describe(system: System) -> str:
    through = f", connecting through PgBouncer ({system.pooler_url})" if system.pooler_url else ""
    if system.hosts:
        return (f"{system.base_url} (HAProxy, round robin) in front of {len(system.hosts)} hosts on ports "
                f"{', '.join(map(str, system.hosts))}, {system.workers} worker process(es) each{through}")
    return f"{system.base_url}, {system.workers} worker processes{through}"


async def capture_statements(run: Run, names: list[str], first_customer: int) -> None:
    """Run each scenario with one customer per phase, in-process, keeping every statement each request sends."""
    env = run.system.environment()
    settings = load_settings(
        database_url=env["DATABASE_URL"],
        secret_key=env["SECRET_KEY"],
        dev_login=True,
        test_deployment=True,
        sandbox_key=env["SANDBOX_KEY"],
        redis_url=env.get("REDIS_URL"),
        media_dir=env["MEDIA_DIR"],
        public_base_url=env["PUBLIC_BASE_URL"],
    )
    capture = Capture(settings)
    try:
        with run.console.status("capturing the SQL of one request of each kind …"):
            for name in names:
                bench = Bench(run, "capture", Outcome(name, SCENARIOS[name][0]), first_customer, capture)
                await SCENARIOS[name][1](bench)
                first_customer = bench.next_customer
    finally:
        await capture.close()
    run.statements = {key: capture.statements_of(key) for key in capture.requests}
    files = capture.write()
    run.console.print(
        f"statements captured for {len(capture.requests)} kinds of request: "
        f"{', '.join(str(f.relative_to(Path.cwd())) for f in files)}"
    )


OFFLINE = {"recommend": "bench.recommend"}
"""Benchmarks that start no server: `python -m bench <name> [options]` runs the module's main(argv) instead."""

if __name__ == "__main__":
    if sys.argv[1:2] and sys.argv[1] in OFFLINE:
        sys.exit(importlib.import_module(OFFLINE[sys.argv[1]]).main(sys.argv[2:]))
    sys.exit(asyncio.run(main(arguments())))
