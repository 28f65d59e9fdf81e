"""The request owns the transaction: one session per request, committed at the edge."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.audit import audit_staff_write, declares_no_write
from fissionmall.core.auth import SAFE_METHODS, current_shopper, current_staff, presents
from fissionmall.core.errors import Unauthorized

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
    before it resolves dependencies, and a stranger's body is not worth reading.

    A successful state-changing request of a staff member writes its audit row (`core/audit.py`) in the same
    transaction, right before the commit: every staff write is logged, whichever client made it (a route that declares
    it writes nothing, `core.audit.WRITES_NOTHING`, is not a write)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        audience = required_audience(self.dependant)
        audited = (audience == "staff" and bool((self.methods or set()) - SAFE_METHODS)
                   and not declares_no_write(self.dependant))

        async def run_in_transaction(request: Request) -> Response:
            if audience and not presents(request, audience):
                raise Unauthorized("unauthenticated", f"a valid {audience} token is required")
            async with request.app.state.runtime.sessionmaker() as session:
                request.state.session = session
                response = await handler(request)
                if response.status_code < 400:
                    if audited:
                        await audit_staff_write(request, response, session, f"{request.method} {self.path}")
                    await session.commit()
                return response

        return run_in_transaction


async def get_session(request: Request) -> AsyncSession:
    """A coroutine, so FastAPI resolves it without a thread hop."""
    session: AsyncSession = request.state.session
    return session
