"""What wakes an idle worker before its poll is due: on PostgreSQL, a notification that a transaction queued jobs.

The notification comes on a connection of its own, outside the pool: LISTEN lasts as long as the session, and a
pooled connection goes back to other work. If that connection drops, the worker polls meanwhile and this connects
again, waiting longer after each failure; once listening again it wakes the worker once, for what was committed while
nobody listened. On SQLite nothing notifies, and the worker polls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url
from structlog.typing import FilteringBoundLogger

from fissionmall.core.outbox import CHANNEL
from fissionmall.core.runtime import Runtime

FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 60.0
"""Reconnecting waits 1 s, then twice as long after each failure, up to a minute."""
CONNECT_TIMEOUT_SECONDS = 10.0
LISTENER_NAME = "fissionmall worker (LISTEN)"
"""The connection's application_name: how an operator tells it apart in pg_stat_activity."""


class Wakeups:
    """Set by whatever has news of a job; the worker waits on it between passes."""

    def __init__(self) -> None:
        self._woken = asyncio.Event()

    def wake(self, *_notification: object) -> None:
        self._woken.set()

    async def wait(self, seconds: float, stop: asyncio.Event) -> None:
        """Until a wake-up, the stop or `seconds`, whichever comes first; a wake-up that came during the pass before
        ends the wait at once, so none is lost."""
        waits = [asyncio.ensure_future(self._woken.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for each in waits:
                each.cancel()
        self._woken.clear()


@contextlib.asynccontextmanager
async def job_wakeups(runtime: Runtime) -> AsyncIterator[Wakeups]:
    """Wake-ups for the worker's loop, listening on PostgreSQL for as long as the context lasts."""
    wakeups = Wakeups()
    if runtime.settings.is_sqlite:
        yield wakeups
        return
    dsn = make_url(runtime.settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    listening = asyncio.create_task(listen(dsn, wakeups, runtime.log, check_every=runtime.settings.worker_poll_every))
    try:
        yield wakeups
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening


async def listen(dsn: str, wakeups: Wakeups, log: FilteringBoundLogger, *, check_every: float) -> None:
    """LISTEN on the job channel for good: connect, listen until the connection is lost, wait, connect again."""
    retry = FIRST_RETRY_SECONDS
    while True:
        try:
            connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_SECONDS,
                                               server_settings={"application_name": LISTENER_NAME})
            try:
                await connection.add_listener(CHANNEL, wakeups.wake)
                wakeups.wake()
                log.info("worker_listening", channel=CHANNEL)
                retry = FIRST_RETRY_SECONDS
                await until_lost(connection, check_every)
            finally:
                connection.terminate()
            log.warning("worker_listen_lost", retry_in=retry)
        except Exception as exc:  # whatever broke the connection, the worker polls meanwhile and this tries again
            log.warning("worker_listen_failed", error=f"{type(exc).__name__}: {exc}", retry_in=retry)
        await asyncio.sleep(retry)
        retry = min(retry * 2, LAST_RETRY_SECONDS)


async def until_lost(connection: asyncpg.Connection, check_every: float) -> None:
    """Returns once the connection is gone: closed by the server (asyncpg calls back at once), or silently lost on
    the network, which only a query finds out; one is sent every `check_every` seconds."""
    lost = asyncio.Event()
    connection.add_termination_listener(lambda _connection: lost.set())
    while not lost.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lost.wait(), timeout=check_every)
        if not lost.is_set():
            try:
                await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                return
