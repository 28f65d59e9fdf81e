"""The catalogue pages: the product list (search, category and status filters, keyset pages, stock totals, main
image), a product's form with its SKUs (prices shown in yuan), categories, 上架 / 下架; read-only for roles without
catalog.write; nothing of another merchant's; what was typed shown escaped; amounts not in whole fen refused by the
API field by field, changing nothing."""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable
from typing import Any

from PIL import Image

from tests.console.conftest import Desk
from tests.support import Mall, problem

OpenDesk = Callable[..., Awaitable[Desk]]
XSS = "<img src=x onerror=alert(1)>"


async def made(desk: Desk, method: str, path: str, **json: Any) -> dict[str, Any]:
    answer = await desk.api(method, path, json=json)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


def product_rows(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-product="(\d+)">', html)]


async def test_the_list_shows_each_product_with_stock_price_and_image(desk: OpenDesk, mall: Mall) -> None:
    operator = await desk("operator")
    category = await made(operator, "POST", "/admin/categories", name="茶叶", position=1)
    product = await made(operator, "POST", "/admin/products", title="龙井", category_id=category["id"],
                         images=["/media/uploads/1/longjing.jpg"],
                         skus=[{"code": "lj-50", "name": "50g", "price_fen": 1250, "stock": 7},
                               {"code": "lj-100", "name": "100g", "price_fen": 2300, "stock": 5}])
    page = await operator.page("/console/products")
    assert page.status_code == 200
    assert product_rows(page.text) == [product["id"], mall.product_id]  # newest first
    row = page.text.split(f'data-product="{product["id"]}"')[1].split("</tr>")[0]
    assert "龙井" in row and "茶叶" in row and "12.50 ~ 23.00" in row and ">12<" in row  # 7 + 5 in stock
    assert 'src="/media/uploads/1/longjing.jpg"' in row and "下架" in row
    assert "新建商品" in page.text and 'data-api="POST /api/v1/admin/categories"' in page.text


async def test_search_filters_and_keyset_pages(desk: OpenDesk, mall: Mall) -> None:
    owner = await desk("owner")
    tea = await made(owner, "POST", "/admin/categories", name="茶")
    ids = []
    for n in range(22):
        body: dict[str, Any] = {"title": f"绿茶 {n:02d}" if n % 2 else f"Coffee {n:02d}",
                                "status": "off_sale" if n % 3 == 0 else "on_sale",
                                "skus": [{"code": f"p{n}", "name": "默认", "price_fen": 100 + n}]}
        if n % 2:
            body["category_id"] = tea["id"]
        ids.append((await made(owner, "POST", "/admin/products", **body))["id"])
    first = await owner.page("/console/products")
    assert product_rows(first.text) == ids[::-1][:20]
    cursor = re.search(r"cursor=(\d+)", first.text)
    assert cursor is not None
    second = await owner.page("/console/products", cursor=cursor.group(1))
    assert product_rows(second.text) == [ids[1], ids[0], mall.product_id] and "下一页" not in second.text
    assert product_rows((await owner.page("/console/products", q="coffee 0")).text) == [ids[8], ids[6], ids[4],
                                                                                       ids[2], ids[0]]
    in_tea = product_rows((await owner.page("/console/products", category=str(tea["id"]))).text)
    assert in_tea == [i for n, i in enumerate(ids) if n % 2][::-1]
    off = product_rows((await owner.page("/console/products", status="off_sale")).text)
    assert off == [i for n, i in enumerate(ids) if n % 3 == 0][::-1]
    both = product_rows((await owner.page("/console/products", q="绿茶", status="off_sale")).text)
    assert both == [ids[21], ids[15], ids[9], ids[3]]
    assert "没有符合条件的商品" in (await owner.page("/console/products", q="%")).text  # a wildcard is text
    assert (await owner.page("/console/products", category="x")).status_code == 422


async def test_the_product_page_edits_skus_in_yuan_and_puts_on_and_off_sale(desk: OpenDesk, mall: Mall) -> None:
    operator = await desk("operator")
    page = await operator.page(f"/console/products/{mall.product_id}")
    assert page.status_code == 200
    assert f'data-api="PATCH /api/v1/admin/products/{mall.product_id}"' in page.text
    assert f'data-api="PATCH /api/v1/admin/skus/{mall.sku_id}"' in page.text
    assert 'name="price_fen" value="10.00" data-fen' in page.text and "总库存 100" in page.text
    assert f'data-api="POST /api/v1/admin/products/{mall.product_id}/skus"' in page.text
    assert 'data-upload="#image-file"' in page.text and 'data-preview="#image-preview"' in page.text
    # what the page's forms send, as mall.js sends them
    await made(operator, "PATCH", f"/admin/skus/{mall.sku_id}", price_fen=1250, stock_delta=-30)
    await made(operator, "PATCH", f"/admin/products/{mall.product_id}", status="off_sale")
    again = await operator.page(f"/console/products/{mall.product_id}")
    assert 'value="12.50"' in again.text and "总库存 70" in again.text and ">上架</button>" in again.text
    listed = await operator.page("/console/products", status="off_sale")
    assert product_rows(listed.text) == [mall.product_id]
    new = await operator.page("/console/products/new")
    assert 'data-api="POST /api/v1/admin/products"' in new.text and 'name="skus.0.price_fen"' in new.text


async def test_amounts_not_in_whole_fen_are_refused_by_the_api_field_by_field(desk: OpenDesk, mall: Mall) -> None:
    operator = await desk("operator")
    refused = await operator.api("PATCH", f"/admin/skus/{mall.sku_id}", json={"price_fen": 12.5})
    body = problem(refused, 422, "invalid_request")
    assert [e["field"] for e in body["errors"]] == ["price_fen"] and body["errors"][0]["hint"]
    created = await operator.api("POST", "/admin/products", json={
        "title": "新品", "skus": [{"code": "x1", "name": "默认", "price_fen": "12.50"}]})
    body = problem(created, 422, "invalid_request")
    assert [e["field"] for e in body["errors"]] == ["skus.0.price_fen"]
    zero = await operator.api("POST", f"/admin/products/{mall.product_id}/skus",
                              json={"code": "x2", "name": "大份", "price_fen": 0})
    assert problem(zero, 422, "invalid_request")["errors"][0] == {
        "field": "price_fen", "message": "Input should be greater than or equal to 1", "hint": "不能小于 1"}
    page = await operator.page(f"/console/products/{mall.product_id}")
    assert 'value="10.00"' in page.text and page.text.count("data-sku=") == 1  # nothing changed


async def test_roles_without_catalog_write_read_without_forms(desk: OpenDesk, mall: Mall) -> None:
    for role in ("finance", "support"):
        reader = await desk(role)
        listed = await reader.page("/console/products")
        assert listed.status_code == 200 and product_rows(listed.text) == [mall.product_id]
        assert "新建商品" not in listed.text and 'data-api=' not in listed.text
        product = await reader.page(f"/console/products/{mall.product_id}")
        assert product.status_code == 200 and "Tea" in product.text and "10.00" in product.text
        assert 'data-api=' not in product.text and "data-upload" not in product.text
        assert "只能查看商品" in product.text
        problem(await reader.api("POST", "/admin/categories", json={"name": "x"}), 403, "forbidden")
        problem(await reader.api("PATCH", f"/admin/products/{mall.product_id}", json={"status": "off_sale"}),
                403, "forbidden")


async def test_images_upload_through_the_api_with_the_session(desk: OpenDesk, mall: Mall) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buffer, format="PNG")
    operator, finance = await desk("operator"), await desk("finance")
    files = {"file": ("tea.png", buffer.getvalue(), "image/png")}
    uploaded = await operator.api("POST", "/admin/media", files=files)
    assert uploaded.status_code == 201, uploaded.text
    url = uploaded.json()["url"]
    assert url.startswith(f"/media/uploads/{mall.merchant_id}/")
    await made(operator, "PATCH", f"/admin/products/{mall.product_id}", images=[url])
    assert f'src="{url}"' in (await operator.page("/console/products")).text
    problem(await finance.api("POST", "/admin/media", files=files), 403, "forbidden")
    refused = await operator.browser.post("/api/v1/admin/media", files=files)  # no CSRF token
    problem(refused, 403, "csrf_failed")


async def test_what_was_typed_is_escaped(desk: OpenDesk, mall: Mall) -> None:
    owner = await desk("owner")
    await made(owner, "POST", "/admin/categories", name=XSS)
    product = await made(owner, "POST", "/admin/products", title=XSS, subtitle=XSS, description=XSS,
                         skus=[{"code": "x", "name": XSS, "price_fen": 100}])
    for path in ("/console/products", f"/console/products/{product['id']}"):
        html = (await owner.page(path)).text
        assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


async def test_another_merchants_catalogue_is_never_shown(desk: OpenDesk, mall: Mall, beta: Mall) -> None:
    acme = await desk("owner")
    await made(acme, "POST", "/admin/categories", name="acme 专属分类")
    beta_owner = await desk("owner", slug="beta")
    listed = await beta_owner.page("/console/products")
    assert product_rows(listed.text) == [beta.product_id] and "acme 专属分类" not in listed.text
    assert (await beta_owner.page(f"/console/products/{mall.product_id}")).status_code == 404
    assert product_rows((await beta_owner.page("/console/products", q="Tea")).text) == [beta.product_id]
    problem(await beta_owner.api("PATCH", f"/admin/skus/{mall.sku_id}", json={"price_fen": 1}), 404,
            "sku_not_found")
