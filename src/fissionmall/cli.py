"""The command line: serve, worker, migrate, demo, merchant, jobs, simulate."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress, TaskID

from fissionmall.config import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fissionmall.demo_campaigns import Showcase

T = TypeVar("T")

app = typer.Typer(help="Fission Mall: a social e-commerce engine.", no_args_is_help=True,
                  context_settings={"help_option_names": ["-h", "--help"]})
console = Console(stderr=True, soft_wrap=True)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            console.print(f"[bold red]fissionmall:[/] {line}", markup=True, highlight=False)
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (SQLite or PostgreSQL, from empty or any earlier version)."""
    from fissionmall.migrate import upgrade

    settings = settings_or_exit()
    with console.status(f"migrating {settings.database_url.split('@')[-1]} …"):
        upgrade(settings.database_url)
    console.print("[green]database is up to date[/]")


@app.command()
def demo() -> None:
    """Load the demo merchant (two stores, a dozen products, a few customers) and a live campaign of every kind.
    Safe to run twice: a second run only replaces what time has ended."""
    from fissionmall.composition import build_runtime
    from fissionmall.demo import CUSTOMERS, DEMO_PASSWORD, DEMO_SLUG, load_demo
    from fissionmall.demo_campaigns import DemoClock, load_demo_campaigns, load_demo_history

    runtime = build_runtime(settings_or_exit(), clock=DemoClock())

    async def run() -> tuple[bool, Showcase]:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("demo data", total=None)
            try:
                created = await load_demo(runtime, lambda step: progress.update(task, description=step))
                if created:
                    await load_demo_history(runtime, DEMO_SLUG, CUSTOMERS,
                                            lambda step: progress.update(task, description=step))
                return created, await load_demo_campaigns(runtime, DEMO_SLUG, CUSTOMERS,
                                                          lambda step: progress.update(task, description=step))
            finally:
                await runtime.close()

    created, showcase = asyncio.run(run())
    console.print("[green]demo merchant loaded[/]" if created else "demo merchant already present")
    console.print(f"merchant slug [bold]demo[/], staff [bold]owner[/] / [bold]{DEMO_PASSWORD}[/]")
    print_showcase(runtime.settings.public_base_url, showcase)


def print_showcase(base: str, showcase: Showcase) -> None:
    """Where to click: each mechanic's page and share link on this server."""
    from rich.table import Table

    table = Table(title="What to try", title_justify="left")
    table.add_column("页面")
    table.add_column("地址", overflow="fold")
    for name, path in [("首页", "/"), ("拼团商品", showcase.product), ("差 1 人的拼团", showcase.group),
                       ("砍价进行中", showcase.bargain), ("助力红包", showcase.assist),
                       ("多产品拼团", showcase.multi_group), ("社区", showcase.community),
                       ("已签收的订单（买家 demo-alice）", showcase.order),
                       *((f"分享链接 · {what}", link) for what, link in showcase.shares.items())]:
        table.add_row(name, f"{base}{path}")
    console.print(table)
    console.print(f"demo sign-in: POST {base}/api/v1/auth/dev-login "
                  '{"merchant_slug": "demo", "openid": "me"}', highlight=False)


merchant_app = typer.Typer(help="Tenants: create and list merchants.", no_args_is_help=True)
app.add_typer(merchant_app, name="merchant")


