"""Rich tables of what was measured: per request, per phase, the invariants and (PostgreSQL only) the pgbench
ceilings, swept over client counts."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bench.driver import Report, Stats
from bench.pgbench import Ceiling
from bench.runner import Outcome

DRIVER_BUSY = 0.7
"""Above this share of one core, the driver itself may be what limits the rate: said loudly."""
NOISY = 0.15
"""Above this share of a core used by processes outside the bench, the run was not alone on the machine."""
CEILING_GOAL = 0.5
"""A hot path serving less than this share of its best pgbench ceiling is flagged (never failed)."""


def percentile(stats: Stats, share: float) -> float:
    ordered = sorted(stats.latencies_ms)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def outcomes(stats: Stats) -> str:
    return ", ".join(f"{outcome}: {n:,}" for outcome, n in stats.outcomes.most_common())


def phase_rows(table: Table, name: str, report: Report) -> None:
    for label, stats in report.labels.items():
        count = len(stats.latencies_ms)
        table.add_row(
            name,
            label,
            f"{count:,}",
            f"{count / report.seconds:,.0f}",
            f"{percentile(stats, 0.5):.1f}",
            f"{percentile(stats, 0.99):.1f}",
            outcomes(stats),
        )
        name = ""
    driver = report.driver_cpu_seconds / report.seconds
    note = f"{report.seconds:.1f} s; " + (report.usage.describe() if report.usage else "")
    if report.usage and report.journeys:
        note += "; " + report.usage.per_journey_ms(report.journeys)
    if driver > DRIVER_BUSY:
        note += "; [bold red]the driver was busy: it may be the bottleneck[/]"
    if report.usage and report.usage.other > NOISY:
        note += "; [bold yellow]other processes took CPU: figures understate the system[/]"
    if report.failures:
        note += f"; [bold red]{len(report.failures)} journeys raised: {report.failures[0]}[/]"
    table.add_row(
        "",
        f"journeys (c={report.concurrency})",
        f"{report.journeys:,}",
        f"{report.journeys / report.seconds:,.0f}",
        "",
        "",
        note,
        end_section=True,
    )


def show(console: Console, outcome: Outcome) -> None:
    table = Table(title=f"{outcome.name}: {outcome.title}", title_justify="left")
    for column, justify in (
        ("phase", "left"),
        ("request", "left"),
        ("requests", "right"),
        ("req/s", "right"),
        ("p50 ms", "right"),
        ("p99 ms", "right"),
        ("answers", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for name, report in outcome.phases:
        phase_rows(table, name, report)
    console.print(table)
    if outcome.checks:
        checks = Table(title="invariants (read back by SQL)", title_justify="left", show_header=False)
        for check in outcome.checks:
            mark = "[green]ok[/]" if check.ok else "[bold white on red] VIOLATED [/]"
            checks.add_row(mark, check.name, str(check.actual), "" if check.ok else f"expected {check.expected}")
        console.print(checks)
    if outcome.ceilings:
        console.print(ceiling_sweep(outcome.ceilings))


def tps(value: float | None) -> str:
    return f"{value:,.0f}" if value else "failed"


def ceiling_sweep(ceilings: list[Ceiling]) -> Table:
    """TPS at each client count of the sweep, the best in bold, and the HTTP rate against the best."""
    counts = sorted({p.clients for c in ceilings for p in c.points})
    table = Table(
        title="pgbench ceilings: the same statements at each client count (TPS, best in bold), after VACUUM (ANALYZE)",
        title_justify="left",
    )
    table.add_column("phase")
    table.add_column("pgbench script")
    for count in counts:
        table.add_column(
            f"c={count}" + ("*" if any(c.http_clients == count for c in ceilings) else ""), justify="right"
        )
    for column in ("HTTP /s", "HTTP / best"):
        table.add_column(column, justify="right")
    for c in ceilings:
        best = c.best
        cells = {p.clients: f"[bold]{tps(p.tps)}[/]" if p is best else tps(p.tps) for p in c.points}
        notes = [c.note] + [f"c={p.clients}: {p.note}" for p in c.points if p.note]
        note = "; ".join(n for n in notes if n)
        table.add_row(
            c.phase,
            c.script + (f" [dim]({note})[/]" if note else ""),
            *(cells.get(count, "") for count in counts),
            f"{c.http_rate:,.0f}",
            f"{c.share:.2f}" if c.share else "n/a",
        )
    spent = ", ".join(f"{c.script} {c.seconds:.0f} s" for c in ceilings)
    table.caption = f"* the HTTP phase's client count; each sweep's wall time, fixtures included: {spent}"
    table.caption_justify = "left"
    return table


def ceiling_line(scenario: str, c: Ceiling) -> str:
    """`group · join + pay: 94 journeys/s = 0.58 of best ceiling 163 TPS (4 clients; 64 clients: 45)`, flagged when
    below the goal."""
    best, same = c.best, c.at_http_clients
    line = f"{scenario} · {c.phase}: {c.http_rate:,.0f} journeys/s = "
    if best is None or c.share is None:
        return line + "[bold red]no ceiling: pgbench failed at every client count[/]"
    line += f"{c.share:.2f} of best ceiling {best.tps:,.0f} TPS ({best.clients} clients"
    line += f"; {c.http_clients} clients: {tps(same.tps if same else None)})" if best is not same else ", as HTTP)"
    if c.share < CEILING_GOAL:
        line += f" [bold yellow]◀ below {CEILING_GOAL}[/]"
    return line


def summary(console: Console, outcomes_: list[Outcome]) -> None:
    """One line per phase, with its best pgbench ceiling where it has one, then a line per hot path: the figures
    docs/performance.md quotes."""
    table = Table(title="summary", title_justify="left")
    for column in ("scenario", "phase", "journeys/s", "requests/s", "worst p99 ms", "invariants"):
        table.add_column(column, justify="left" if column in ("scenario", "phase", "invariants") else "right")
    swept = any(o.ceilings for o in outcomes_)
    for column in ("best ceiling TPS (clients)", "ceiling at HTTP clients", "HTTP / best ceiling") if swept else ():
        table.add_column(column, justify="right")
    for outcome in outcomes_:
        failed = sum(not c.ok for c in outcome.checks)
        verdict = "[green]all held[/]" if not failed else f"[bold red]{failed} VIOLATED[/]"
        ceilings = {c.phase: c for c in outcome.ceilings}
        for name, report in outcome.phases:
            requests = sum(len(s.latencies_ms) for s in report.labels.values())
            worst = max((percentile(s, 0.99) for s in report.labels.values()), default=0.0)
            table.add_row(
                outcome.name,
                name,
                f"{report.journeys / report.seconds:,.0f}",
                f"{requests / report.seconds:,.0f}",
                f"{worst:.0f}",
                verdict,
                *(ceiling_cells(ceilings.get(name)) if swept else ()),
            )
            verdict = ""
    console.print(table)
    lines = [ceiling_line(o.name, c) for o in outcomes_ for c in o.ceilings]
    if lines:
        console.print("HTTP against the best pgbench ceiling of each hot path:")
        for line in lines:
            console.print("  " + line)


def ceiling_cells(c: Ceiling | None) -> tuple[str, str, str]:
    if c is None:
        return "", "", ""
    best, same = c.best, c.at_http_clients
    share = "n/a" if c.share is None else f"{c.share:.2f}" + (" [bold yellow]◀[/]" if c.share < CEILING_GOAL else "")
    return (
        f"{tps(best.tps)} ({best.clients})" if best else "failed",
        f"{tps(same.tps if same else None)} ({c.http_clients})",
        share,
    )
