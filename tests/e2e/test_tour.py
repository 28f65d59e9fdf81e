"""Every shopper page once, at a phone's size: screenshotted (for a person to look at: `make screenshots`), light
(HTML, style sheet and script under 150 KB), nothing refused by the pages' policy, no leftovers of code on the page
(None, undefined, NaN) and no English where a shopper reads."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import SHOP, Person

pytestmark = pytest.mark.backend_free

PAGE_BUDGET = 150 * 1024
LEFTOVERS = re.compile(r"\b(None|undefined|NaN|null)\b")
HEX_DIGESTS = re.compile(r"\b[0-9a-f]{16,}\b")
"""Checksums a shopper may verify (the bargain schedule's sha256 and salt): digits and letters, not English."""


async def _weight(base: str, html: str) -> int:
    """The page and the style sheet and scripts it loads (images aside)."""
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html)
    async with httpx.AsyncClient(base_url=base) as client:
        sizes = [len((await client.get(asset)).content) for asset in assets]
    return len(html.encode()) + sum(sizes)


async def test_every_page_at_a_phones_size(people: Callable[[str], Awaitable[Person]], server: str,
                                           shots: Path) -> None:
    visitor = await people("小游客", signed_in=False)  # type: ignore[call-arg]  # the factory takes signed_in too
    await visitor.open(f"/m/{SHOP}/login?next=/m/{SHOP}/me")
    await visitor.shot(shots, "tour-login")
    await visitor.sign_in()
    packet = (await visitor.api("GET", "/assists/1"))
    offers = await visitor.api("GET", "/voucher-offers")
    pages = {
        "home": f"/m/{SHOP}", "product-group": f"/m/{SHOP}/products/7", "product-bargain": f"/m/{SHOP}/products/8",
        "group": f"/m/{SHOP}/groups/2", "bargain": f"/m/{SHOP}/bargains/1", "assist": f"/m/{SHOP}/assists/1",
        "assist-campaign": f"/m/{SHOP}/assist-campaigns/{packet['campaign_id']}", "packet": f"/m/{SHOP}/packets/1",
        "gift": f"/m/{SHOP}/gifts/{offers[0]['campaign_id']}", "points-mall": f"/m/{SHOP}/points-mall",
        "checkout": f"/m/{SHOP}/checkout?sku=1&qty=1", "orders": f"/m/{SHOP}/orders", "me": f"/m/{SHOP}/me",
        "wallet": f"/m/{SHOP}/me/wallet", "coupons": f"/m/{SHOP}/me/coupons", "checkin": f"/m/{SHOP}/me/checkin",
        "tasks": f"/m/{SHOP}/me/tasks", "level": f"/m/{SHOP}/me/level",
        "distribution": f"/m/{SHOP}/me/distribution", "addresses": f"/m/{SHOP}/me/addresses",
        "address-new": f"/m/{SHOP}/me/addresses/new", "vouchers": f"/m/{SHOP}/me/vouchers",
        "invites": f"/m/{SHOP}/me/invites", "not-found": f"/m/{SHOP}/products/999999",
    }
    heavy, leftovers, english = [], [], []
    for name, path in pages.items():
        page = await visitor.open(path)
        html = await page.content()
        if (weight := await _weight(server, html)) > PAGE_BUDGET:
            heavy.append((name, weight))
        text = await page.locator("body").inner_text()
        if found := LEFTOVERS.findall(text):
            leftovers.append((name, found))
        if words := [w for w in re.findall(r"[A-Za-z]{4,}", HEX_DIGESTS.sub("", text)) if w not in {"WeChat", "logo"}]:
            english.append((name, words[:5]))
        await visitor.shot(shots, f"tour-{name}")
    assert heavy == [] and leftovers == [] and visitor.refused == []
    assert english == []
