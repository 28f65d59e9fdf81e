"""Signing in to the console: the session cookie, its CSRF guard on the API, sign-out ending every session, a
disabled member locked out at the next request, and the menu each role sees."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI

from tests.conftest import PUBLIC_BASE
from tests.console.conftest import Desk, sign_in
from tests.support import PASSWORD, Mall, problem


async def test_sign_in_sets_a_strict_http_only_cookie_and_opens_the_dashboard(app: FastAPI, mall: Mall) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE,
                                 headers={"Origin": PUBLIC_BASE}) as browser:
        signed_out = await browser.get("/console", params={"x": "1"})
        assert signed_out.headers["location"] == "/console/login?next=%2Fconsole%3Fx%3D1"
        answer = await sign_in(browser, "acme", "owner")
        cookie = answer.headers["set-cookie"]
        assert answer.status_code == 303 and cookie.startswith("fm_staff=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        page = await browser.get("/console")
        assert page.status_code == 200 and "今日销售额" in page.text and "店主" in page.text
        assert page.headers["cache-control"] == "no-store"


async def test_a_wrong_password_is_said_on_the_form_and_sets_no_cookie(app: FastAPI, mall: Mall) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE,
                                 headers={"Origin": PUBLIC_BASE}) as browser:
        answer = await sign_in(browser, "acme", "owner", password="wrong")
        assert answer.status_code == 401 and "账号或密码错误" in answer.text and "set-cookie" not in answer.headers
        empty = await browser.post("/console/login", data={"merchant_slug": "", "username": "", "password": ""})
        assert empty.status_code == 422 and empty.text.count('class="field-error">') == 3


async def test_the_api_takes_the_cookie_only_with_the_csrf_token(desk: Callable[..., Awaitable[Desk]],
                                                                  mall: Mall) -> None:
    owner = await desk("owner")
    assert (await owner.browser.get("/api/v1/admin/merchant")).status_code == 200  # reading needs no token
    forged = await owner.browser.post("/api/v1/admin/stores", json={"name": "伪造门店"})
    problem(forged, 403, "csrf_failed")
    made = await owner.api("POST", "/admin/stores", json={"name": "新门店"})
    assert made.status_code == 201, made.text


async def test_sign_out_ends_every_session_of_the_member(desk: Callable[..., Awaitable[Desk]], mall: Mall) -> None:
    first, second = await desk("operator"), await desk("operator")
    out = await first.browser.post("/console/logout")
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert (await second.page("/console")).status_code == 303  # the other browser is signed out too
    problem(await second.api("GET", "/admin/merchant"), 401, "session_revoked")


async def test_a_disabled_member_loses_the_console_at_the_next_request(desk: Callable[..., Awaitable[Desk]],
                                                                       mall: Mall) -> None:
    owner, support = await desk("owner"), await desk("support")
    assert (await support.page("/console")).status_code == 200
    staff = (await owner.api("GET", "/admin/staff")).json()
    support_id = next(member["id"] for member in staff if member["username"] == "support")
    assert (await owner.api("PATCH", f"/admin/staff/{support_id}", json={"active": False})).status_code == 200
    assert (await support.page("/console")).headers["location"].startswith("/console/login")


async def test_each_role_sees_only_its_menu_and_is_refused_the_rest(desk: Callable[..., Awaitable[Desk]],
                                                                    mall: Mall) -> None:
    finance = await desk("finance")
    page = (await finance.page("/console")).text
    assert "操作日志" in page and "员工" not in page and "门店核销" not in page
    refused = await finance.page("/console/staff")
    assert refused.status_code in (403, 404)


async def test_a_sign_in_posted_from_another_site_is_refused(app: FastAPI, mall: Mall) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE) as browser:
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            answer = await browser.post("/console/login", headers=headers, data={
                "merchant_slug": "acme", "username": "owner", "password": PASSWORD, "next": "/console"})
            assert answer.status_code == 403 and "set-cookie" not in answer.headers, headers
