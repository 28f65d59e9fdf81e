"""Where a shopper acts on a campaign outside its records' own pages: the open groups (凑团) and campaign entries a
product page lists, and an assist campaign's page to open a packet from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.assist import service as assist
from fissionmall.campaigns.groupbuy import service as groupbuy
from fissionmall.campaigns.groupbuy.schemas import GroupOut
from fissionmall.core.clock import Clock
from fissionmall.core.deps import ClockDep, ReplicaSessionDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.web.session import VisitorDep
from fissionmall.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


async def open_groups(session: AsyncSession, clock: Clock, merchant_id: int,
                      live: list[dict[str, Any]]) -> dict[int, list[GroupOut]]:
    """By group campaign on the product: the groups waiting for members, for a visitor to join (凑团)."""
    return {c["id"]: await groupbuy.open_groups(session, clock, merchant_id, c["id"])
            for c in live if c["kind"] == groupbuy.KIND}


@router.get("/m/{merchant}/assist-campaigns/{campaign_id}", response_class=HTMLResponse)
async def assist_campaign(request: Request, campaign_id: RowId, seen: VisitorDep, session: ReplicaSessionDep,
                          clock: ClockDep) -> HTMLResponse:
    """The prizes, odds and organiser published before anyone takes part (P3), and the button to open a packet."""
    campaign = await assist.campaign_view(session, seen.shop.id, campaign_id)
    return render(request, "assist_campaign.html", seen, {"campaign": campaign, "tab": "home",
                                                          "live": campaign.status == "active"
                                                          and campaign.ends_at > clock.now()})