@merchant_app.command("create")
def merchant_create(
    slug: str = typer.Option(..., help="URL name of the mall: a-z, 0-9 and inner hyphens, 2-40 characters."),
    name: str = typer.Option(..., help="Display name."),
    owner: str = typer.Option("owner", help="Username of the owner's staff account."),
    generate_password: bool = typer.Option(False, "--generate-password",
                                           help="Generate the owner's password and show it once (the default "
                                                "when no terminal is attached)."),
) -> None:
    """Create a merchant with its owner. The owner's password is asked for (twice, hidden) on a terminal."""
    import sys

    from pydantic import ValidationError
    from rich.markup import escape

    from fissionmall.composition import build_runtime
    from fissionmall.core.errors import DomainError
    from fissionmall.merchants import service
    from fissionmall.merchants.schemas import MerchantCreate

    generated = generate_password or not sys.stdin.isatty()
    password = service.generate_password() if generated else typer.prompt("owner password", hide_input=True,
                                                             confirmation_prompt=True)
    try:
        body = MerchantCreate(slug=slug, name=name, owner_username=owner, owner_password=password)
    except ValidationError as exc:
        first = exc.errors()[0]
        option = {"owner_username": "--owner", "owner_password": "owner password"}.get(
            str(first["loc"][0]), f"--{first['loc'][0]}")
        console.print(f"[bold red]fissionmall:[/] {option}: {escape(first['msg'])}")
        raise typer.Exit(2) from None
    runtime = build_runtime(settings_or_exit())

    async def run() -> None:
        try:
            async with runtime.sessionmaker() as session:
                await service.create_merchant(session, runtime.clock.now(), body)
                await session.commit()
        finally:
            await runtime.close()

    try:
        asyncio.run(run())
    except DomainError as exc:
        console.print(f"[bold red]fissionmall:[/] {escape(exc.detail)}")
        raise typer.Exit(2) from None
    console.print(f"[green]merchant [bold]{slug}[/] created[/], owner [bold]{owner}[/]")
    if generated:  # on standard output, so a script can capture it; the rest goes to standard error
        console.print("owner password (shown once):")
        print(password)


@merchant_app.command("list")
def merchant_list() -> None:
    """Every merchant: id, slug, name, created."""
    from rich.table import Table

    from fissionmall.composition import build_runtime
    from fissionmall.merchants.service import merchant_page

    runtime = build_runtime(settings_or_exit())
    table = Table("id", "slug", "name", "created")

    async def run() -> None:
        cursor: str | None = None
        try:
            async with runtime.sessionmaker() as session:
                while True:
                    merchants, cursor = await merchant_page(session, cursor=cursor, limit=100)
                    for merchant in merchants:
                        table.add_row(str(merchant.id), merchant.slug, merchant.name, f"{merchant.created_at:%Y-%m-%d}")
                    if cursor is None:
                        break
        finally:
            await runtime.close()

    asyncio.run(run())
    Console(soft_wrap=True).print(table)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, min=1, max=64, help="HTTP worker processes."),
    with_worker: bool | None = typer.Option(None, help="Run the job worker inside the server "
                                                       "(default: yes on SQLite, no on PostgreSQL)."),
) -> None:
    """Serve the API, the pages and (when API_DOCS is on) /docs."""
    settings = settings_or_exit()
    embedded = settings.is_sqlite if with_worker is None else with_worker
    os.environ["FISSIONMALL_EMBEDDED_WORKER"] = "1" if embedded else "0"
    where = "inside" if embedded else "separate"
    docs = "API docs at /docs" if settings.api_docs_enabled else "API docs off"
    console.print(f"serving on http://{host}:{port}  ({docs}, worker {where})")
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, log_level="warning",
                    access_log=False, server_header=False)
        return
    _serve_on_shared_port(host, port, workers)


APP = "fissionmall.app:app_from_environment"


