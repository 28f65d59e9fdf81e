"""Browser journeys: a real server process (`fissionmall migrate`, `demo`, `serve` on a SQLite file, its embedded
worker delivering payment notifications), Debian's Chromium driven by Playwright, one browser context per person at
a phone's size. Screenshots land in $E2E_SCREENSHOTS (default: the test's tmp folder) for a person to look at."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Dialog, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--lang=zh-CN"]
BIN = Path(sys.executable).parent
PHONE = {"width": 390, "height": 844}
SHOP = "demo"
OWNER = {"merchant_slug": "demo", "username": "owner", "password": "demo-pass-2026"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`fissionmall migrate`, `demo` and `serve`, as a merchant would run them: one mall for every journey (each
    journey makes its own people and, where it needs one, its own campaign)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("Debian's chromium is needed for browser tests (make test installs it)")
    folder = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'mall.db'}", MEDIA_DIR=str(folder / "media"),
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    for command in ("migrate", "demo"):
        subprocess.run([BIN / "fissionmall", command], env=env, check=True, capture_output=True)
    process = subprocess.Popen([BIN / "fissionmall", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/v1/products", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("E2E_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


def refused_by_the_policy(page: Page) -> list[str]:
    """What the browser reports blocking under the pages' Content-Security-Policy (filled as the page runs)."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    return refused


async def api_as(base: str, token: str, method: str, path: str, **kwargs: Any) -> Any:
    """The API with a bearer token, for checking what the pages did: the answer's JSON (a refusal fails the test)."""
    async with httpx.AsyncClient(base_url=f"{base}/api/v1", timeout=10) as client:
        response = await client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


@dataclass
class Person:
    """One shopper with their own phone (browser context): what they see, and the API as them, for checking the
    state the pages claim."""

    name: str
    context: BrowserContext
    page: Page
    base: str
    refused: list[str]

    async def open(self, path_or_url: str) -> Page:
        await self.page.goto(path_or_url if path_or_url.startswith("http") else self.base + path_or_url)
        return self.page

    async def sign_in(self) -> None:
        """On the sign-in page the site sent them to (or opened directly): the demo's one-tap sign-in."""
        if "/login" not in self.page.url:
            await self.open(f"/m/{SHOP}/login")
        await self.page.fill("input[name=nickname]", self.name)
        async with self.page.expect_navigation():  # the session cookie comes with the answer to this post
            await self.page.click("text=一键体验登录")

    async def token(self) -> str:
        cookies = await self.context.cookies()
        return next(c["value"] for c in cookies if c["name"] == "fm_shopper")

    async def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """The API as this shopper (bearer token from their session): for checks, never for acting."""
        return await api_as(self.base, await self.token(), method, path, **kwargs)

    async def shot(self, folder: Path, name: str) -> None:
        await self.page.screenshot(path=folder / f"{name}.png", full_page=True)


@pytest.fixture
async def people(browser: Browser, server: str) -> AsyncIterator[Callable[[str], Awaitable[Person]]]:
    """people("阿花") -> a person with a fresh phone, signed in through the pages; contexts closed after the test."""
    contexts: list[BrowserContext] = []

    async def person(name: str, *, signed_in: bool = True) -> Person:
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
        contexts.append(context)
        page = await context.new_page()
        someone = Person(name, context, page, server, refused_by_the_policy(page))
        if signed_in:
            await someone.sign_in()
        return someone

    yield person
    for context in contexts:
        await context.close()


async def live_campaign(server: str, kind: str, name: str, settings: dict[str, Any]) -> int:
    """A campaign made and activated by the demo's owner, running from a minute ago for a week: its id."""
    now = datetime.now(UTC)
    campaign = await owner_api(server, "POST", "/admin/campaigns", json={
        "kind": kind, "name": name, "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat(), "settings": settings})
    await owner_api(server, "POST", f"/admin/campaigns/{campaign['id']}/activate")
    campaign_id: int = campaign["id"]
    return campaign_id


async def check_out_and_pay(person: Person, checkout_url: str | None = None) -> int:
    """On the checkout page (opened, or where the person's last tap led): the address typed if the book has none,
    提交订单, 立即支付, the sandbox's confirm, then the order page once the payment is applied. The order's id."""
    page = await person.open(checkout_url) if checkout_url else person.page
    await page.wait_for_url("**/checkout?**")
    if not await page.input_value("input[name='address.name']"):
        await page.fill("input[name='address.name']", person.name)
        await page.fill("input[name='address.phone']", "13800138000")
        await page.fill("input[name='address.detail']", "南京西路 1 号")
    await page.click("text=提交订单")
    await page.wait_for_url("**/pay")
    order_id = int(page.url.split("/orders/")[1].split("/")[0])
    await page.click("text=立即支付")
    await page.wait_for_url("**/sandbox/pay/*")
    await page.click("text=模拟支付")
    await page.wait_for_url(f"**/orders/{order_id}*")
    await page.wait_for_selector("div.status:not([data-refresh-seconds])")
    return order_id


async def accept_dialog(dialog: Dialog) -> None:
    """The pages ask before cancelling, deleting, confirming receipt or ending: the person says yes."""
    await dialog.accept()


async def owner_api(server: str, method: str, path: str, **kwargs: Any) -> Any:
    """The merchant's API as the demo owner: for setting a journey up (a campaign) and checking its outcome."""
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as client:
        login = await client.post("/admin/auth/login", json=OWNER)
        response = await client.request(method, path, headers={"Authorization": f"Bearer {login.json()['token']}"},
                                        **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


DESKTOP = {"width": 1280, "height": 800}
DEMO_PASSWORD = OWNER["password"]


@dataclass
class StaffDesk:
    """One staff member at a desktop browser, signed in to the console through its sign-in page."""

    role: str
    context: BrowserContext
    page: Page
    base: str
    refused: list[str]

    async def open(self, path: str) -> Page:
        await self.page.goto(self.base + path)
        return self.page

    async def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """The merchant API as this role (its own bearer token): for checking what the console did, never for acting."""
        async with httpx.AsyncClient(base_url=f"{self.base}/api/v1", timeout=10) as client:
            login = await client.post("/admin/auth/login", json={**OWNER, "username": self.role})
        return await api_as(self.base, login.json()["token"], method, path, **kwargs)

    async def shot(self, folder: Path, name: str) -> None:
        await self.page.screenshot(path=folder / f"{name}.png", full_page=True)


@pytest.fixture
async def staff(browser: Browser, server: str) -> AsyncIterator[Callable[[str], Awaitable[StaffDesk]]]:
    """staff("finance") -> the demo's member of that role signed in to the console at a desktop's size."""
    contexts: list[BrowserContext] = []

    async def desk(role: str) -> StaffDesk:
        context = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
        contexts.append(context)
        page = await context.new_page()
        member = StaffDesk(role, context, page, server, refused_by_the_policy(page))
        await member.open("/console/login")
        await page.fill("input[name=merchant_slug]", SHOP)
        await page.fill("input[name=username]", role)
        await page.fill("input[name=password]", DEMO_PASSWORD)
        async with page.expect_navigation():
            await page.click("button:has-text('登录')")
        return member

    yield desk
    for context in contexts:
        await context.close()
