"""A job kind for the worker's own tests, and `fissionmall worker` with it registered, for tests that start real
worker processes: `python -m tests.jobs.probe N` from the repository's root runs the command line's `worker` in N
processes.

Each run of a probe job appends one line, `<n> <pid>`, to the file its payload names, in one `write` to a file
opened for appending (atomic on Linux, whichever process writes): a run repeated or lost shows in the file."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from pathlib import Path
from typing import Any

from fissionmall.core.outbox import job

PROBE = "tests.probe"


@job(PROBE)
async def record_run(_runtime: Any, payload: dict[str, Any]) -> None:
    descriptor = os.open(payload["runs"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(descriptor, f"{payload['n']} {os.getpid()}\n".encode())
    finally:
        os.close(descriptor)


def runs_in(path: Path) -> list[tuple[int, int]]:
    """(n, pid) of every run recorded so far."""
    if not path.exists():
        return []
    return [(int(n), int(pid)) for n, pid in (line.split() for line in path.read_text().splitlines())]


def run_workers(count: int) -> None:
    """`count` processes forked from this one once it has imported the mall, each running the command line's
    `worker` (a fresh interpreter per worker would import it all again: seconds of CPU each). Returns when they have
    all stopped; SIGTERM to the process group stops them."""
    from fissionmall.cli import app
    from fissionmall.jobs.worker import load_task_modules

    load_task_modules()
    workers = [multiprocessing.get_context("fork").Process(target=app, args=(["worker"],)) for _ in range(count)]
    for each in workers:
        each.start()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group's SIGTERM is for the workers; this waits for them
    for each in workers:
        each.join()


if __name__ == "__main__":
    run_workers(int(sys.argv[1]))
