from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember, current_shopper, optional_shopper, staff_with
from fissionmall.core.idempotency import run_idempotent
from fissionmall.core.schemas import RowId
from fissionmall.coupons import service
from fissionmall.coupons.schemas import CouponOut, TemplateIn, TemplateOut, TemplatePatch
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: coupons"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: coupons"], prefix="/admin")
writer = staff_with("catalog.write")
reader = staff_with("orders.read")


@router.get("/coupon-templates", response_model=list[TemplateOut])
async def claimable(request: Request, merchant: str | None = None, shopper: Shopper | None = Depends(optional_shopper),
                    session: AsyncSession = Depends(get_session)):
    """The coupon centre (领券中心): what customers may claim themselves now."""
    merchant_id = await merchants.merchant_for_visitor(session, request.app.state.runtime, shopper, merchant)
    return await service.templates(session, merchant_id, claimable_only=True)


@router.post("/coupon-templates/{template_id}/claim", response_model=CouponOut, status_code=201)
async def claim(template_id: RowId, request: Request, shopper: Shopper = Depends(current_shopper),
                session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=None, now=runtime.clock.now(),
                                status_code=201, action=lambda: service.claim(session, runtime, shopper, template_id))


@router.get("/coupons", response_model=list[CouponOut])
async def my_coupons(request: Request, status: str | None = None, shopper: Shopper = Depends(current_shopper),
                     session: AsyncSession = Depends(get_session)):
    return await service.my_coupons(session, request.app.state.runtime, shopper, status)


@admin.post("/coupon-templates", response_model=TemplateOut, status_code=201)
async def create(body: TemplateIn, request: Request, staff: StaffMember = Depends(writer),
                 session: AsyncSession = Depends(get_session)):
    return await service.create_template(session, staff, body, request.app.state.runtime.clock.now())


@admin.get("/coupon-templates", response_model=list[TemplateOut])
async def all_templates(staff: StaffMember = Depends(reader), session: AsyncSession = Depends(get_session)):
    return await service.templates(session, staff.merchant_id, claimable_only=False)


@admin.patch("/coupon-templates/{template_id}", response_model=TemplateOut)
async def patch(template_id: RowId, body: TemplatePatch, staff: StaffMember = Depends(writer),
                session: AsyncSession = Depends(get_session)):
    return await service.patch_template(session, staff, template_id, body)
