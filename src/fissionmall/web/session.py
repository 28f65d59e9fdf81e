"""Signing in to the shopper pages: inside WeChat by web authorization (snsapi_base: silent, the official account's
openid), elsewhere by the demo's one-tap sign-in where dev login is on. The session is a cookie holding the shopper
token; a shopper sent to sign in comes back to the page they were on (a share link keeps its attribution)."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.config import Settings
from fissionmall.core.auth import SHOPPER_COOKIE, Shopper, cookie_shopper, csrf_token, issue_token
from fissionmall.core.deps import SessionDep
from fissionmall.core.errors import DomainError, Forbidden, domain_problem
from fissionmall.core.messages import message_for
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.tokens import read_token
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers import service as customers
from fissionmall.customers.schemas import DEVICE_COOKIE, ClientDep, ClientInfo, DevLogin, ShopperToken
from fissionmall.merchants import service as merchants
from fissionmall.web.templating import Visitor, render, templates

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

PAGE_PATHS = ("/m/", "/s/", "/console")
"""Where the shopper pages are: their refusals are pages; everything else (the API, probes, metrics) answers
problem+json."""
SHARE_COOKIE = "fm_share"
"""The last share link this browser opened: a sign-in or an order made afterwards is attributed to it."""
SHARE_DAYS = 7
WECHAT_STATE_SECONDS = 600


async def visitor_of(request: Request, session: AsyncSession, slug: str) -> Visitor:
    shop = await merchants.merchant_by_slug(session, slug)
    shopper = cookie_shopper(request)
    if shopper is None or shopper.merchant_id != shop.id:
        return Visitor(shop, None, "")
    settings: Settings = request.app.state.runtime.settings
    return Visitor(shop, shopper, csrf_token(settings, request.cookies[SHOPPER_COOKIE]))


async def visitor(request: Request, merchant: str, session: SessionDep) -> Visitor:
    """Dependency for pages under /m/{merchant}/…: anyone may look."""
    return await visitor_of(request, session, merchant)


class SignInFirst(Exception):
    """A page for signed-in shoppers, opened signed out: the visitor is sent to sign in and brought back."""

    def __init__(self, shop_slug: str, back_to: str) -> None:
        self.shop_slug, self.back_to = shop_slug, back_to


async def shopper_visitor(request: Request, merchant: str, session: SessionDep) -> Visitor:
    """Dependency for pages that show a shopper's own things (orders, wallet …)."""
    seen = await visitor_of(request, session, merchant)
    if seen.shopper is None:
        raise SignInFirst(merchant, request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return seen


VisitorDep = Annotated[Visitor, Depends(visitor)]
ShopperVisitorDep = Annotated[Visitor, Depends(shopper_visitor)]


def signed_in(visitor: Visitor) -> Shopper:
    assert visitor.shopper is not None  # ShopperVisitorDep guarantees it
    return visitor.shopper


def safe_next(next_url: str | None, fallback: str) -> str:
    """Only a path on this server: never another site (an open redirect)."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return fallback


def _in_wechat(request: Request) -> bool:
    return "micromessenger" in request.headers.get("user-agent", "").lower()


@router.get("/m/{merchant}/login", response_class=HTMLResponse)
async def login_page(request: Request, seen: VisitorDep, runtime: RuntimeDep, next: str | None = None) -> Response:
    back_to = safe_next(next, seen.url())
    wechat = bool(seen.shop.wechat_oa_appid and seen.shop.wechat_oa_secret)
    if wechat and _in_wechat(request):
        return RedirectResponse(f"{seen.url('/login/wechat')}?{urlencode({'next': back_to})}", status_code=303)
    return render(request, "login.html", seen, {"next": back_to, "wechat": wechat,
                                                "dev_login": runtime.settings.dev_login_enabled, "errors": {}})


@router.post("/m/{merchant}/login", response_class=HTMLResponse)
async def demo_sign_in(request: Request, seen: VisitorDep, session: SessionDep, runtime: RuntimeDep,
                       client: ClientDep, nickname: Annotated[str, Form()] = "",
                       next: Annotated[str, Form()] = "") -> Response:
    """The demo's one-tap sign-in (dev login): this browser's device id is the account, the nickname is the
    shopper's to choose."""
    same_origin(request, runtime.settings)
    back_to = safe_next(next, seen.url())
    name = nickname.strip()
    if not name or len(name) > 20:
        return render(request, "login.html", seen, {
            "next": back_to, "wechat": bool(seen.shop.wechat_oa_appid), "dev_login": runtime.settings.dev_login_enabled,
            "nickname": nickname, "errors": {"nickname": "请填写昵称（1–20 个字）"}}, status_code=422)
    device = client.device_id or secrets.token_hex(12)
    body = DevLogin(merchant_slug=seen.shop.slug, openid=f"web-{device}"[:64], nickname=name,
                    share_code=request.cookies.get(SHARE_COOKIE))
    token = await customers.dev_login(session, runtime, body, ClientInfo(device, client.ip))
    return _signed_in(runtime.settings, token, back_to, device)


@router.get("/m/{merchant}/login/wechat")
async def wechat_authorize(seen: VisitorDep, runtime: RuntimeDep, next: str | None = None) -> Response:
    """Off to WeChat's web authorization; `state` is signed and carries where to come back to."""
    settings = runtime.settings
    if not seen.shop.wechat_oa_appid:
        raise customers.WechatLoginFailed("wechat_not_configured", "this merchant has no official account")
    state = issue_token(settings, {"aud": "wechat-state", "mid": seen.shop.id, "next": safe_next(next, seen.url())},
                        now=runtime.clock.now(), ttl_seconds=WECHAT_STATE_SECONDS)
    query = urlencode({"appid": seen.shop.wechat_oa_appid,
                       "redirect_uri": f"{settings.public_base_url}{seen.url('/login/wechat/return')}",
                       "response_type": "code", "scope": "snsapi_base", "state": state}, quote_via=quote)
    return RedirectResponse(f"{settings.wechat_open_base}/connect/oauth2/authorize?{query}#wechat_redirect",
                            status_code=303)


@router.get("/m/{merchant}/login/wechat/return")
async def wechat_return(request: Request, seen: VisitorDep, session: SessionDep, runtime: RuntimeDep,
                        client: ClientDep, code: str = "", state: str = "") -> Response:
    """Where WeChat sends the shopper back with a one-time code."""
    claims = read_token(runtime.settings.signing_keys, state, now=runtime.clock.now())
    if not claims or claims.get("aud") != "wechat-state" or claims.get("mid") != seen.shop.id:
        raise Forbidden("wechat_state_invalid", "the sign-in link has expired or was not made here; start again")
    if not code or len(code) > 128:
        raise customers.WechatLoginFailed("wechat_code_rejected", "WeChat sent no code (the shopper declined)")
    device = client.device_id or secrets.token_hex(12)
    token = await customers.web_login(session, runtime, seen.shop, code, request.cookies.get(SHARE_COOKIE),
                                      ClientInfo(device, client.ip))
    return _signed_in(runtime.settings, token, safe_next(str(claims.get("next")), seen.url()), device)


@router.post("/m/{merchant}/logout")
async def sign_out(request: Request, seen: VisitorDep, runtime: RuntimeDep) -> Response:
    same_origin(request, runtime.settings)
    response = RedirectResponse(seen.url(), status_code=303)
    response.delete_cookie(SHOPPER_COOKIE, path="/")
    return response


def same_origin(request: Request, settings: Settings) -> None:
    """A sign-in or sign-out form posted from another site is refused (login CSRF): browsers send Origin on
    every POST, and Sec-Fetch-Site where Origin is withheld; a request with neither is no browser's form."""
    origin = request.headers.get("origin")
    cross_site = request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")
    if cross_site or (origin is not None and origin not in (settings.public_base_url,
                                                            f"{request.url.scheme}://{request.url.netloc}")):
        raise Forbidden("csrf_failed", "this form was sent from another site")


def _signed_in(settings: Settings, token: ShopperToken, back_to: str, device: str) -> Response:
    response = RedirectResponse(back_to, status_code=303)
    secure = settings.public_base_url.startswith("https://")
    response.set_cookie(SHOPPER_COOKIE, token.token, max_age=token.expires_in, path="/", httponly=True,
                        samesite="lax", secure=secure)
    response.set_cookie(DEVICE_COOKIE, device, max_age=400 * 24 * 3600, path="/", httponly=True, samesite="lax",
                        secure=secure)
    return response


def remember_share(response: Response, settings: Settings, code: str) -> None:
    response.set_cookie(SHARE_COOKIE, code, max_age=SHARE_DAYS * 24 * 3600, path="/", httponly=True,
                        samesite="lax", secure=settings.public_base_url.startswith("https://"))


def install(app: FastAPI) -> None:
    """Pages answer in HTML: a refusal becomes a page with its Chinese message, a signed-out visitor of a private
    page is sent to sign in; the API keeps its problem+json."""

    @app.exception_handler(SignInFirst)
    async def _sign_in_first(_: Request, exc: SignInFirst) -> Response:
        return RedirectResponse(f"/m/{exc.shop_slug}/login?{urlencode({'next': exc.back_to})}", status_code=303)

    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> Response:
        if not request.url.path.startswith(PAGE_PATHS):
            return domain_problem(exc)
        page = "console/error.html" if request.url.path.startswith("/console") else "error.html"
        return templates.TemplateResponse(request, page, {"message": message_for(exc.code), "code": exc.code},
                                          status_code=exc.status)
