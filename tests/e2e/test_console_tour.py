"""Every console page once, as the demo's owner at a desktop's size: screenshotted (`make screenshots`, for a person
to look at), nothing refused by the pages' policy, no leftovers of code on the page (None, undefined, NaN), and
every chart drawn. The pages are the app's own console routes, so a new page joins the tour by itself (a new path
parameter needs a demo record in SAMPLES)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from fissionmall.app import create_app
from fissionmall.config import load_settings
from tests.e2e.conftest import StaffDesk

pytestmark = pytest.mark.backend_free

LEFTOVERS = re.compile(r"\b(None|undefined|NaN|null)\b")


def console_paths() -> list[str]:
    app = create_app(load_settings())
    return [r.path for r in iter_route_contexts(app.routes) if r.path.startswith("/console") and "GET" in
            (r.methods or ()) and not r.path.endswith((".csv", "/login"))]


async def samples(owner: StaffDesk) -> dict[str, Any]:
    """A demo record for each path parameter: the newest of each list."""
    campaigns = await owner.api("GET", "/admin/campaigns")
    group = next(c for c in campaigns if c["kind"] == "group")
    return {"campaign_id": group["id"], "product_id": 7,
            "order_id": (await owner.api("GET", "/admin/orders"))["items"][0]["id"],
            "customer_id": (await owner.api("GET", "/admin/customers"))["items"][0]["id"]}


async def test_every_console_page_at_a_desktops_size(staff: Callable[[str], Awaitable[StaffDesk]],
                                                     shots: Path) -> None:
    owner = await staff("owner")
    ids = await samples(owner)
    leftovers, undrawn = [], []
    for template in console_paths():
        missing = [name for name in re.findall(r"{(\w+)}", template) if name not in ids]
        assert not missing, f"add a demo record for {missing} to samples()"
        path = re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), template)
        page = await owner.open(path)
        assert page.url.endswith(path) or "?" in page.url, (path, page.url)
        charts = await page.locator(".chart").count()
        if charts:
            await page.wait_for_function(f"document.querySelectorAll('.chart canvas').length >= {charts}")
        if found := LEFTOVERS.findall(await page.locator("main").inner_text()):
            leftovers.append((path, found))
        if await page.locator(".chart-missing").count():
            undrawn.append(path)
        name = re.sub(r"[{}]", "", template.removeprefix("/console").strip("/").replace("/", "-")) or "dashboard"
        await owner.shot(shots, f"console-tour-{name}")
    assert leftovers == [] and undrawn == [] and owner.refused == []
