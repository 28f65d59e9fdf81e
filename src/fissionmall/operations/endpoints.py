"""Probes and metrics, outside /api/v1 and out of the OpenAPI schema: they are for the platform, not for clients."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from fissionmall.core.errors import Unauthorized, problem
from fissionmall.core.runtime import RuntimeDep
from fissionmall.operations import service

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and answering; asks nothing of the database (a liveness probe must not restart every
    server because the database is away)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    ready = await service.readiness(runtime)
    if ready.failing:
        return problem(503, "not_ready", "Service unavailable", f"not ready: {', '.join(ready.failing)}",
                       checks=ready.checks, dead_jobs=ready.dead_jobs)
    return JSONResponse({"status": "ready", "checks": ready.checks, "dead_jobs": ready.dead_jobs})


@router.get("/metrics")
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    token = runtime.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("metrics_token_required", "GET /metrics needs the METRICS_TOKEN bearer token")
    return Response(await service.metrics_text(runtime), media_type=CONTENT_TYPE_LATEST)
