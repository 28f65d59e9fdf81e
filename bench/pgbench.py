"""The database's ceiling for each write path: pgbench replays the statements the app sends (bench/pgbench/*.sql,
written from the capture), each request its own transaction at the same isolation level, on fixture rows shaped
like the scenario's, at every client count of a sweep (1, 2, 4 … 64 and the HTTP phase's own). A path whose
journeys queue on one hot row peaks at a few clients and falls as more wait on the row, so its ceiling is the best
point of the sweep: HTTP / best ceiling says how much of what PostgreSQL can do on these statements the API
delivers, and the point at the HTTP phase's client count is kept next to it. PostgreSQL only: an SQLite file has no
server to replay statements against, so a run on SQLite has no ceilings.

Every point runs on fixtures of its own: an active copy of the scenario's campaign (sold = 0), and open groups,
bargains or assist packets with room to spare, so that every replayed journey does the work a successful request
does and no point inherits the hot rows of the one before. A point is a timed run (`-T`), except where the mirror
races for a cap (flash): a timed run would add losers until time is up, so each point replays a race of a fixed
number of racers for a cap scaled to keep the HTTP race's share of winners. Each sweep starts with VACUUM (ANALYZE):
the HTTP phase has just written a great deal, and autovacuum may be off (it is on the bench machine).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.engine import make_url

from bench.driver import Report
from fissionmall.core.counters import day_of

if TYPE_CHECKING:
    from bench.runner import Bench

SCRIPTS = Path(__file__).parent / "pgbench"
ROOM = 1_000_000
"""Seats, cuts or helps a fixture row has to spare: never the limit in a replay."""
RACE = 5_000
"""Racers in each point of a race's sweep (the flash scenario's --quick race is 2,000, its full one 20,000): 1–5 s
a point on the bench machine, losers being cheap."""


@dataclass(frozen=True)
class Mirror:
    """A phase's pgbench script and the variables naming one point's fixture rows."""

    phase: str
    script: str
    variables: dict[str, Any]
    journeys: int | None = None
    """None: each point is a timed run. A number: each point replays exactly that many journeys."""
    note: str = ""
    """What a reader of the figures must know about how the points were run."""


MirrorFactory = Callable[["Bench", Report, dict[str, int]], Awaitable[Mirror]]
"""Makes fresh fixture rows for one point of a sweep, from the scenario's ids, and names them."""


@dataclass(frozen=True)
class Sweep:
    """The client counts every mirror is replayed at, and how long each timed point runs."""

    binary: str
    clients: tuple[int, ...]
    seconds: int


@dataclass(frozen=True)
class Point:
    clients: int
    tps: float | None
    note: str = ""


@dataclass
class Ceiling:
    """A phase's statements replayed by pgbench at each client count, next to the HTTP rate of the phase."""

    phase: str
    script: str
    http_clients: int
    """The client count standing for the HTTP phase's (its own, unless the server had fewer connections free)."""
    http_rate: float
    points: list[Point] = field(default_factory=list)
    seconds: float = 0
    """Wall time of the whole sweep, fixtures included."""
    note: str = ""

    @property
    def best(self) -> Point | None:
        measured = [p for p in self.points if p.tps]
        return max(measured, key=lambda p: p.tps or 0) if measured else None

    @property
    def at_http_clients(self) -> Point | None:
        return next((p for p in self.points if p.clients == self.http_clients), None)

    @property
    def share(self) -> float | None:
        """HTTP journeys/s ÷ the best ceiling."""
        best = self.best
        return self.http_rate / best.tps if best and best.tps else None


def pgbench_binary() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    return str(candidates[-1]) if candidates else None


async def copy_campaign(b: Bench, campaign_id: int, stock_cap: int | None = None) -> int:
    """An active copy of a campaign, nothing sold, the same settings and the same cap unless another is given."""
    return int(
        await b.value(
            """
        INSERT INTO campaigns (merchant_id, kind, name, status, settings, product_id, starts_at, ends_at, stock_cap,
                               sold, created_at)
        SELECT merchant_id, kind, name || ' (pgbench)', 'active', settings, product_id, now() - interval '1 minute',
               now() + interval '1 day', coalesce($2::int, stock_cap), 0, now()
        FROM campaigns WHERE id = $1 RETURNING id""",
            campaign_id,
            stock_cap,
        )
    )


async def fixture_rows(b: Bench, sql: str, count: int, *arguments: Any) -> tuple[int, int]:
    """Insert `count` rows with `sql` (a statement over generate_series(1, $1) RETURNING id): (first id, count)."""
    ids = [r["id"] for r in await b.db.fetch(sql, count, *arguments)]
    return min(ids), len(ids)


