from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from fissionmall.core.deps import (
    CatalogWriter,
    ClockDep,
    IdempotentDep,
    OptionalShopperDep,
    OrdersReader,
    ReplicaSessionDep,
    SessionDep,
    SettingsDep,
    ShopperDep,
)
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.coupons import service
from fissionmall.coupons.schemas import CouponOut, TemplateIn, TemplateOut, TemplatePatch
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: coupons"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: coupons"], prefix="/admin")


@router.get("/coupon-templates", response_model=list[TemplateOut])
async def claimable(shopper: OptionalShopperDep, session: ReplicaSessionDep, settings: SettingsDep,
                    merchant: str | None = None) -> list[TemplateOut]:
    """The coupon centre (领券中心): what customers may claim themselves now."""
    merchant_id = await merchants.merchant_for_visitor(session, settings, shopper, merchant)
    return await service.templates(session, merchant_id, claimable_only=True)


@router.post("/coupon-templates/{template_id}/claim", response_model=CouponOut, status_code=201)
async def claim(template_id: RowId, shopper: ShopperDep, session: SessionDep, idempotent: IdempotentDep,
                clock: ClockDep) -> CouponOut | JSONResponse:
    return await idempotent(lambda: service.claim(session, clock, shopper, template_id), by=shopper, body=None,
                            status_code=201)


@router.get("/coupons", response_model=list[CouponOut])
async def my_coupons(shopper: ShopperDep, session: SessionDep, clock: ClockDep,
                     status: str | None = None) -> list[CouponOut]:
    return await service.my_coupons(session, clock, shopper, status)


@admin.post("/coupon-templates", response_model=TemplateOut, status_code=201)
async def create(body: TemplateIn, staff: CatalogWriter, session: SessionDep, clock: ClockDep) -> TemplateOut:
    return await service.create_template(session, staff, body, clock.now())


@admin.get("/coupon-templates", response_model=list[TemplateOut])
async def all_templates(staff: OrdersReader, session: SessionDep) -> list[TemplateOut]:
    return await service.templates(session, staff.merchant_id, claimable_only=False)


@admin.patch("/coupon-templates/{template_id}", response_model=TemplateOut)
async def patch(template_id: RowId, body: TemplatePatch, staff: CatalogWriter, session: SessionDep) -> TemplateOut:
    return await service.patch_template(session, staff, template_id, body)
