"""The audit log of staff writes (操作日志): every successful state-changing request of a staff member leaves one row,
written by `TransactionalRoute` in the request's own transaction through the writer the merchants domain provides
(`Runtime.staff_audit`), so no endpoint can forget it and a rolled-back request leaves none.

A service adds what it alone knows through the session: `note_before` (the record as it was, for settings and records
changed in place), or `mark_audited` when it wrote a richer row of its own (sign-out, staff changes).

A route that takes a POST yet changes nothing (a forecast, a linter run) declares it with
`dependencies=[WRITES_NOTHING]`: `TransactionalRoute` reads the declaration and writes no row for it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import StaffMember

_NOTE = "fissionmall.audit"
REDACTED = "***"
SECRET = re.compile(r"password|secret|token|private|api_?key|id_number|card_no", re.IGNORECASE)
"""Keys whose values never reach the log: passwords, credentials, identity numbers."""


@dataclass
class AuditNote:
    before: dict[str, Any] | None = None
    written: bool = False


@dataclass(frozen=True)
class StaffWrite:
    """One staff write as the request saw it."""

    staff: StaffMember
    action: str
    """The route, e.g. `POST /admin/orders/{order_id}/ship`."""
    subject: str
    """The path's ids, e.g. `order:12`, or the created record's id."""
    detail: dict[str, Any] = field(default_factory=dict)
    """`after` (the request body, secrets redacted), `before` when a service noted it."""


class StaffAuditWriter(Protocol):
    """Appends one row to the merchant's audit log; the merchants domain provides it."""

    async def __call__(self, session: AsyncSession, now: datetime, write: StaffWrite) -> None: ...


def _note(session: AsyncSession) -> AuditNote:
    note: AuditNote = session.info.setdefault(_NOTE, AuditNote())
    return note


def note_before(session: AsyncSession, before: Any, fields: Iterable[str] | None = None) -> None:
    """What the record (or settings) looked like before this request changed it: shown as before → after. With
    `fields`, those attributes of `before` (a row); None (nothing set up yet) is noted as empty."""
    if before is not None and fields is not None:
        before = {name: getattr(before, name, None) for name in fields}
    _note(session).before = redact(jsonable_encoder(before)) if before is not None else {}


def mark_audited(session: AsyncSession) -> None:
    """This request's use case wrote its own audit row (or found that nothing changed): the generic one is not
    written."""
    _note(session).written = True


def writes_nothing() -> None:
    """Declares a state-changing method's route read-only (see WRITES_NOTHING); it does nothing when it runs."""


WRITES_NOTHING = Depends(writes_nothing)
"""`dependencies=[WRITES_NOTHING]` on a route that is a POST for its body's sake but changes nothing: no audit row."""


def declares_no_write(dependant: Dependant) -> bool:
    """Whether a route (its dependencies, at any depth) declares it writes nothing."""
    return any(d.call is writes_nothing or declares_no_write(d) for d in dependant.dependencies)


def redact(value: Any) -> Any:
    """The value with every secret-looking key's value replaced."""
    if isinstance(value, Mapping):
        return {key: REDACTED if SECRET.search(str(key)) and item is not None else redact(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def subject_of(path_params: Mapping[str, Any], created: Any) -> str:
    """`order:12` from `{order_id}`; every path parameter, in the path's order; a created record's id otherwise."""
    parts = [f"{name.removesuffix('_id')}:{value}" for name, value in path_params.items()]
    if not parts and created is not None:
        parts = [f"new:{created}"]
    return " ".join(parts)[:120]


async def _after(request: Request) -> Any:
    """The request body as it was sent (JSON), or a form's plain fields (an upload's files by name only)."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/") or kind.startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        return {key: getattr(value, "filename", value) for key, value in form.multi_items()}
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _created(response: Response) -> Any:
    if response.status_code != 201 or not response.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        answer = json.loads(bytes(response.body))
    except (ValueError, AttributeError):
        return None
    return answer.get("id") if isinstance(answer, dict) else None


async def audit_staff_write(request: Request, response: Response, session: AsyncSession, action: str) -> None:
    """The row of a successful staff write, unless its use case wrote one already or the answer is a replay of an
    Idempotency-Key's first (which was logged when it ran)."""
    note = _note(session)
    staff: StaffMember | None = getattr(request.state, "staff", None)
    if note.written or staff is None or response.headers.get("Idempotent-Replayed"):
        return
    detail: dict[str, Any] = {}
    after = await _after(request)
    if after is not None:
        detail["after"] = redact(after)
    if note.before is not None:
        detail["before"] = note.before
    runtime = request.app.state.runtime
    write = StaffWrite(staff=staff, action=action, subject=subject_of(request.path_params, _created(response)),
                       detail=detail)
    await runtime.staff_audit(session, runtime.clock.now(), write)
