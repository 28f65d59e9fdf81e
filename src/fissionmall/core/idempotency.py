"""Idempotency-Key for POSTs: the same key and body replay the first answer; another body is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import String, UniqueConstraint, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.errors import InvalidInput
from fissionmall.db.base import Base, Id, TenantIdMixin, tenant_key
from fissionmall.db.sql import Direct, table

HEADER = "Idempotency-Key"


class IdempotencyKey(TenantIdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (*tenant_key(), UniqueConstraint("principal", "key", "merchant_id"))

    merchant_id: Mapped[int] = mapped_column(Id)
    """The principal's merchant (a customer or staff member belongs to one)."""
    principal: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


_KEYS = table(IdempotencyKey)
_CLAIM = Direct(lambda insert: insert(_KEYS).on_conflict_do_nothing().returning(_KEYS.c.id))
_STORED = select(_KEYS.c.request_hash, _KEYS.c.status_code, _KEYS.c.response).where(
    _KEYS.c.principal == bindparam("principal"), _KEYS.c.key == bindparam("key"),
    _KEYS.c.merchant_id == bindparam("merchant_id"))
_ANSWER = Direct(lambda _: update(_KEYS).where(
    _KEYS.c.id == bindparam("claim_id"), _KEYS.c.merchant_id == bindparam("merchant")).values(
    status_code=bindparam("answer_status"), response=bindparam("answer", type_=_KEYS.c.response.type)))


def _plain(value: Any) -> Any:
    """JSON-ready data; a pydantic model dumps itself (several times faster than jsonable_encoder)."""
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else jsonable_encoder(value)


T = TypeVar("T")


async def run_idempotent(
    request: Request,
    session: AsyncSession,
    *,
    principal: str,
    merchant_id: int,
    body: Any,
    now: datetime,
    status_code: int,
    action: Callable[[], Awaitable[T]],
) -> T | JSONResponse:
    """Run `action` once per (principal, key) of a merchant's: its answer without a key, else the answer as stored.

    The key row is claimed first, in the request's transaction: a concurrent twin waits on the unique
    key, finds the finished row once the first commits, and replays it. A failed first attempt rolls
    the claim back with everything else, so a retry runs again.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return await action()
    if not 1 <= len(key) <= 100:
        raise InvalidInput("invalid_idempotency_key", "Idempotency-Key must be 1 to 100 characters")
    fingerprint = hashlib.sha256(
        json.dumps([request.method, request.url.path, _plain(body)], sort_keys=True).encode()
    ).hexdigest()
    claim_id = await _CLAIM.scalar(session, dict(merchant_id=merchant_id, principal=principal, key=key,
                                                 request_hash=fingerprint, created_at=now))
    if claim_id is None:
        stored = (await session.execute(_STORED, dict(principal=principal, key=key, merchant_id=merchant_id))).one()
        if stored.request_hash != fingerprint:
            raise InvalidInput("idempotency_key_reused",
                               "this Idempotency-Key was used with a different request")
        return JSONResponse(stored.response, status_code=stored.status_code or 200,
                            headers={"Idempotent-Replayed": "true"})
    result = _plain(await action())
    await _ANSWER.rows(session, dict(claim_id=claim_id, merchant=merchant_id, answer_status=status_code,
                                     answer=result))
    return JSONResponse(result, status_code=status_code)
