"""The console as a browser uses it: a staff member signs in through /console/login (the session cookie), opens
pages, and acts through the merchant API with the cookie and the page's CSRF token, as the console's forms do."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import PUBLIC_BASE
from tests.support import PASSWORD, Mall

CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')


@dataclass
class Desk:
    """One staff member's browser on the console."""

    browser: httpx.AsyncClient
    role: str
    csrf: str = ""

    async def page(self, path: str, **params: Any) -> httpx.Response:
        return await self.browser.get(path, params=params)

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The merchant API as the console's forms call it: the session cookie and X-CSRF-Token."""
        return await self.browser.request(method, f"/api/v1{path}", headers={"X-CSRF-Token": self.csrf}, **kwargs)


async def sign_in(browser: httpx.AsyncClient, slug: str, username: str, password: str = PASSWORD) -> httpx.Response:
    return await browser.post("/console/login", data={"merchant_slug": slug, "username": username,
                                                      "password": password, "next": "/console"})


@pytest.fixture
async def desk(app: FastAPI, mall: Mall) -> AsyncIterator[Callable[..., Awaitable[Desk]]]:
    """desk("finance") -> that role of `mall` signed in to the console (desk("owner", slug="beta") for another
    merchant's)."""
    browsers: list[httpx.AsyncClient] = []

    async def open_desk(role: str = "owner", *, slug: str = "acme") -> Desk:
        browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE,
                                    headers={"Origin": PUBLIC_BASE})
        browsers.append(browser)
        answer = await sign_in(browser, slug, role)
        assert answer.status_code == 303, answer.text
        found = CSRF.search((await browser.get("/console")).text)
        assert found, "a console page carries the session's CSRF token"
        return Desk(browser, role, found.group(1))

    yield open_desk
    for browser in browsers:
        await browser.aclose()
