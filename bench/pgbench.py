"""The database's ceiling for each write path: pgbench replays the statements the app sends (bench/pgbench/*.sql,
written from the capture) with the same number of clients, each request its own transaction at the same isolation
level, for as many journeys as the HTTP phase ran, on fixture rows shaped like the scenario's. The ratio HTTP / DB
ceiling says how much of what PostgreSQL could do on these statements the API actually delivers. PostgreSQL only:
an SQLite file has no server to replay statements against, so a run on SQLite has no ceilings.

Fixtures are fresh copies: an active copy of the scenario's campaign (sold = 0, same cap), and open groups,
bargains or assist packets with room to spare, so that every replayed journey does the work a successful request
does (the flash mirror keeps the cap, so it sells out exactly as the HTTP race did).
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.driver import Report
from fissionmall.core.counters import day_of

if TYPE_CHECKING:
    from bench.runner import Bench, Ceiling

SCRIPTS = Path(__file__).parent / "pgbench"
ROOM = 1_000_000
"""Seats, cuts or helps a fixture row has to spare: never the limit in a replay."""


@dataclass(frozen=True)
class Mirror:
    phase: str
    script: str
    variables: dict[str, Any]


def pgbench_binary() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    return str(candidates[-1]) if candidates else None


async def copy_campaign(b: Bench, campaign_id: int) -> int:
    """An active copy of a campaign, nothing sold, the same settings and cap."""
    return int(
        await b.value(
            """
        INSERT INTO campaigns (merchant_id, kind, name, status, settings, product_id, starts_at, ends_at, stock_cap,
                               sold, created_at)
        SELECT merchant_id, kind, name || ' (pgbench)', 'active', settings, product_id, now() - interval '1 minute',
               now() + interval '1 day', stock_cap, 0, now()
        FROM campaigns WHERE id = $1 RETURNING id""",
            campaign_id,
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
    campaign = await copy_campaign(b, ids["campaign"])
    price = await b.value(
        "SELECT (settings -> 'skus' -> 0 ->> 'group_price_fen')::int FROM campaigns WHERE id = $1", campaign
    )
    return Mirror("race", "flash_race.sql", {"campaign": campaign, "sku": ids["sku"], "price": price, "product": 2})


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


MIRRORS = {"group": group_mirror, "flash": flash_mirror, "bargain": bargain_mirror, "viral": viral_mirror}


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
    from bench.runner import Ceiling

    if scenario not in MIRRORS:
        return []
    binary = pgbench_binary()
    mirror = await MIRRORS[scenario](b, report, ids)
    free = await b.value("SELECT current_setting('max_connections')::int - count(*) - 5 FROM pg_stat_activity")
    clients = max(1, min(report.concurrency, report.journeys, free))
    unit = report.journeys
    http_rate = unit / report.seconds
    name = mirror.script
    if binary is None:
        return [Ceiling(mirror.phase, name, clients, None, http_rate, "pgbench not found")]
    variables = dict(
        mirror.variables,
        run=int(time.time()),
        customers=await b.value("SELECT count(*) FROM customers"),
        day=day_of(datetime.now(UTC)),
        k=0,
    )
    command = [
        binary,
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-n",
        "-M",
        "prepared",  # as asyncpg: every statement parsed once per connection
        "-c",
        str(clients),
        "-j",
        "2",
        "-t",
        str(math.ceil(unit / clients)),
    ]
    for key, value in variables.items():
        command += ["-D", f"{key}={value}"]
    command += ["-f", str(SCRIPTS / mirror.script), b.system.database_url.rsplit("/", 1)[1]]
    with b.console.status(f"pgbench: {name} with {clients} clients …"):
        finished = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", finished.stdout)
    failures = re.search(r"number of failed transactions: (\d+)", finished.stdout)
    note = staleness(b.run.statements, mirror.script)
    if clients < report.concurrency:
        note = f"only {clients} connections free on the server; " + note
    if finished.returncode != 0 or tps is None:
        note = f"pgbench failed ({finished.returncode}): {(finished.stderr or finished.stdout).strip()[-300:]}"
    elif failures and int(failures.group(1)):
        note = f"{failures.group(1)} failed transactions; " + note
    return [Ceiling(mirror.phase, name, clients, float(tps.group(1)) if tps else None, http_rate, note)]
