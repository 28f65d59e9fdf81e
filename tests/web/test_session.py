"""Signing in to the shopper pages and the session they keep: the demo's one-tap sign-in, WeChat web authorization,
attribution kept through sign-in, the session cookie in the API guarded against cross-site requests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from fissionmall.core.runtime import Runtime
from tests.support import Mall, problem, value
from tests.wechat_stand_in import APPID, SECRET, WechatStandIn

SITE = "http://mall.test"
CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')
FIELD_ERROR = re.compile(r'<em class="field-error" data-for="(\w+)">([^<]*)</em>')


@pytest.fixture
def settings_overrides(wechat_server: WechatStandIn) -> dict[str, object]:
    return {"wechat_api_base": wechat_server.url, "wechat_open_base": "https://open.weixin.test"}


@pytest.fixture
async def phone(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser: its own cookies, the site's origin on its form posts."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SITE,
                                 headers={"Origin": SITE}) as browser:
        yield browser


async def sign_in(phone: httpx.AsyncClient, nickname: str = "小明", next_url: str = "/m/acme") -> httpx.Response:
    return await phone.post("/m/acme/login", data={"nickname": nickname, "next": next_url})


async def csrf_of(phone: httpx.AsyncClient) -> str:
    found = CSRF.search((await phone.get("/m/acme")).text)
    assert found, "a signed-in page carries the session's CSRF token"
    return found.group(1)


async def test_one_tap_sign_in_sets_the_session_and_comes_back(phone: httpx.AsyncClient, mall: Mall) -> None:
    page = await phone.get("/m/acme/login", params={"next": "/m/acme/products/1"})
    assert page.status_code == 200 and "一键体验登录" in page.text
    answer = await sign_in(phone, next_url=f"/m/acme/products/{mall.product_id}")
    assert answer.status_code == 303 and answer.headers["location"] == f"/m/acme/products/{mall.product_id}"
    cookie = answer.headers.get_list("set-cookie")[0]
    assert cookie.startswith("fm_shopper=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = await phone.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["nickname"] == "小明"
    again = await sign_in(phone)  # the same browser is the same shopper
    assert again.status_code == 303 and (await phone.get("/api/v1/me")).json()["id"] == me.json()["id"]


async def test_a_bad_nickname_is_refused_by_the_field_and_signs_no_one_in(phone: httpx.AsyncClient,
                                                                          mall: Mall) -> None:
    for nickname in ("", "   ", "很" * 21):
        answer = await sign_in(phone, nickname=nickname)
        assert answer.status_code == 422
        assert ("nickname", "请填写昵称（1–20 个字）") in FIELD_ERROR.findall(answer.text)
        assert "set-cookie" not in answer.headers
    assert (await phone.get("/api/v1/me")).status_code == 401


@pytest.mark.parametrize("next_url", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:1"])
async def test_sign_in_never_sends_the_shopper_to_another_site(phone: httpx.AsyncClient, mall: Mall,
                                                               next_url: str) -> None:
    answer = await sign_in(phone, next_url=next_url)
    assert answer.status_code == 303 and answer.headers["location"] == "/m/acme"


async def test_a_sign_in_form_posted_from_another_site_is_refused(phone: httpx.AsyncClient, mall: Mall) -> None:
    answer = await phone.post("/m/acme/login", data={"nickname": "小明", "next": "/m/acme"},
                              headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403 and 'data-code="csrf_failed"' in answer.text
    assert "set-cookie" not in answer.headers


async def test_signing_in_after_a_share_link_keeps_the_attribution(phone: httpx.AsyncClient, mall: Mall,
                                                                   client: httpx.AsyncClient) -> None:
    sharer = await mall.shopper("sharer", nickname="阿花")
    share = await client.post("/shares", headers=sharer, json={"target_type": "product",
                                                               "target_id": mall.product_id})
    landing = await phone.get(f"/s/{share.json()['code']}")
    assert landing.status_code == 200 and "阿花 分享给你的好物" in landing.text
    await sign_in(phone, next_url=f"/s/{share.json()['code']}")
    sharer_id = (await client.get("/me", headers=sharer)).json()["id"]
    me = (await phone.get("/api/v1/me")).json()
    assert me["inviter_id"] == sharer_id and me["depth"] == 1


async def test_the_session_cookie_acts_in_the_api_only_with_its_csrf_token(phone: httpx.AsyncClient, mall: Mall,
                                                                           runtime: Runtime) -> None:
    """A cross-site page can make the browser send the cookie, but cannot read the token: its form post (no header,
    a form body) is refused and changes nothing; the page's own script, with the token, acts."""
    await sign_in(phone)
    share = {"target_type": "product", "target_id": mall.product_id}
    forged = await phone.post("/api/v1/shares", data={k: str(v) for k, v in share.items()},
                              headers={"Origin": "https://evil.example"})
    problem(forged, 403, "csrf_failed")
    assert forged.json()["message"] == "页面已过期，请刷新后再试"
    problem(await phone.post("/api/v1/shares", json=share, headers={"X-CSRF-Token": "0" * 32}), 403, "csrf_failed")
    assert await value(runtime, "SELECT count(*) FROM shares") == 0
    done = await phone.post("/api/v1/shares", json=share, headers={"X-CSRF-Token": await csrf_of(phone)})
    assert done.status_code == 201, done.text
    assert await value(runtime, "SELECT count(*) FROM shares") == 1


