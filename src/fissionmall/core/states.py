"""Statuses as state machines: each stateful domain declares its moves once (its `states.py`), and every status
write is a compare-and-set against that table, so a record never takes a move the table does not allow, however
two requests or a request and a sweep race for it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Table, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from fissionmall.core.events import Happened, record_events

S = TypeVar("S", bound=StrEnum)


class StateMachine(Generic[S]):
    """The allowed moves between the states of one kind of record."""

    def __init__(self, moves: Mapping[S, Iterable[S]]) -> None:
        self.moves: dict[S, frozenset[S]] = {state: frozenset(targets) for state, targets in moves.items()}
        states = set(self.moves)
        for targets in self.moves.values():
            if unknown := targets - states:
                raise ValueError(f"moves to states with no entry: {sorted(unknown)}")

    def can_move(self, current: str, target: S) -> bool:
        return any(state == current and target in targets for state, targets in self.moves.items())

    def sources(self, target: S) -> frozenset[S]:
        """The states a record may be in for `target` to be a legal move: the WHERE of a compare-and-set."""
        return frozenset(state for state, targets in self.moves.items() if target in targets)

    def guard(self, column: ColumnElement[Any] | InstrumentedAttribute[Any], target: S) -> ColumnElement[bool]:
        """The WHERE of a compare-and-set to `target`: `column = :state` when one state may move there (a plain bound
        parameter: an expanding IN is rendered again at every execution, a cost on hot paths), IN when several."""
        sources = sorted(state.value for state in self.sources(target))
        return column == sources[0] if len(sources) == 1 else column.in_(sources)

    def final(self) -> frozenset[S]:
        return frozenset(state for state, targets in self.moves.items() if not targets)


@dataclass(frozen=True)
class Moved:
    """The event each moved record writes: its kind, and the subject type the record is known by."""

    kind: str
    subject_type: str
    campaign_id: int | None = None
    data: dict[str, Any] | None = None


async def transition(session: AsyncSession, machine: StateMachine[S], table: Table | type[Any], ids: Sequence[int],
                     to: S, *, at: datetime | None = None, where: Sequence[Any] = (),
                     values: Mapping[str, Any] | None = None, event: Moved | None = None) -> list[int]:
    """Move the records `ids` to `to` where their current status allows it (and `where` holds), in one
    UPDATE … WHERE status IN (sources) RETURNING; write `event` for each record moved, at `at`, in the same
    transaction. Returns the ids that moved: a record another request moved first is simply not among them.
    `table` is a Core table, or a mapped class when the session holds loaded records that must show the move."""
    if event is not None and at is None:
        raise ValueError("an event needs the time it happened at")
    if not ids:
        return []
    columns = table.c if isinstance(table, Table) else table
    statement = (
        update(table)
        .where(columns.id.in_(ids), machine.guard(columns.status, to), *where)
        .values(status=to.value, **(values or {}))
        .returning(columns.id, columns.merchant_id)
    )
    moved = (await session.execute(statement)).all()
    if event is not None and at is not None and moved:
        await record_events(session, event.kind, at, [
            Happened(merchant_id=merchant_id, subject=(event.subject_type, record_id), campaign_id=event.campaign_id,
                     data=event.data)
            for record_id, merchant_id in moved])
    return [record_id for record_id, _ in moved]
