"""Signing in to the console with a staff account. The session is an HttpOnly, SameSite=Strict cookie holding the
staff token; every page checks the staff row (a disabled or demoted member loses access at the next request), and
signing out ends every session of the member."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fissionmall.core.auth import STAFF_COOKIE, StaffMember, cookie_staff_claims, csrf_token, staff_of
from fissionmall.core.deps import SessionDep
from fissionmall.core.errors import DomainError, Forbidden, Unauthorized, validation_problem
from fissionmall.core.messages import hint_for, message_for
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants
from fissionmall.merchants.models import Merchant
from fissionmall.merchants.schemas import StaffLogin
from fissionmall.web.console.nav import NAV, NavItem
from fissionmall.web.session import safe_next, same_origin
from fissionmall.web.templating import templates

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

ROLE_NAMES = {"owner": "店主", "operator": "运营", "finance": "财务", "support": "客服"}


@dataclass(frozen=True)
class Console:
    """Who is using the console: the staff member (role as the staff row says now), their merchant, and the
    session's CSRF token for the page's forms."""

    staff: StaffMember
    merchant: Merchant
    username: str
    csrf: str

    def can(self, permission: str) -> bool:
        return self.staff.can(permission)

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.staff.role, self.staff.role)

    @property
    def nav(self) -> list[NavItem]:
        return [item for item in NAV if self.can(item.permission)]


class ConsoleSignInFirst(Exception):
    """A console page opened without a standing session: off to sign in, then back."""

    def __init__(self, back_to: str) -> None:
        self.back_to = back_to


async def _console(request: Request, session: SessionDep) -> Console:
    claims = cookie_staff_claims(request)
    back_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if claims is None:
        raise ConsoleSignInFirst(back_to)
    try:
        staff = await staff_of(request, claims)
    except Unauthorized:
        raise ConsoleSignInFirst(back_to) from None
    merchant = await merchants.merchant_by_id(session, staff.merchant_id)
    member = await merchants.staff_member(session, staff.merchant_id, staff.staff_id)
    settings = request.app.state.runtime.settings
    return Console(staff, merchant, member.username, csrf_token(settings, request.cookies[STAFF_COOKIE]))


def console_page(permission: str) -> Callable[..., Awaitable[Console]]:
    """Dependency for a console page that needs `permission` to be opened (refused with a page, 403, otherwise)."""

    async def check(console: Annotated[Console, Depends(_console)]) -> Console:
        if not console.can(permission):
            raise Forbidden("forbidden", f"role {console.staff.role} may not open this page")
        return console

    check.permission = permission  # type: ignore[attr-defined]  # read by core.auth.route_permission
    return check


ConsoleReader = Annotated[Console, Depends(console_page("orders.read"))]
"""Any staff member: every role may read orders, the console's baseline."""


def render(request: Request, template: str, console: Console | None, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"console": console, **(context or {})},
                                      status_code=status_code)


@router.get("/console/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None, shop: str = "") -> Response:
    return render(request, "console/login.html", None, {"next": safe_next(next, "/console"), "shop": shop,
                                                        "username": "", "errors": {}})


@router.post("/console/login", response_class=HTMLResponse)
async def sign_in(request: Request, session: SessionDep, runtime: RuntimeDep,
                  merchant_slug: Annotated[str, Form()] = "", username: Annotated[str, Form()] = "",
                  password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    same_origin(request, runtime.settings)
    back_to = safe_next(next, "/console")
    context: dict[str, Any] = {"next": back_to, "shop": merchant_slug, "username": username, "errors": {}}
    try:
        body = StaffLogin(merchant_slug=merchant_slug.strip(), username=username.strip(), password=password)
        ip = request.client.host if request.client else None
        token = await merchants.staff_login(session, runtime, body, ip)
    except ValidationError as invalid:
        context["errors"] = {str(error["loc"][0]): hint_for(dict(error)) for error in invalid.errors()}
        return render(request, "console/login.html", None, context, status_code=422)
    except DomainError as refused:
        context["errors"] = {"form": message_for(refused.code)}
        return render(request, "console/login.html", None, context, status_code=refused.status)
    response = RedirectResponse(back_to, status_code=303)
    response.set_cookie(STAFF_COOKIE, token.token, max_age=token.expires_in, path="/", httponly=True,
                        samesite="strict", secure=runtime.settings.public_base_url.startswith("https://"))
    return response


@router.post("/console/logout")
async def sign_out(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Ends every session of the member (all browsers), not only this cookie."""
    same_origin(request, runtime.settings)
    claims = cookie_staff_claims(request)
    if claims is not None:
        with suppress(Unauthorized):  # already ended
            await merchants.staff_logout(session, runtime.clock.now(), await staff_of(request, claims))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(STAFF_COOKIE, path="/")
    return response


def install(app: FastAPI) -> None:
    """A console page opened signed out (or after the session ended) sends the visitor to sign in; a console page
    whose address carries a value its types refuse (/console/campaigns/abc) answers the console's error page, in
    Chinese; the API keeps its problem+json."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith("/console"):
            return validation_problem(exc)
        in_link = all(e["loc"][0] in ("path", "query") for e in exc.errors())
        code = "invalid_page_link" if in_link else "invalid_request"
        return templates.TemplateResponse(request, "console/error.html", {"message": message_for(code), "code": code},
                                          status_code=422)

    @app.exception_handler(ConsoleSignInFirst)
    async def _sign_in_first(_: Request, exc: ConsoleSignInFirst) -> Response:
        return RedirectResponse(f"/console/login?{urlencode({'next': exc.back_to})}", status_code=303)