def _serve_on_shared_port(host: str, port: int, workers: int) -> None:
    """Each HTTP worker listens on a socket of its own bound with SO_REUSEPORT, and the kernel spreads new
    connections evenly across them. With one socket shared by every worker (uvicorn's way), whichever process
    wakes first takes most keep-alive connections: measured, 46 of 64 on one of two workers, which then runs at
    one core while the other idles. A worker that dies stops the server, for its supervisor to restart."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_serve_one, args=(host, port), daemon=False) for _ in range(workers)]
    for process in processes:
        process.start()

    asked_to_stop = []

    def stop(signum: int, _frame: object) -> None:
        asked_to_stop.append(signum)
        for process in processes:
            if process.is_alive():
                os.kill(process.pid or 0, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while all(process.is_alive() for process in processes):
        processes[0].join(timeout=0.5)
    died = not asked_to_stop
    stop(signal.SIGTERM, None)
    for process in processes:
        process.join()
    if died:  # uvicorn ends a worker it was asked to stop by re-raising the signal: only an unasked end fails
        raise typer.Exit(1)


def _serve_one(host: str, port: int) -> None:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.listen(2048)
    config = uvicorn.Config(APP, factory=True, log_level="warning", access_log=False, server_header=False)
    uvicorn.Server(config).run(sockets=[listener])


@app.command()
def worker() -> None:
    """Run the job worker: expiries, refunds, notification delivery. Run as many as you like."""
    from fissionmall.composition import build_runtime
    from fissionmall.jobs.worker import run_forever

    runtime = build_runtime(settings_or_exit())

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await run_forever(runtime, stop)
        finally:
            await runtime.close()

    from fissionmall.core.logging import configure_logging

    configure_logging(runtime.settings.log_level, runtime.settings.log_json)
    asyncio.run(run())


jobs = typer.Typer(help="The worker's job queue: dead jobs, and requeueing them.", no_args_is_help=True)
app.add_typer(jobs, name="jobs")


def _with_session(use: Callable[[AsyncSession, datetime], Awaitable[T]]) -> T:
    """Run `use(session, now)` in one transaction, committed if it returns; a refusal exits 2 with its reason."""
    from fissionmall.composition import build_runtime
    from fissionmall.core.errors import DomainError

    runtime = build_runtime(settings_or_exit())

    async def run() -> T:
        try:
            async with runtime.sessionmaker() as session:
                result = await use(session, runtime.clock.now())
                await session.commit()
                return result
        finally:
            await runtime.close()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        console.print(f"[bold red]fissionmall:[/] {exc.detail} ({exc.code})")
        raise typer.Exit(2) from None


@jobs.command("dead")
def jobs_dead(limit: int = typer.Option(200, min=1, max=10_000, help="Show at most this many.")) -> None:
    """List the jobs that failed every retry (newest first): refunds, payouts, notifications waiting for you."""
    from rich.table import Table

    from fissionmall.jobs import service

    dead = _with_session(lambda session, _now: service.list_dead(session, limit=limit))
    if not dead:
        console.print("no dead jobs")
        return
    table = Table("id", "kind", "merchant", "attempts", "last error", "died at (UTC)")
    for job in dead:
        table.add_row(str(job.id), job.kind, str(job.merchant_id or ""), str(job.attempts), job.last_error or "",
                      job.died_at.strftime("%Y-%m-%d %H:%M:%S"))
    Console(soft_wrap=False).print(table)


@jobs.command("retry")
def jobs_retry(job_id: int | None = typer.Argument(None, help="The dead job to requeue."),
               all_dead: bool = typer.Option(False, "--all", help="Requeue every dead job.")) -> None:
    """Requeue a dead job (or --all): pending, due now, with a fresh set of attempts. Only a dead job can be
    retried; the worker then runs it as any other (every job is idempotent at its receiver)."""
    from fissionmall.jobs import service

    if (job_id is not None) == all_dead:
        console.print("[bold red]fissionmall:[/] give one job id, or --all")
        raise typer.Exit(2)
    if job_id is not None:
        _with_session(lambda session, now: service.retry(session, job_id, now=now))
        console.print(f"job {job_id} requeued")
        return
    requeued = _with_session(lambda session, now: service.retry_all(session, now=now))
    console.print(f"{len(requeued)} dead job{'s' if len(requeued) != 1 else ''} requeued")


simulate_app = typer.Typer(help="Forecast a campaign's spread (seeded Monte Carlo), or check the model against "
                                "Galton–Watson theory.", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")


def _spreading(progress: Progress, task: TaskID) -> Callable[[int, int], None]:
    def heard(generation: int, active: int) -> None:
        progress.update(task, advance=1, description=f"generation {generation}: {active:,} adopters spreading")
    return heard


@simulate_app.command("galton-watson")
def simulate_galton_watson(
    invites: int = typer.Option(..., min=0, max=5000, help="Friends each adopter invites (i)."),
    conversion: float = typer.Option(..., min=0.0, max=1.0, help="Probability that an invited friend adopts (c)."),
    runs: int = typer.Option(10_000, min=1, max=20_000, help="Monte Carlo runs."),
    seed: int = typer.Option(1, min=0, help="Random seed: the same seed gives the same answer."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """The plain branching process: one seed, every adopter invites i friends, each adopts with probability c. Sizes
    count the seed. R = i·c ≥ 1 runs up to the documented caps (the answer says when a cap was reached)."""
    import json

    from rich.table import Table

    from fissionmall.simulation import rules

    with Progress(console=console, transient=True, disable=as_json or runs < 5000) as progress:
        task = progress.add_task("simulating", total=rules.MAX_GENERATIONS)
        answer = rules.galton_watson(invites, conversion, runs, seed, progress=_spreading(progress, task))
    if as_json:
        print(json.dumps(answer, ensure_ascii=False))
        return
    theory = answer["theory"]
    r = answer["reproduction"]
    table = Table("figure", "simulated", "theory", title_justify="left",
                  title=f"Galton–Watson i={invites} c={conversion} R={r:.3g} ({runs:,} runs, seed {seed})")
    table.add_row("mean size", f"{answer['mean_size']:.4f}", _or_dash(theory["mean_size"]))
    table.add_row("P(size = 1)", f"{answer['p_size_1']:.4f}", _or_dash(theory["p_size_1"]))
    table.add_row("share within one hop", f"{answer['share_within_one_hop']:.4f}",
                  _or_dash(theory["share_within_one_hop"]))
    for q in ("q50", "q90", "q99"):
        table.add_row(f"size {q}", f"{answer[q]:g}", "")
    Console(soft_wrap=False).print(table)
    _say_caps(answer["caps"])


def _or_dash(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _say_caps(caps: dict[str, object]) -> None:
    if caps["hit"]:
        console.print(f"[yellow]caps reached:[/] {caps['runs_capped_by_cascade']} runs at {caps['cascade_cap']} "
                      f"adopters, {caps['runs_capped_by_generations']} at {caps['generation_cap']} generations: "
                      "the figures are lower bounds")
    elif caps["supercritical"]:
        console.print("[yellow]R ≥ 1:[/] the spread would not stop by itself; it is bounded by the caps")


@simulate_app.command("campaign")
def simulate_campaign(
    merchant: str = typer.Option(..., help="The merchant's slug (its past campaigns of the kind give defaults)."),
    kind: str = typer.Option("group", help="group, bargain, assist, share_coupon, credit or invite."),
    audience: int | None = typer.Option(None, help="People the campaign can reach."),
    seeds: int | None = typer.Option(None, help="Customers who start it."),
    share_rate: float | None = typer.Option(None, help="Share of participants who share it on (0–1)."),
    friends_per_share: float | None = typer.Option(None, help="Friends one share reaches on average."),
    conversion: float | None = typer.Option(None, help="Share of reached friends who act (0–1)."),
    order_rate: float | None = typer.Option(None, help="Share of new customers who order (0–1)."),
    cycle_hours: float | None = typer.Option(None, help="Mean hours from a share to a friend's act."),
    group_size: int = typer.Option(3, help="拼团: people per group."),
    helps_needed: int = typer.Option(5, help="砍价 / 助力: helps needed."),
    claims: int = typer.Option(10, help="分享领券 / 立减金 / 邀请: friends per sharer."),
    reward_fen: int = typer.Option(0, help="Paid per new customer, in fen."),
    budget_fen: int | None = typer.Option(None, help="Budget in fen (the campaign ends when it is spent)."),
    window_hours: int = typer.Option(168, help="The campaign's time window in hours."),
    runs: int = typer.Option(1000, help="Monte Carlo runs."),
    seed: int = typer.Option(1, help="Random seed."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
) -> None:
    """Forecast a campaign: new customers, orders, budget spent and when it runs out, cascade sizes, the chance it
    fizzles. Assumptions left out come from the merchant's past campaigns of the kind."""
    from pydantic import ValidationError
    from rich.table import Table

    from fissionmall.merchants import service as merchants
    from fissionmall.simulation import service
    from fissionmall.simulation.schemas import SimulationIn

    given: dict[str, object] = {
        "audience": audience, "seeds": seeds, "share_rate": share_rate, "friends_per_share": friends_per_share,
        "conversion": conversion, "order_rate": order_rate, "cycle_hours": cycle_hours}
    try:
        body = SimulationIn.model_validate(
            {"kind": kind, "group_size": group_size, "helps_needed": helps_needed, "claims": claims,
             "reward_fen": reward_fen, "budget_fen": budget_fen, "window_hours": window_hours, "runs": runs,
             "seed": seed, **{k: v for k, v in given.items() if v is not None}})
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[bold red]fissionmall:[/] --{'.'.join(map(str, error['loc'])).replace('_', '-')}: "
                          f"{error['msg']}")
        raise typer.Exit(2) from None

    async def fill(session: AsyncSession, _now: datetime) -> SimulationIn:
        found = await merchants.merchant_by_slug(session, merchant)
        return await service.with_defaults(session, found.id, body)

    filled = _with_session(fill)
    with Progress(console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("simulating", total=filled.window_hours)
        answer = service.simulate(filled, _spreading(progress, task))
    if as_json:
        print(answer.model_dump_json())
        return
    r = answer.reproduction
    table = Table("figure", "expected", "10th–90th percentile", title_justify="left",
                  title=f"{merchant} · {kind} · R={r:.3g} ({filled.runs:,} runs, seed {filled.seed})")
    for name, band in (("new customers", answer.new_customers), ("orders", answer.orders)):
        table.add_row(name, f"{band.mean:.1f}", f"{band.p10:g}–{band.p90:g}")
    spent = answer.budget_spent_fen
    table.add_row("budget spent (yuan)", f"{spent.mean / 100:.2f}", f"{spent.p10 / 100:.2f}–{spent.p90 / 100:.2f}")
    out = answer.budget_runs_out
    table.add_row("budget runs out", f"{out.probability:.1%} of runs",
                  "" if out.median_hours is None else f"median after {out.median_hours:.0f} h")
    table.add_row("cascade size q50 / q90 / q99", f"{answer.cascade.q50:g} / {answer.cascade.q90:g} / "
                  f"{answer.cascade.q99:g}", f"P(size 1) {answer.cascade.p_size_1:.1%}")
    table.add_row("fizzles (no new customer)", f"{answer.p_fizzle:.1%}", "")
    Console(soft_wrap=False).print(table)
    _say_caps(answer.caps.model_dump())


analytics = typer.Typer(help="Campaign analytics: the incremental tables behind the metrics.", no_args_is_help=True)
app.add_typer(analytics, name="analytics")


@analytics.command("rebuild")
def analytics_rebuild(merchant: int | None = typer.Option(None, "--merchant", help="Only this merchant's rows.")
                      ) -> None:
    """Forget the analytics tables (of one merchant, or all) and fold every event again up to the watermark, in
    one transaction: the worker's incremental folding waits meanwhile and resumes after."""
    from fissionmall.analytics import service

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("folding events", total=None)
        n, last = _with_session(lambda session, _now: service.rebuild(
            session, merchant, progress=lambda done, total: progress.update(task, completed=done, total=total)))
    console.print(f"[green]analytics rebuilt[/]: {n} events up to event {last}")


recommend = typer.Typer(help="Recommendations: the co-purchase model behind 为你推荐.", no_args_is_help=True)
app.add_typer(recommend, name="recommend")


@recommend.command("rebuild")
def recommend_rebuild(merchant: int | None = typer.Option(None, "--merchant", help="Only this merchant's rows.")
                      ) -> None:
    """Forget the recommender's tables (of one merchant, or all) and build them again from the orders, referrals and
    opened shares, in one transaction: the repair for the worker's incremental refresh, which waits meanwhile."""
    from fissionmall.recommend import service

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("computing neighbours", total=None)
        n, last = _with_session(lambda session, _now: service.rebuild(
            session, merchant, progress=lambda done, total: progress.update(task, completed=done, total=total)))
    console.print(f"[green]recommendations rebuilt[/]: neighbours of {n} products, events read up to {last}")


def main() -> None:
    app(prog_name="fissionmall")


if __name__ == "__main__":
    main()
