from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from fissionmall.analytics import service
from fissionmall.analytics.schemas import CampaignMetrics, CampaignSummary, Series, ShareMetrics, Sharer, TreePage
from fissionmall.core.deps import OrdersReader, ReplicaSessionDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute

admin = APIRouter(route_class=TransactionalRoute, tags=["admin: analytics"], prefix="/admin/analytics")


@admin.get("/campaigns", response_model=list[CampaignSummary])
async def compare(staff: OrdersReader, session: ReplicaSessionDep) -> list[CampaignSummary]:
    """The merchant's campaigns side by side: new customers, K, net sales, cost."""
    return await service.compare(session, staff.merchant_id)


@admin.get("/campaigns/{campaign_id}", response_model=CampaignMetrics)
async def campaign_metrics(campaign_id: RowId, staff: OrdersReader, session: ReplicaSessionDep) -> CampaignMetrics:
    """A campaign's funnel, K, cycle time, cascade shape and cost per new customer, from the incremental tables.
    Counts, K and the depths are exact; the cycle-time median and p90 are rounded down to the minute below 48 hours
    and to the hour from there; structural virality is exact up to `virality_cap` edges and null above."""
    return await service.campaign_metrics(session, staff.merchant_id, campaign_id)


@admin.get("/campaigns/{campaign_id}/shares/{share_id}", response_model=ShareMetrics)
async def share_metrics(campaign_id: RowId, share_id: RowId, staff: OrdersReader, session: ReplicaSessionDep
                        ) -> ShareMetrics:
    return await service.share_metrics(session, staff.merchant_id, campaign_id, share_id)


@admin.get("/campaigns/{campaign_id}/series", response_model=Series)
async def series(campaign_id: RowId, staff: OrdersReader, session: ReplicaSessionDep,
                 bucket: Literal["hour", "day"] = "day", share_id: RowId | None = None) -> Series:
    return await service.series(session, staff.merchant_id, campaign_id, bucket, share_id or 0)


@admin.get("/campaigns/{campaign_id}/tree", response_model=TreePage)
async def tree(campaign_id: RowId, staff: OrdersReader, session: ReplicaSessionDep, parent_id: RowId | None = None,
               cursor: str | None = None, limit: int = Query(100, ge=1, le=500)) -> TreePage:
    """The cascade tree one level at a time: without `parent_id` its first level, with it that node's children."""
    return await service.tree(session, staff.merchant_id, campaign_id, parent_id, cursor, limit)


@admin.get("/campaigns/{campaign_id}/top-sharers", response_model=list[Sharer])
async def top_sharers(campaign_id: RowId, staff: OrdersReader, session: ReplicaSessionDep,
                      limit: int = Query(10, ge=1, le=100)) -> list[Sharer]:
    return await service.top_sharers(session, staff.merchant_id, campaign_id, limit)
