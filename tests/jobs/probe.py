"""A job kind for the worker's own tests, and `fissionmall worker` with it registered, for tests that start real
worker processes: `python -m tests.jobs.probe` from the repository's root runs the command line's `worker`.

Each run of a probe job appends one line, `<n> <pid>`, to the file its payload names, in one `write` to a file
opened for appending (atomic on Linux, whichever process writes): a run repeated or lost shows in the file."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from fissionmall.core.outbox import job

PROBE = "tests.probe"


@job(PROBE)
async def record_run(_runtime: Any, payload: dict[str, Any]) -> None:
    """Takes a moment, as a real job does, so that the batches of several workers overlap."""
    await asyncio.sleep(0.01)
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


if __name__ == "__main__":
    from fissionmall.cli import app

    app(["worker"])