async def group_mirror(b: Bench, report: Report, ids: dict[str, int]) -> Mirror:
    campaign = await copy_campaign(b, ids["campaign"])
    groups = await b.value("SELECT count(*) FROM buying_groups WHERE campaign_id = $1", ids["campaign"])
    first, count = await fixture_rows(
        b,
        """
        INSERT INTO buying_groups (merchant_id, campaign_id, leader_id, size, paid_count, status, opened_at, expires_at)
        SELECT 1, $2, g, $3, 1, 'open', now(), now() + interval '1 day' FROM generate_series(1, $1) g
        RETURNING id""",
        groups,
        campaign,
        ROOM,
    )
    price = await b.value(
        "SELECT (settings -> 'skus' -> 0 ->> 'group_price_fen')::int FROM campaigns WHERE id = $1", campaign
    )
    return Mirror(
        "join + pay",
        "group_join.sql",
        {"campaign": campaign, "sku": ids["sku"], "price": price, "groups_first": first, "groups_count": count},
    )


async def flash_mirror(b: Bench, report: Report, ids: dict[str, int]) -> Mirror:
    """A race of RACE racers for the cap scaled to them: the HTTP race's share of winners, at any size."""
    cap = max(1, round(ids["seats"] * RACE / ids["racers"]))
    campaign = await copy_campaign(b, ids["campaign"], stock_cap=cap)
    price = await b.value(
        "SELECT (settings -> 'skus' -> 0 ->> 'group_price_fen')::int FROM campaigns WHERE id = $1", campaign
    )
    variables = {"campaign": campaign, "sku": ids["sku"], "price": price, "product": 2}
    note = f"each point a race of {RACE:,} racers for {cap} units"
    return Mirror("race", "flash_race.sql", variables, journeys=RACE, note=note)


async def bargain_mirror(b: Bench, report: Report, ids: dict[str, int]) -> Mirror:
    campaign = await copy_campaign(b, ids["campaign"])
    bargains = await b.value("SELECT count(*) FROM bargains WHERE campaign_id = $1", ids["campaign"])
    first, count = await fixture_rows(
        b,
        """
        INSERT INTO bargains (merchant_id, campaign_id, customer_id, sku_id, start_price_fen, floor_price_fen,
                              self_cut_fen, price_fen, helps_needed, helps_done, schedule, salt, schedule_hash, status,
                              created_at, expires_at)
        SELECT 1, $2, g, 5, 100000000, 0, 0, 100000000, $3, 0, '[3, 2, 2, 1, 1]', md5(g::text), md5(g::text) ||
               md5(g::text), 'ongoing', now(), now() + interval '1 day'
        FROM generate_series(1, $1) g RETURNING id""",
        bargains,
        campaign,
        ROOM,
    )
    variables = {"campaign": campaign, "bargains_first": first, "bargains_count": count}
    return Mirror("helps", "bargain_help.sql", variables)


async def viral_mirror(b: Bench, report: Report, ids: dict[str, int]) -> Mirror:
    campaign = await copy_campaign(b, ids["assist"])
    packets = await b.value("SELECT count(*) FROM assist_packets WHERE campaign_id = $1", ids["assist"])
    first, count = await fixture_rows(
        b,
        """
        INSERT INTO assist_packets (merchant_id, campaign_id, customer_id, helpers_needed, helps_done, status,
                                    prize_fen, owner_device_id, owner_ip, created_at, expires_at)
        SELECT 1, $2, g, $3, 0, 'open', 0, 'dev-' || g, '10.0.0.1', now(), now() + interval '1 day'
        FROM generate_series(1, $1) g RETURNING id""",
        packets,
        campaign,
        ROOM,
    )
    return Mirror(
        "burst",
        "viral_burst.sql",
        {"campaign": campaign, "packet": ids["packet"], "assists_first": first, "assists_count": count},
    )


async def order_mirror(b: Bench, report: Report, ids: dict[str, int]) -> Mirror:
    """Newcomers need no fixture rows: each journey signs a new customer up, as the load did."""
    return Mirror("first orders", "order.sql", {key: ids[key] for key in
                                                 ("template", "product", "sku", "price", "adjustment", "total")})


MIRRORS: dict[str, MirrorFactory] = {
    "group": group_mirror,
    "flash": flash_mirror,
    "bargain": bargain_mirror,
    "viral": viral_mirror,
    "order": order_mirror,
}
"""Scenario → its mirror's factory. A scenario with a script in bench/pgbench/ gets its sweep from an entry here and
one `await b.ceilings("<scenario>", report, **ids)` after its phase; the ids reach the factory."""


