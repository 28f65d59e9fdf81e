"""The command line: serve, worker, migrate, demo."""

from __future__ import annotations

import asyncio
import os
import signal

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress

from fissionmall.config import Settings, SettingsError, load_settings

app = typer.Typer(help="Fission Mall: a social e-commerce engine.", no_args_is_help=True,
                  context_settings={"help_option_names": ["-h", "--help"]})
console = Console(stderr=True, soft_wrap=True)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        console.print(f"[bold red]fissionmall:[/] {exc}")
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (SQLite or PostgreSQL, from empty or any earlier version)."""
    from fissionmall.db.migrate import upgrade

    settings = settings_or_exit()
    with console.status(f"migrating {settings.database_url.split('@')[-1]} …"):
        upgrade(settings.database_url)
    console.print("[green]database is up to date[/]")


@app.command()
def demo() -> None:
    """Load the demo merchant (two stores, a dozen products, a few customers). Safe to run twice."""
    from fissionmall.demo import DEMO_PASSWORD, load_demo
    from fissionmall.runtime import build_runtime

    runtime = build_runtime(settings_or_exit())

    async def run() -> bool:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("demo data", total=None)
            try:
                return await load_demo(runtime, lambda step: progress.update(task, description=step))
            finally:
                await runtime.close()

    created = asyncio.run(run())
    console.print("[green]demo merchant loaded[/]" if created else "demo merchant already present")
    console.print(f"merchant slug [bold]demo[/], staff [bold]owner[/] / [bold]{DEMO_PASSWORD}[/]")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, min=1, max=64, help="HTTP worker processes."),
    with_worker: bool | None = typer.Option(None, help="Run the job worker inside the server "
                                                       "(default: yes on SQLite, no on PostgreSQL)."),
) -> None:
    """Serve the API, the pages and /docs."""
    settings = settings_or_exit()
    embedded = settings.is_sqlite if with_worker is None else with_worker
    os.environ["FISSIONMALL_EMBEDDED_WORKER"] = "1" if embedded else "0"
    where = "inside" if embedded else "separate"
    console.print(f"serving on http://{host}:{port}  (API docs at /docs, worker {where})")
    uvicorn.run("fissionmall.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False)


@app.command()
def worker() -> None:
    """Run the job worker: expiries, refunds, notification delivery. Run as many as you like."""
    from fissionmall.jobs.worker import run_forever
    from fissionmall.runtime import build_runtime

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


def main() -> None:
    app(prog_name="fissionmall")


if __name__ == "__main__":
    main()
