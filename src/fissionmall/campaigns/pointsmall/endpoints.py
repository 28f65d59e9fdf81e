from __future__ import annotations

from fastapi import APIRouter

from fissionmall.campaigns.pointsmall import service
from fissionmall.campaigns.pointsmall.schemas import MallItemOut
from fissionmall.core.deps import SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.transaction import TransactionalRoute

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: points mall"])


@router.get("/points-mall", response_model=list[MallItemOut])
async def items(shopper: ShopperDep, session: SessionDep, runtime: RuntimeDep):
    """What points buy now, with the stock left."""
    return await service.items(session, runtime, shopper.merchant_id)
