"""Where the machine's CPU went during a phase: the API server, PostgreSQL serving the bench database (on SQLite the
database works inside the server processes, so their share includes it), the driver, and everything else. On a
shared 2-core machine "everything else" (someone's test run) can take half of it, and a figure measured then must
say so."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    pid: int
    group: int
    command: str
    cpu_seconds: float


def processes() -> dict[int, Process]:
    """Every process's CPU time so far, from /proc (user + system)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = Process(
            int(entry.name), int(fields[2]), command, (int(fields[11]) + int(fields[12])) / TICKS
        )
    return found


@dataclass
class Usage:
    """Shares of one core (1.0 = a whole core) over the phase's wall time."""

    server: float
    database: float | None
    """None on SQLite: the database is a library inside the server processes."""
    driver: float
    other: float
    seconds: float
    """The phase's wall time: a share times it is CPU seconds."""

    def describe(self) -> str:
        database = " (SQLite included)" if self.database is None else f", PostgreSQL {self.database:.0%}"
        return (
            f"CPU (100% = one core, {os.cpu_count()} cores): server {self.server:.0%}{database}, "
            f"driver {self.driver:.0%}, other processes {self.other:.0%}"
        )


    def per_journey_ms(self, journeys: int) -> str:
        """CPU milliseconds one journey cost the server and the database: what the system spends per unit of work,
        whatever the rate (a busy machine slows a phase down, but barely changes this)."""
        server = self.server * self.seconds * 1000 / journeys
        if self.database is None:
            return f"CPU per journey: server {server:.1f} ms (SQLite included)"
        database = self.database * self.seconds * 1000 / journeys
        return f"CPU per journey: server {server:.1f} ms + PostgreSQL {database:.1f} ms = {server + database:.1f} ms"


class Meter:
    """Take a snapshot before a phase and one after; attribute the difference."""

    def __init__(self, server_groups: set[int]) -> None:
        self.server_groups = server_groups
        self.bench_group = os.getpgrp()

    def start(self) -> None:
        self.before, self.started = processes(), time.monotonic()

    def stop(self, database_pids: set[int] | None, driver_seconds: float) -> Usage:
        """`database_pids`: the bench database's backends and PostgreSQL's own background processes; None on
        SQLite."""
        after, seconds = processes(), time.monotonic() - self.started
        totals = {"server": 0.0, "database": 0.0, "bench": 0.0, "other": 0.0}
        for pid, process in after.items():
            spent = process.cpu_seconds - (self.before[pid].cpu_seconds if pid in self.before else 0.0)
            if process.group in self.server_groups:
                totals["server"] += spent
            elif database_pids is not None and pid in database_pids:
                totals["database"] += spent
            elif process.group == self.bench_group:
                totals["bench"] += spent  # the driver, measured by itself; the bench's own checks are idle here
            else:
                totals["other"] += spent
        return Usage(
            server=totals["server"] / seconds,
            database=None if database_pids is None else totals["database"] / seconds,
            driver=driver_seconds / seconds,
            other=totals["other"] / seconds,
            seconds=seconds,
        )
