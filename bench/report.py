"""Rich tables of what was measured: per request, per phase, the invariants and (PostgreSQL only) the pgbench
ceilings."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bench.driver import Report, Stats
from bench.runner import Outcome

DRIVER_BUSY = 0.7
"""Above this share of one core, the driver itself may be what limits the rate: said loudly."""
NOISY = 0.15
"""Above this share of a core used by processes outside the bench, the run was not alone on the machine."""


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
        ceilings = Table(title="pgbench ceilings (same statements, same clients)", title_justify="left")
        for column in ("phase", "pgbench script", "clients", "HTTP /s", "pgbench TPS", "HTTP / DB ceiling"):
            ceilings.add_column(column, justify="left" if column in ("phase", "pgbench script") else "right")
        for c in outcome.ceilings:
            ratio = f"{c.http_rate / c.tps:.0%}" if c.tps else "n/a"
            ceilings.add_row(
                c.phase,
                c.script + (f" [dim]({c.note})[/]" if c.note else ""),
                str(c.clients),
                f"{c.http_rate:,.0f}",
                f"{c.tps:,.0f}" if c.tps else "failed",
                ratio,
            )
        console.print(ceilings)


def summary(console: Console, outcomes_: list[Outcome]) -> None:
    """One line per phase: the figures docs/performance.md quotes."""
    table = Table(title="summary", title_justify="left")
    for column in ("scenario", "phase", "journeys/s", "requests/s", "worst p99 ms", "invariants"):
        table.add_column(column, justify="left" if column in ("scenario", "phase", "invariants") else "right")
    for outcome in outcomes_:
        failed = sum(not c.ok for c in outcome.checks)
        verdict = "[green]all held[/]" if not failed else f"[bold red]{failed} VIOLATED[/]"
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
            )
            verdict = ""
    console.print(table)
