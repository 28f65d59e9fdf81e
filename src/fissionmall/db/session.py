"""The request owns the transaction: one session per request, committed at the edge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

HotUpdate = Callable[[], Awaitable[None]]
_HOT = "hot_updates"


class TransactionSession(AsyncSession):
    """A session whose guarded updates of hot rows run last, right before COMMIT.

    A flash sale sends every order to the same few rows (a SKU's stock, a campaign's units). A row lock is held from
    the update to the commit; taken at the start of a request it would be held through all the request's other
    statements, and the orders of a sale would pass one request-length at a time. Taken at the end, each is held
    for about one round trip and the commit. A refused update raises its own error (409 sold out …) and nothing is
    committed.
    """

    async def run_hot_updates(self) -> None:
        for update in self.info.pop(_HOT, []):
            await update()

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
        await update()


class TransactionalRoute(APIRoute):
    """Commit when the endpoint answers with success; roll back on any error or 4xx/5xx answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run_in_transaction(request: Request) -> Response:
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
