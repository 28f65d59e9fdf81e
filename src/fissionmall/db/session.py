"""The request owns the transaction: one session per request, committed at the edge."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession


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


def get_session(request: Request) -> AsyncSession:
    session: AsyncSession = request.state.session
    return session
