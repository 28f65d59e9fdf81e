"""The ASGI application: API under /api/v1, its OpenAPI schema (when API_DOCS is on), media, and the embedded
worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, params
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from fissionmall.analytics.endpoints import admin as analytics_admin
from fissionmall.campaigns.assist.endpoints import router as assist_router
from fissionmall.campaigns.bargain.endpoints import router as bargain_router
from fissionmall.campaigns.endpoints import admin as campaigns_admin
from fissionmall.campaigns.endpoints import router as campaigns_router
from fissionmall.campaigns.giftcards.endpoints import admin as vouchers_admin
from fissionmall.campaigns.giftcards.endpoints import router as vouchers_router
from fissionmall.campaigns.groupbuy.endpoints import router as groupbuy_router
from fissionmall.campaigns.helping.endpoints import router as goods_prizes_router
from fissionmall.campaigns.invites.endpoints import router as invites_router
from fissionmall.campaigns.packets.endpoints import router as packets_router
from fissionmall.campaigns.pointsmall.endpoints import router as points_mall_router
from fissionmall.catalog.endpoints import admin as catalog_admin
from fissionmall.catalog.endpoints import router as catalog_router
from fissionmall.checkout.endpoints import router as checkout_router
from fissionmall.community.endpoints import admin as reviews_admin
from fissionmall.community.endpoints import moderation_admin as community_admin
from fissionmall.community.endpoints import posts_router as community_router
from fissionmall.community.endpoints import router as reviews_router
from fissionmall.composition import build_runtime
from fissionmall.config import Settings, load_settings
from fissionmall.core.errors import install_error_handlers
from fissionmall.core.logging import configure_logging
from fissionmall.core.metrics import REQUESTS, status_class
from fissionmall.core.middleware import BodyLimit, SecurityHeaders
from fissionmall.core.openapi import install_openapi
from fissionmall.core.runtime import Runtime
from fissionmall.coupons.endpoints import admin as coupons_admin
from fissionmall.coupons.endpoints import router as coupons_router
from fissionmall.customers.endpoints import admin as customers_admin
from fissionmall.customers.endpoints import router as customers_router
from fissionmall.distribution.endpoints import admin as distribution_admin
from fissionmall.distribution.endpoints import router as distribution_router
from fissionmall.jobs.worker import load_task_modules, run_forever
from fissionmall.logistics.endpoints import admin as logistics_admin
from fissionmall.logistics.endpoints import router as logistics_router
from fissionmall.loyalty.dividend.endpoints import admin as dividend_admin
from fissionmall.loyalty.dividend.endpoints import router as dividend_router
from fissionmall.loyalty.levels.endpoints import admin as levels_admin
from fissionmall.loyalty.levels.endpoints import router as levels_router
from fissionmall.loyalty.points.endpoints import admin as points_admin
from fissionmall.loyalty.points.endpoints import router as points_router
from fissionmall.loyalty.tasks.endpoints import admin as tasks_admin
from fissionmall.loyalty.tasks.endpoints import router as tasks_router
from fissionmall.merchants.endpoints import router as merchants_router
from fissionmall.operations.endpoints import router as operations_router
from fissionmall.orders.endpoints import admin as orders_admin
from fissionmall.orders.endpoints import router as orders_router
from fissionmall.payments.endpoints import router as payments_router
from fissionmall.platform.endpoints import platform_operator
from fissionmall.platform.endpoints import router as platform_router
from fissionmall.recommend.endpoints import router as recommend_router
from fissionmall.sharing.endpoints import router as sharing_router
from fissionmall.simulation.endpoints import admin as simulations_admin
from fissionmall.simulation.endpoints import forecasts as forecasts_admin
from fissionmall.wallet.endpoints import router as wallet_router
from fissionmall.web import campaign_pages
from fissionmall.web import session as web_session
from fissionmall.web.account import router as account_router
from fissionmall.web.buy import router as buy_router
from fissionmall.web.community import router as community_pages
from fissionmall.web.console import CONSOLE_ROUTERS
from fissionmall.web.console import session as console_session
from fissionmall.web.docs import ASSETS as DOCS_ASSETS
from fissionmall.web.docs import router as docs_router
from fissionmall.web.gifts import router as gifts_router
from fissionmall.web.pages import router as pages_router
from fissionmall.web.templating import STATIC

API = "/api/v1"


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               embedded_worker: bool = False) -> FastAPI:
    settings = runtime.settings if runtime else (settings or load_settings())
    runtime = runtime or build_runtime(settings)
    load_task_modules()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        worker = asyncio.create_task(run_forever(runtime, stop)) if embedded_worker else None
        yield
        stop.set()
        if worker:
            await worker
        await runtime.close()

    # the schema and its page only when API_DOCS is on; the page is ours (web/docs.py), with its assets served here
    app = FastAPI(title="Fission Mall", version="0.1.0", lifespan=lifespan,
                  description="Social e-commerce engine: group buying, bargaining, sharing, distribution.",
                  openapi_url="/openapi.json" if settings.api_docs_enabled else None, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    install_error_handlers(app)
    web_session.install(app)
    console_session.install(app)
    install_openapi(app, {platform_operator: ("platform", "PLATFORM_TOKEN: the platform operator, who creates "
                                                          "merchants.")})
    api_routers: tuple[APIRouter, ...] = (
        customers_router, customers_admin, merchants_router, catalog_router, campaigns_router, catalog_admin,
        checkout_router, orders_router, orders_admin, payments_router, sharing_router, campaigns_admin, groupbuy_router,
        bargain_router, assist_router, invites_router, wallet_router,
        coupons_router, coupons_admin, packets_router, vouchers_router, vouchers_admin, distribution_router,
        distribution_admin, dividend_admin, points_admin, levels_admin, tasks_admin, points_router, levels_router,
        tasks_router, points_mall_router, reviews_router, reviews_admin, dividend_router, simulations_admin,
        analytics_admin, forecasts_admin, recommend_router,
        community_router, community_admin)
    api_routers += (logistics_router, logistics_admin, goods_prizes_router)
    if settings.platform_token:  # unset, the platform API does not exist (404), not even in the schema
        api_routers += (platform_router,)
    for router in api_routers:
        app.include_router(router, prefix=API)
    page_routers = (web_session.router, pages_router, buy_router, campaign_pages.router, gifts_router, account_router,
                    operations_router, *CONSOLE_ROUTERS, *([docs_router] if settings.api_docs_enabled else []),
                    community_pages)
    for router in page_routers:
        app.include_router(router)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    media = StaticFiles(directory=settings.media_dir)
    app.mount("/media", media, name="media")
    static = StaticFiles(directory=STATIC)
    app.mount("/static", static, name="static")
    docs_assets = StaticFiles(directory=swagger_ui_path)
    if settings.api_docs_enabled:
        app.mount(DOCS_ASSETS, docs_assets, name="docs-assets")

    templates = {id(route): API + route.path for router in api_routers for route in router.routes}  # type: ignore[attr-defined]
    templates |= {id(route): route.path for router in page_routers for route in router.routes}  # type: ignore[attr-defined]
    templates |= {id(media): "/media/{path}", id(static): "/static/{path}", id(docs_assets): f"{DOCS_ASSETS}/{{path}}"}
    app.add_middleware(RequestLog, log=runtime.log, templates=templates)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes,
                       upload_paths=[API + route.path for router in api_routers for route in router.routes
                                     if isinstance(route, APIRoute) and _takes_files(route)])
    app.add_middleware(SecurityHeaders, private_prefixes=(f"{API}/admin", f"{API}/auth/", "/console"))
    configure_logging(settings.log_level, settings.log_json)
    return app


def _takes_files(route: APIRoute) -> bool:
    """An upload route: its body is a form with a file in it, and it gets MAX_UPLOAD_BYTES."""
    return any(isinstance(field.field_info, params.File) for field in route.dependant.body_params)


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestLog:
    """Logs each request's status and time (at debug level) and counts it in /metrics by route template; plain
    ASGI, since Starlette's BaseHTTPMiddleware costs a task group and a streamed copy of every response."""

    def __init__(self, app: ASGIApp, log: Any, templates: dict[int, str]) -> None:
        self.app, self.log, self.templates = app, log, templates
        """Each route's (or mounted app's) template by the id of the object the router puts in the scope once it
        matched (`route`, or `endpoint` for a mount): routers included with a prefix keep their own path."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route = self.templates.get(id(scope.get("route") or scope.get("endpoint")), "unmatched")
            method = scope["method"] if scope["method"] in METHODS else "other"  # a bounded set of series
            REQUESTS.labels(method, route, status_class(status)).observe(seconds)
            self.log.debug("request", method=scope["method"], path=scope["path"], status=status,
                           ms=round(seconds * 1000, 1))


def app_from_environment() -> FastAPI:
    """For `uvicorn --factory`: each server process builds its own app from the environment."""
    import os

    return create_app(load_settings(), embedded_worker=os.environ.get("FISSIONMALL_EMBEDDED_WORKER") == "1")
