from __future__ import annotations

import anyio
from fastapi import APIRouter, Query, UploadFile

from fissionmall.catalog import service
from fissionmall.catalog.media import MAX_BYTES, store_image
from fissionmall.catalog.models import Category
from fissionmall.catalog.schemas import (
    CategoryIn,
    CategoryOut,
    ProductDetail,
    ProductIn,
    ProductPage,
    ProductPatch,
    SkuIn,
    SkuOut,
    SkuPatch,
)
from fissionmall.core.deps import (
    CatalogWriter,
    ClockDep,
    OptionalShopperDep,
    OrdersReader,
    ReplicaSessionDep,
    SessionDep,
    SettingsDep,
)
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: catalog"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: catalog"], prefix="/admin")


@router.get("/products", response_model=ProductPage)
async def list_products(shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                        merchant: str | None = None, cursor: str | None = None, limit: int = Query(20, ge=1, le=100),
                        category_id: RowId | None = None) -> ProductPage:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.list_products(session, merchant_id, cursor=cursor, limit=limit, category_id=category_id)


@router.get("/categories", response_model=list[CategoryOut])
async def categories(shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                     merchant: str | None = None) -> list[Category]:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.list_categories(session, merchant_id)




@admin.get("/products", response_model=ProductPage)
async def admin_products(staff: OrdersReader, session: SessionDep, cursor: str | None = None,
                         limit: int = Query(20, ge=1, le=100)) -> ProductPage:
    return await service.list_products(session, staff.merchant_id, cursor=cursor, limit=limit, category_id=None,
                                       on_sale_only=False)


@admin.post("/products", response_model=ProductDetail, status_code=201)
async def create_product(body: ProductIn, staff: CatalogWriter, session: SessionDep, clock: ClockDep) -> ProductDetail:
    return await service.create_product(session, staff.merchant_id, body, clock)


@admin.get("/products/{product_id}", response_model=ProductDetail)
async def admin_product(product_id: RowId, staff: OrdersReader, session: SessionDep) -> ProductDetail:
    return await service.product_detail(session, staff.merchant_id, product_id, shopper_view=False)


@admin.patch("/products/{product_id}", response_model=ProductDetail)
async def update_product(product_id: RowId, body: ProductPatch, staff: CatalogWriter,
                         session: SessionDep) -> ProductDetail:
    return await service.update_product(session, staff.merchant_id, product_id, body)


@admin.post("/products/{product_id}/skus", response_model=SkuOut, status_code=201)
async def add_sku(product_id: RowId, body: SkuIn, staff: CatalogWriter, session: SessionDep) -> SkuOut:
    return await service.add_sku(session, staff.merchant_id, product_id, body)


@admin.patch("/skus/{sku_id}", response_model=SkuOut)
async def patch_sku(sku_id: RowId, body: SkuPatch, staff: CatalogWriter, session: SessionDep) -> SkuOut:
    return await service.patch_sku(session, staff.merchant_id, sku_id, body)


@admin.get("/categories", response_model=list[CategoryOut])
async def admin_categories(staff: OrdersReader, session: SessionDep) -> list[Category]:
    return await service.list_categories(session, staff.merchant_id)


@admin.post("/categories", response_model=CategoryOut, status_code=201)
async def add_category(body: CategoryIn, staff: CatalogWriter, session: SessionDep) -> Category:
    return await service.add_category(session, staff.merchant_id, body)


@admin.post("/media", status_code=201)
async def upload_image(file: UploadFile, staff: CatalogWriter, settings: SettingsDep) -> dict[str, str]:
    """Upload a product image; use the returned URL in a product's `images`."""
    data = await file.read(MAX_BYTES + 1)
    url = await anyio.to_thread.run_sync(store_image, settings.media_dir, staff.merchant_id, data)
    return {"url": url}
