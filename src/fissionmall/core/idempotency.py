"""Idempotency-Key for POSTs: the same key and body replay the first answer; another body is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import String, UniqueConstraint, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.errors import InvalidInput
from fissionmall.db.base import Base, IdMixin
from fissionmall.db.sql import insert_ignoring_conflicts

HEADER = "Idempotency-Key"


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    principal: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


async def run_idempotent(
    request: Request,
    session: AsyncSession,
    *,
    principal: str,
    body: Any,
    now: datetime,
    status_code: int,
    action: Callable[[], Awaitable[Any]],
) -> Any:
    """Run `action` once per (principal, key).

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
        json.dumps([request.method, request.url.path, jsonable_encoder(body)], sort_keys=True).encode()
    ).hexdigest()
    claimed = await session.execute(
        insert_ignoring_conflicts(session, IdempotencyKey)
        .values(principal=principal, key=key, request_hash=fingerprint, created_at=now)
        .returning(IdempotencyKey.id)
    )
    claim_id = claimed.scalar()
    if claim_id is None:
        stored = (await session.execute(
            select(IdempotencyKey.request_hash, IdempotencyKey.status_code, IdempotencyKey.response)
            .where(IdempotencyKey.principal == principal, IdempotencyKey.key == key)
        )).one()
        if stored.request_hash != fingerprint:
            raise InvalidInput("idempotency_key_reused",
                               "this Idempotency-Key was used with a different request")
        return JSONResponse(stored.response, status_code=stored.status_code or 200,
                            headers={"Idempotent-Replayed": "true"})
    result = jsonable_encoder(await action())
    await session.execute(
        update(IdempotencyKey).where(IdempotencyKey.id == claim_id)
        .values(status_code=status_code, response=result)
    )
    return JSONResponse(result, status_code=status_code)
