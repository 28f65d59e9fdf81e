"""Contended claims as values: what a use case takes from rows many requests race for (a SKU's stock, a
campaign's units, a customer's allowance), applied by the use case itself, last, right before the request commits.

A flash sale sends every order to the same few rows. A row lock is held from the update to the commit; taken at
the start of a request it would be held through all the request's other statements, and the orders of a sale would
pass one request-length at a time. Applied last, and on PostgreSQL all in one statement, the locks are held for one
round trip and the commit. A preview asks the same questions with plain SELECTs: it never writes or locks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import Prebuilt, dialect_of

Builder = Callable[[str, Callable[[Any], Any], Any], Any]


class LockOrder(IntEnum):
    """The one order in which every path takes (and gives back) contended rows, so two transactions never wait on
    each other: SKUs by id, then the campaign, then the customer's allowance."""

    STOCK = 0
    CAMPAIGN_UNITS = 1
    ALLOWANCE = 2


@dataclass(frozen=True)
class Claim:
    """One guarded write of a contended row (`UPDATE … RETURNING`, or an upsert), with what its answer means.

    `build(prefix, insert, after)` makes the statement with every bind parameter's name prefixed, using `insert`
    (the dialect's INSERT) for an upsert, and adds `after` (when not None) to its WHERE: the condition that the
    claim before it went through. It must be a module-level function, since the statements it makes are built once
    and kept. `check` is a plain SELECT of the same (unprefixed) `params` that returns a row when the claim would go
    through now. `refusal(session)` gives the request's error (409 sold out …); `taken(row)` follows a success."""

    rank: tuple[LockOrder, int]
    """Where the claim stands in the lock order: its kind, then its row's id."""
    build: Builder
    check: Select[Any]
    params: dict[str, Any]
    refusal: Callable[[AsyncSession], Awaitable[Exception]]
    taken: Callable[[tuple[Any, ...]], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Claims:
    """The claims a use case needs; it applies them with one call, last, right before the request commits."""

    items: tuple[Claim, ...] = ()

    def __add__(self, other: Claims) -> Claims:
        return Claims(self.items + other.items)

    def _in_lock_order(self) -> list[Claim]:
        return sorted(self.items, key=lambda claim: claim.rank)

    async def apply(self, session: AsyncSession) -> None:
        """Take every claim in lock order: on PostgreSQL in one statement (the rows wait on one round trip, not one
        each), on SQLite one by one. The first refusal raises its error, and nothing after it is written."""
        claims = self._in_lock_order()
        if len(claims) > 1 and dialect_of(session) == "postgresql":
            statement, widths = _together(tuple(claim.build for claim in claims))
            values = {f"h{position}_{name}": value for position, claim in enumerate(claims)
                      for name, value in claim.params.items()}
            answer = tuple((await session.execute(statement, values)).one())
            at = 0
            for claim, width in zip(claims, widths, strict=True):
                await _answered(session, claim, answer[at + 1:at + 1 + width] if answer[at] else None)
                at += 1 + width
            return
        for claim in claims:
            row = (await session.execute(_alone(claim.build)(session), claim.params)).first()
            await _answered(session, claim, tuple(row) if row is not None else None)

    async def check(self, session: AsyncSession) -> None:
        """Whether every claim would go through now, read without writing or locking (a preview): the first that
        would not raises its error, as `apply` would."""
        for claim in self._in_lock_order():
            if (await session.execute(claim.check, claim.params)).first() is None:
                raise await claim.refusal(session)


async def _answered(session: AsyncSession, claim: Claim, row: tuple[Any, ...] | None) -> None:
    if row is None:
        raise await claim.refusal(session)
    if claim.taken is not None:
        await claim.taken(row)


@cache
def _alone(build: Builder) -> Prebuilt:
    """One claim's statement on its own, built once per dialect."""
    return Prebuilt(lambda insert: build("", insert, None))


@cache
def _together(builds: tuple[Builder, ...]) -> tuple[Select[Any], tuple[int, ...]]:
    """One statement for several claims (PostgreSQL). Every claim is a CTE, read back in order as its row count and
    its first row's columns. Each one's WHERE reads the CTE before it (the one order PostgreSQL guarantees between
    data-modifying CTEs), so the rows are locked in lock order and nothing is written after a refusal. With the
    statement, each claim's column count."""
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
