"""Domain errors with stable codes, rendered as application/problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from fissionmall.core.logging import get_logger
from fissionmall.core.messages import hint_for, message_for

PROBLEM = "application/problem+json"
NOT_IN_REPERTOIRE = "22021"
"""PostgreSQL's SQLSTATE for text it cannot store: a NUL character, which JSON and URLs can carry."""


class DomainError(Exception):
    """A refusal a client can act on. Subclasses fix the status; `code` is the stable contract."""

    status = 400
    title = "Bad request"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The request is valid but the current state forbids it (e.g. an invalid transition)."""

    status = 409
    title = "Conflict"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class TooManyRequests(DomainError):
    """Refused for now; an integer `retry_after` extra (seconds) is also sent as the Retry-After header."""

    status = 429
    title = "Too many requests"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": f"https://fissionmall.dev/problems/{code}", "title": title, "status": status,
            "detail": detail, "code": code, "message": message_for(code), **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def domain_problem(exc: DomainError) -> JSONResponse:
    response = problem(exc.status, exc.code, exc.title, exc.detail, **exc.extra)
    if "retry_after" in exc.extra:
        response.headers["Retry-After"] = str(exc.extra["retry_after"])
    return response


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    """A request the route's types refuse (body, query or path): 422 with each field's Chinese hint."""
    errors = [
        {"field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), "message": e["msg"],
         "hint": hint_for(e)}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "", "message": "invalid"}
    return problem(422, "invalid_request", "Invalid input", f"{first['field']}: {first['message']}", errors=errors)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail))

    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: PoolTimeout) -> JSONResponse:
        """Every database connection of this process stayed busy for the pool's whole timeout: a burst larger than
        the process can queue. Nothing was written; the client may try again shortly."""
        get_logger().warning("pool_exhausted", path=request.url.path)
        response = problem(503, "server_busy", "Service unavailable",
                           "the mall is busier than it can answer right now; try again in a moment")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        """A lost database connection (a failover, a restart: SQLAlchemy has dropped the pool's connections, so the
        next request connects afresh) is answered 503, to be repeated. Text with a NUL character, which PostgreSQL
        refuses at the first statement that carries it, is the client's input: 422. Any other error stays a 500."""
        if exc.connection_invalidated:
            get_logger().warning("database_unavailable", path=request.url.path, error=str(exc.orig))
            response = problem(503, "database_unavailable", "Service unavailable",
                               "the database connection was lost; this request may or may not have been applied: "
                               "send it again (with the same Idempotency-Key) in a moment")
            response.headers["Retry-After"] = "1"
            return response
        if getattr(exc.orig, "sqlstate", None) != NOT_IN_REPERTOIRE:
            raise exc
        return problem(422, "invalid_request", "Invalid input", "text may not contain the NUL character (\\u0000)")