def declared(script: str) -> dict[str, int]:
    """The `-- mirrors: <request> = <statements>` lines of a script's header."""
    text = (SCRIPTS / script).read_text()
    return {m.group(1).strip(): int(m.group(2)) for m in re.finditer(r"^-- mirrors: (.+) = (\d+)$", text, re.M)}


def staleness(captured: dict[str, int], script: str) -> str:
    """Where the app now sends another number of statements than a mirror replays (src/ changed since)."""
    stale = []
    for request, count in declared(script).items():
        now = captured.get(request)
        if now is not None and now != count:
            stale.append(f"{request}: app {now}, {script} {count}")
    return "MIRROR OUT OF DATE: " + "; ".join(stale) if stale else ""


async def run_ceilings(b: Bench, scenario: str, report: Report, ids: dict[str, int]) -> list[Ceiling]:
    """Vacuum, then replay the scenario's mirror at every client count of the sweep, each point on fresh fixtures."""
    sweep = b.run.sweep
    if scenario not in MIRRORS or sweep is None:
        return []
    await vacuum(b, scenario)
    free = await b.value("SELECT current_setting('max_connections')::int - count(*) - 5 FROM pg_stat_activity")
    http_clients = max(1, min(report.concurrency, free))
    counts = sorted({max(1, min(c, free)) for c in sweep.clients} | {http_clients})
    fixed = {"customers": await b.value("SELECT count(*) FROM customers"), "day": day_of(datetime.now(UTC)), "k": 0}
    points, started = [], time.monotonic()
    with Progress(
        TextColumn("  pgbench {task.description}"), BarColumn(), MofNCompleteColumn(), console=b.console, transient=True
    ) as progress:
        task = progress.add_task(scenario, total=len(counts))
        for clients in counts:
            mirror = await MIRRORS[scenario](b, report, ids)
            progress.update(task, description=f"{mirror.script}, {clients} clients")
            variables = dict(mirror.variables, run=time.time_ns() // 1_000_000, **fixed)
            points.append(await replay(b, sweep, mirror, variables, clients))
            progress.advance(task)
    notes = [mirror.note, staleness(b.run.statements, mirror.script)]
    if http_clients < report.concurrency:
        notes.insert(0, f"only {free} connections free on the server")
    return [
        Ceiling(
            mirror.phase,
            mirror.script,
            http_clients,
            report.journeys / report.seconds,
            points,
            time.monotonic() - started,
            "; ".join(n for n in notes if n),
        )
    ]


async def vacuum(b: Bench, scenario: str) -> None:
    """The HTTP phase leaves dead row versions behind and autovacuum may be off: no sweep should pay for them."""
    started = time.monotonic()
    with b.console.status(f"VACUUM (ANALYZE) before the {scenario} sweep …"):
        await b.db.execute("VACUUM (ANALYZE)")
    b.console.print(
        f"VACUUM (ANALYZE) of the bench database before the {scenario} sweep: {time.monotonic() - started:.1f} s"
    )


async def replay(b: Bench, sweep: Sweep, mirror: Mirror, variables: dict[str, Any], clients: int) -> Point:
    """One point of the sweep: the mirror's script at `clients` clients, timed or for its fixed number of journeys."""
    url = make_url(b.system.database_url)
    length = ["-t", str(math.ceil(mirror.journeys / clients))] if mirror.journeys else ["-T", str(sweep.seconds)]
    command = [
        sweep.binary,
        *("-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"),
        "-n",
        *("-M", "prepared"),  # as asyncpg: every statement parsed once per connection
        *("-c", str(clients), "-j", str(min(2, clients))),
        *length,
    ]
    for key, value in variables.items():
        command += ["-D", f"{key}={value}"]
    command += ["-f", str(SCRIPTS / mirror.script), url.database or ""]
    env = dict(os.environ, PGPASSWORD=url.password) if url.password else None
    finished = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", finished.stdout)
    failures = re.search(r"number of failed transactions: (\d+)", finished.stdout)
    if finished.returncode != 0 or tps is None:
        return Point(
            clients,
            None,
            f"pgbench failed ({finished.returncode}): {(finished.stderr or finished.stdout).strip()[-300:]}",
        )
    note = f"{failures.group(1)} failed transactions" if failures and int(failures.group(1)) else ""
    return Point(clients, float(tps.group(1)), note)
