from __future__ import annotations

from fastapi import APIRouter

from fissionmall.core.deps import SessionDep, ShopperDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.wallet import service
from fissionmall.wallet.schemas import WalletOut

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: wallet"])


@router.get("/wallet", response_model=WalletOut)
async def my_wallet(shopper: ShopperDep, session: SessionDep) -> WalletOut:
    return await service.wallet_of(session, shopper)
