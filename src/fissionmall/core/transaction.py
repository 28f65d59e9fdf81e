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
from fissionmall.core.outbox import commit_and_wake

_TOKEN_REQUIRED = {current_shopper: "shopper", current_staff: "staff"}


def required_audience(dependant: Dependant) -> str | None:
    """The token audience a route cannot run without (a shopper's or a staff member's), if any."""
    for dependency in dependant.dependencies:
        audience = _TOKEN_REQUIRED.get(dependency.call) or required_audience(dependency)  # type: ignore[arg-type]
        if audience:
            return audience
    return None


def reads_replica(dependant: Dependant) -> bool:
    """Whether the route, or a dependency of it, takes the replica's session (`ReplicaSessionDep`)."""
    return any(dependency.call is get_replica_session or reads_replica(dependency)
               for dependency in dependant.dependencies)


class TransactionalRoute(APIRoute):
    """Commit when the endpoint answers with success; roll back on any error or 4xx/5xx answer.

    A route that needs a token refuses a request without a valid one first: FastAPI reads and parses the body
    before it resolves dependencies, and a stranger's body is not worth reading.

    A successful state-changing request of a staff member writes its audit row (`core/audit.py`) in the same
    transaction, right before the commit: every staff write is logged, whichever client made it (a route that declares
    it writes nothing, `core.audit.WRITES_NOTHING`, is not a write).

    A GET that takes `ReplicaSessionDep` also gets a read-only session on the replica (DATABASE_REPLICA_URL), when
    there is one, for the answer it builds; its token and staff checks still read the primary. Any other method
    taking it is refused when the app is built: a write request reads only the primary."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        writes = bool((self.methods or set()) - SAFE_METHODS)
        audience = required_audience(self.dependant)
        audited = audience == "staff" and writes and not declares_no_write(self.dependant)
        on_replica = reads_replica(self.dependant)
        if on_replica and writes:
            raise TypeError(f"{self.path}: only a GET may read the replica; a write request reads the primary")

        async def run_in_transaction(request: Request) -> Response:
            if audience and not presents(request, audience):
                raise Unauthorized("unauthenticated", f"a valid {audience} token is required")
            runtime = request.app.state.runtime
            async with runtime.sessionmaker() as session:
                request.state.session = session
                if on_replica and runtime.replica_sessionmaker is not None:
                    async with runtime.replica_sessionmaker() as replica:
                        request.state.replica_session = replica
                        response = await handler(request)
                else:
                    request.state.replica_session = session
                    response = await handler(request)
                if response.status_code < 400:
                    if audited:
                        await audit_staff_write(request, response, session, f"{request.method} {self.path}")
                    await commit_and_wake(session)
                return response

        return run_in_transaction


async def get_session(request: Request) -> AsyncSession:
    """A coroutine, so FastAPI resolves it without a thread hop."""
    session: AsyncSession = request.state.session
    return session


async def get_replica_session(request: Request) -> AsyncSession:
    """The replica's session of a lag-tolerant GET (the request's own session when there is no replica)."""
    session: AsyncSession = request.state.replica_session
    return session
