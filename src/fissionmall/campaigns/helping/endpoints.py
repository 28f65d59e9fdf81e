from __future__ import annotations

from fastapi import APIRouter

from fissionmall.campaigns.helping import service
from fissionmall.campaigns.helping.schemas import GoodsPrizeOut
from fissionmall.core.deps import SessionDep, ShopperDep
from fissionmall.core.transaction import TransactionalRoute

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: assist red packets"])


@router.get("/goods-prizes/mine", response_model=list[GoodsPrizeOut])
async def my_goods_prizes(shopper: ShopperDep, session: SessionDep) -> list[GoodsPrizeOut]:
    """The goods the shopper won or was given by a campaign, newest first: each is ordered once, at no price, with
    `POST /orders {campaign: {kind: "prize", campaign_id, target_id: id}, items: [{sku_id, quantity: 1}]}`."""
    return await service.my_goods_prizes(session, shopper)
