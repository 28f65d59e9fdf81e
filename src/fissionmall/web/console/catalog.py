"""The catalogue (商品): products with their stock and main image, searched and filtered, one keyset page at a time;
a product's form, its SKUs (prices typed in yuan) and images (uploaded, previewed first); categories; 上架 / 下架.
Every change posts to the merchant API (/admin/products, /admin/skus, /admin/categories, /admin/media); a role
without catalog.write reads the same pages without their forms."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from fissionmall.catalog import service as catalog
from fissionmall.catalog import service as products
from fissionmall.core.deps import SessionDep
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.web.console.session import ConsoleReader, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

PAGE = 20
STATUS_NAMES = {"on_sale": "在售", "off_sale": "已下架"}
SECTION = "/console/products"


@router.get("/console/products", response_class=HTMLResponse)
async def product_list(request: Request, console: ConsoleReader, session: SessionDep,
                       q: Annotated[str, Query(max_length=120)] = "", category: str = "", status: str = "",
                       cursor: str | None = None) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    category_id = parse_cursor(category) if category else None
    shown_status = status if status in STATUS_NAMES else None
    rows = await catalog.console_product_page(session, merchant_id, before_id=parse_cursor(cursor), limit=PAGE,
                                              title=q.strip(), category_id=category_id, status=shown_status)
    categories = await catalog.list_categories(session, merchant_id)
    query = urlencode({"q": q, "category": category, "status": shown_status or ""})
    return render(request, "console/products.html", console, {
        "section": SECTION, "rows": rows, "categories": categories,
        "category_names": {c.id: c.name for c in categories}, "status_names": STATUS_NAMES,
        "filters": {"q": q, "category": category_id, "status": shown_status}, "query": query,
        "next_cursor": str(rows[-1][0].id) if len(rows) == PAGE else None})


@router.get("/console/products/new", response_class=HTMLResponse)
async def new_product(request: Request, console: ConsoleReader, session: SessionDep) -> HTMLResponse:
    context: dict[str, Any] = {"section": SECTION, "product": None, "status_names": STATUS_NAMES,
                               "categories": await catalog.list_categories(session, console.staff.merchant_id)}
    return render(request, "console/products_edit.html", console, context)


@router.get("/console/products/{product_id}", response_class=HTMLResponse)
async def product_page(request: Request, product_id: RowId, console: ConsoleReader,
                       session: SessionDep) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    product = await products.require_product(session, merchant_id, product_id)
    return render(request, "console/products_edit.html", console, {
        "section": SECTION, "product": product, "status_names": STATUS_NAMES,
        "categories": await catalog.list_categories(session, merchant_id),
        "stock": sum(sku.stock for sku in product.skus)})
