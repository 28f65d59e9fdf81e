"""The request owns the transaction: one session per request, committed at the edge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import bearer_claims, current_shopper, current_staff
from fissionmall.core.errors import Unauthorized
from fissionmall.db.sql import Prebuilt, dialect_of

_HOT = "hot_updates"
Builder = Callable[[str, Callable[[Any], Any], Any], Any]


@dataclass(frozen=True)
class HotUpdate:
    """A guarded write of a row many requests race for (`UPDATE … RETURNING`, or an upsert), and what to do with its
    answer.

    `build(prefix, insert, after)` makes the statement with every bind parameter's name prefixed, using `insert`
    (the dialect's INSERT) for an upsert, and adds `after` (when not None) to its WHERE: the condition that the
    update before it went through. It must be a module-level function, since the statements it makes are built
    once and kept. `params` are the unprefixed values; `then` gets the returned row, or None when the guard refused,
    and raises the request's error in that case."""

    build: Builder
    params: dict[str, Any]
    then: Callable[[tuple[Any, ...] | None], Awaitable[None]]


@cache
def _alone(build: Builder) -> Prebuilt:
    """One hot update's statement on its own, built once per dialect."""
    return Prebuilt(lambda insert: build("", insert, None))


@cache
def _together(builds: tuple[Builder, ...]) -> tuple[Select[Any], tuple[int, ...]]:
    """One statement for several hot updates (PostgreSQL), so the rows they lock wait on one round trip, not one
    each. Every update is a CTE, read back in order as its row count and its first row's columns. Each one's WHERE
    reads the CTE before it (the one order PostgreSQL guarantees between data-modifying CTEs), so the rows are
    locked in the order the updates were added (SKUs by id, then the campaign, then the allowance, as every path
    that gives them back) and nothing is written after a refusal. With the statement, each update's column
    count."""
    columns: list[Any] = []
    widths = []
    previous = None
    for position, build in enumerate(builds):
        after: Any = None if previous is None else select(func.count()).select_from(previous).scalar_subquery() > 0
        hot = previous = build(f"h{position}_", pg_insert, after).cte(f"hot{position}")
        columns.append(select(func.count()).select_from(hot).scalar_subquery())
        columns += [select(column).select_from(hot).limit(1).scalar_subquery() for column in hot.c]
        widths.append(len(hot.c))
    return select(*columns), tuple(widths)


async def _run(session: AsyncSession, updates: Sequence[HotUpdate]) -> None:
    """Each update's `then` in order, with its answer; the first refusal raises."""
    if len(updates) > 1 and dialect_of(session) == "postgresql":
        statement, widths = _together(tuple(update.build for update in updates))
        values = {f"h{position}_{name}": value for position, update in enumerate(updates)
                  for name, value in update.params.items()}
        answer = tuple((await session.execute(statement, values)).one())
        at = 0
        for update, width in zip(updates, widths, strict=True):
            await update.then(answer[at + 1:at + 1 + width] if answer[at] else None)
            at += 1 + width
        return
    for update in updates:
        row = (await session.execute(_alone(update.build)(session), update.params)).first()
        await update.then(tuple(row) if row is not None else None)


class TransactionSession(AsyncSession):
    """A session whose guarded updates of hot rows run last, right before COMMIT.

    A flash sale sends every order to the same few rows (a SKU's stock, a campaign's units). A row lock is held from
    the update to the commit; taken at the start of a request it would be held through all the request's other
    statements, and the orders of a sale would pass one request-length at a time. Taken at the end, and on
    PostgreSQL all in one statement, they are held for one round trip and the commit. A refused update raises its
    own error (409 sold out …) and nothing is committed.
    """

    async def run_hot_updates(self) -> None:
        await _run(self, self.info.pop(_HOT, []))

    async def commit(self) -> None:
        await self.run_hot_updates()
        await super().commit()

    async def rollback(self) -> None:
        self.info.pop(_HOT, None)
        await super().rollback()

    async def close(self) -> None:
        self.info.pop(_HOT, None)
        await super().close()


async def hot_updates_now(session: AsyncSession) -> None:
    """Run the updates waiting for the commit now (a preview that wants their answer, then rolls back)."""
    if isinstance(session, TransactionSession):
        await session.run_hot_updates()


async def at_commit(session: AsyncSession, update: HotUpdate) -> None:
    """Run `update` right before `session` commits (at once on a session of another kind)."""
    if isinstance(session, TransactionSession):
        session.info.setdefault(_HOT, []).append(update)
    else:
        await _run(session, [update])


_TOKEN_REQUIRED = {current_shopper: "shopper", current_staff: "staff"}


def required_audience(dependant: Dependant) -> str | None:
    """The token audience a route cannot run without (a shopper's or a staff member's), if any."""
    for dependency in dependant.dependencies:
        audience = _TOKEN_REQUIRED.get(dependency.call) or required_audience(dependency)  # type: ignore[arg-type]
        if audience:
            return audience
    return None


class TransactionalRoute(APIRoute):
    """Commit when the endpoint answers with success; roll back on any error or 4xx/5xx answer.

    A route that needs a token refuses a request without a valid one first: FastAPI reads and parses the body
    before it resolves dependencies, and a stranger's body is not worth reading."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        audience = required_audience(self.dependant)

        async def run_in_transaction(request: Request) -> Response:
            if audience and bearer_claims(request, audience) is None:
                raise Unauthorized("unauthenticated", f"a valid {audience} token is required")
            async with request.app.state.runtime.sessionmaker() as session:
                request.state.session = session
                response = await handler(request)
                if response.status_code < 400:
                    await session.commit()
                return response

        return run_in_transaction


async def get_session(request: Request) -> AsyncSession:
    """A coroutine, so FastAPI resolves it without a thread hop."""
    session: AsyncSession = request.state.session
    return session
