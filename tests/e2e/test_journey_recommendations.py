"""为你推荐 in a real browser: a newcomer's front page recommends (the popular and the new), a product's page its
买了又买, the order page once paid what goes with it; what the shopper bought, and a product that sold out, are gone
from the recommendations at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SHOP, check_out_and_pay, owner_api

pytestmark = pytest.mark.backend_free

TILES = "section.recommendations a.card"


async def recommended(page) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(i) for i in await page.locator(TILES).evaluate_all("tiles => tiles.map(t => t.dataset.productId)")]


async def test_recommendations_on_home_product_and_paid_order(server: str, people, shots: Path) -> None:  # type: ignore[no-untyped-def]
    shopper = await people("小推")
    page = await shopper.open(f"/m/{SHOP}")
    assert await page.locator("h3.section-title", has_text="为你推荐").is_visible()
    home = await recommended(page)
    assert len(home) == 6  # a newcomer: the popular and the new
    reasons = set(await page.locator("section.recommendations .reason").all_inner_texts())
    assert reasons <= {"热销", "新品", "好友在买", "买了又买"} and reasons & {"热销", "新品"}
    await shopper.shot(shots, "recommend-home")

    await shopper.open(f"/m/{SHOP}/products/1")
    assert await page.locator("section.recommendations h3", has_text="买了又买").is_visible()
    beside = await recommended(page)
    assert beside and 1 not in beside
    await page.locator("section.recommendations").scroll_into_view_if_needed()
    await shopper.shot(shots, "recommend-product")

    await page.click("text=单独购买")
    order_id = await check_out_and_pay(shopper)
    after = await recommended(page)
    assert await page.locator("section.recommendations[data-context=order]").is_visible()
    assert after and 1 not in after
    await shopper.shot(shots, "recommend-after-payment")

    # sold out (for a moment): gone from the front page at once, with product 1 the shopper just bought
    victim = next(p for p in home if p != 1)
    skus = [(sku["id"], sku["stock"]) for sku in (await owner_api(server, "GET", f"/admin/products/{victim}"))["skus"]]
    for sku_id, stock in skus:
        await owner_api(server, "PATCH", f"/admin/skus/{sku_id}", json={"stock_delta": -stock})
    try:
        await shopper.open(f"/m/{SHOP}")
        again = await recommended(page)
        await shopper.shot(shots, "recommend-home-after")
    finally:
        for sku_id, stock in skus:
            await owner_api(server, "PATCH", f"/admin/skus/{sku_id}", json={"stock_delta": stock})
    assert len(again) == 6 and victim not in again and 1 not in again
    assert order_id > 0 and shopper.refused == []