async def test_pages_seen_with_the_session_are_never_cached(phone: httpx.AsyncClient, mall: Mall) -> None:
    assert "no-store" not in (await phone.get("/m/acme")).headers.get("cache-control", "")
    await sign_in(phone)
    assert (await phone.get("/m/acme")).headers["cache-control"] == "no-store"


async def test_sign_out_ends_the_session(phone: httpx.AsyncClient, mall: Mall) -> None:
    await sign_in(phone)
    answer = await phone.post("/m/acme/logout")
    assert answer.status_code == 303
    assert (await phone.get("/api/v1/me")).status_code == 401


async def test_dev_login_off_leaves_no_demo_sign_in(phone: httpx.AsyncClient, mall: Mall, runtime: Runtime) -> None:
    runtime.settings.__dict__["dev_login"] = False
    page = await phone.get("/m/acme/login")
    assert "一键体验登录" not in page.text and "请在微信中打开" in page.text
    refused = await sign_in(phone)
    assert refused.status_code == 403 and 'data-code="dev_login_disabled"' in refused.text


# --- inside WeChat ----------------------------------------------------------------------------------------------------

WECHAT_BROWSER = {"User-Agent": "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50 NetType/WIFI"}


async def official_account(mall: Mall) -> None:
    answer = await mall.client.patch("/admin/merchant", headers=await mall.staff("owner"),
                                     json={"wechat_oa_appid": APPID, "wechat_oa_secret": SECRET})
    assert answer.status_code == 200 and answer.json()["wechat_oa_appid"] == APPID
    assert "wechat_oa_secret" not in answer.json()


async def test_in_wechat_the_shopper_signs_in_by_web_authorization(phone: httpx.AsyncClient, mall: Mall,
                                                                   wechat: WechatStandIn) -> None:
    await official_account(mall)
    first = await phone.get("/m/acme/login", params={"next": "/m/acme/me"}, headers=WECHAT_BROWSER)
    assert first.status_code == 303
    to_wechat = await phone.get(first.headers["location"], headers=WECHAT_BROWSER)
    url = urlsplit(to_wechat.headers["location"])
    assert (url.scheme, url.netloc, url.path, url.fragment) == (
        "https", "open.weixin.test", "/connect/oauth2/authorize", "wechat_redirect")
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["appid"] == APPID and query["scope"] == "snsapi_base" and query["response_type"] == "code"
    assert query["redirect_uri"] == f"{SITE}/m/acme/login/wechat/return"
    back = await phone.get("/m/acme/login/wechat/return", params={"code": "code-alice", "state": query["state"]},
                           headers=WECHAT_BROWSER)
    assert back.status_code == 303 and back.headers["location"] == "/m/acme/me"
    assert wechat.requests[-1]["code"] == "code-alice" and wechat.requests[-1]["appid"] == APPID
    assert (await phone.get("/api/v1/me")).status_code == 200


async def test_a_forged_state_or_a_refused_code_signs_no_one_in(phone: httpx.AsyncClient, mall: Mall,
                                                                wechat: WechatStandIn) -> None:
    await official_account(mall)
    forged = await phone.get("/m/acme/login/wechat/return", params={"code": "code-alice", "state": "made.up"})
    assert forged.status_code == 403 and 'data-code="wechat_state_invalid"' in forged.text
    to_wechat = await phone.get("/m/acme/login/wechat")
    state = parse_qs(urlsplit(to_wechat.headers["location"]).query)["state"][0]
    refused = await phone.get("/m/acme/login/wechat/return", params={"code": "stolen", "state": state})
    assert refused.status_code == 401 and 'data-code="wechat_code_rejected"' in refused.text
    assert (await phone.get("/api/v1/me")).status_code == 401
