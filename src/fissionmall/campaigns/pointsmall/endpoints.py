from __future__ import annotations

from fastapi import APIRouter

from fissionmall.campaigns.pointsmall import service
from fissionmall.campaigns.pointsmall.schemas import MallItemOut
from fissionmall.core.deps import ClockDep, SessionDep, ShopperDep
from fissionmall.core.transaction import TransactionalRoute

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: points mall"])


@router.get("/points-mall", response_model=list[MallItemOut])
async def items(shopper: ShopperDep, session: SessionDep, clock: ClockDep) -> list[MallItemOut]:
    """What points buy now, with the stock left."""
    return await service.items(session, clock, shopper.merchant_id)
