from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, current_shopper
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.wallet import service
from fissionmall.wallet.schemas import WalletOut

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: wallet"])


@router.get("/wallet", response_model=WalletOut)
async def my_wallet(shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    return await service.wallet_of(session, shopper)
