from __future__ import annotations

from fastapi import APIRouter

from fissionmall.campaigns import service
from fissionmall.campaigns.schemas import CampaignIn, CampaignOut, CampaignPatch, LintOut
from fissionmall.catalog import service as catalog
from fissionmall.catalog.schemas import ProductDetail
from fissionmall.core.audit import WRITES_NOTHING
from fissionmall.core.deps import (
    CatalogWriter,
    ClockDep,
    OptionalShopperDep,
    OrdersReader,
    ReplicaSessionDep,
    SessionDep,
)
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: catalog"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: campaigns"], prefix="/admin/campaigns")


@admin.post("", response_model=CampaignOut, status_code=201)
async def create(body: CampaignIn, staff: CatalogWriter, session: SessionDep, clock: ClockDep) -> CampaignOut:
    return await service.create(session, staff.merchant_id, body, clock)


@admin.get("", response_model=list[CampaignOut])
async def list_campaigns(staff: OrdersReader, session: SessionDep, kind: str | None = None) -> list[CampaignOut]:
    return await service.list_campaigns(session, staff.merchant_id, kind)


@admin.get("/{campaign_id}", response_model=CampaignOut)
async def get(campaign_id: RowId, staff: OrdersReader, session: SessionDep) -> CampaignOut:
    return service.out(await service.require(session, staff.merchant_id, campaign_id))


@admin.patch("/{campaign_id}", response_model=CampaignOut)
async def update(campaign_id: RowId, body: CampaignPatch, staff: CatalogWriter, session: SessionDep) -> CampaignOut:
    return await service.update(session, staff.merchant_id, campaign_id, body)


@admin.post("/{campaign_id}/lint", response_model=LintOut, dependencies=[WRITES_NOTHING])
async def lint(campaign_id: RowId, staff: CatalogWriter, session: SessionDep) -> LintOut:
    return await service.lint(session, staff.merchant_id, campaign_id)


@admin.post("/{campaign_id}/activate", response_model=CampaignOut)
async def activate(campaign_id: RowId, staff: CatalogWriter, session: SessionDep) -> CampaignOut:
    return await service.activate(session, staff.merchant_id, campaign_id)


@admin.post("/{campaign_id}/pause", response_model=CampaignOut)
async def pause(campaign_id: RowId, staff: CatalogWriter, session: SessionDep) -> CampaignOut:
    return await service.pause(session, staff.merchant_id, campaign_id)


@admin.post("/{campaign_id}/end", response_model=CampaignOut)
async def end(campaign_id: RowId, staff: CatalogWriter, session: SessionDep) -> CampaignOut:
    return await service.end(session, staff.merchant_id, campaign_id)


@router.get("/products/{product_id}", response_model=ProductDetail)
async def product_detail(product_id: RowId, shopper: OptionalShopperDep, session: ReplicaSessionDep,
                         runtime: RuntimeDep, merchant: str | None = None) -> ProductDetail:
    """A product as the shopper sees it, with the campaigns live on it now."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    product = await catalog.product_detail(session, merchant_id, product_id, shopper_view=True)
    product.campaigns = await service.live_for_product(session, merchant_id, product_id,
                                                        runtime.clock)
    return product
