from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, current_shopper
from fissionmall.customers import service
from fissionmall.customers.schemas import CustomerOut, DevLogin, ShopperToken, WechatLogin
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.fraud.schemas import ClientInfo, client_info

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: account"])


@router.post("/auth/dev-login", response_model=ShopperToken)
async def dev_login(body: DevLogin, request: Request, client: ClientInfo = Depends(client_info),
                    session: AsyncSession = Depends(get_session)):
    return await service.dev_login(session, request.app.state.runtime, body, client)


@router.post("/auth/wechat-login", response_model=ShopperToken)
async def wechat_login(body: WechatLogin, request: Request, client: ClientInfo = Depends(client_info),
                       session: AsyncSession = Depends(get_session)):
    return await service.wechat_login(session, request.app.state.runtime, body, client)


@router.get("/me", response_model=CustomerOut)
async def me(shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    customer = await service.get_customer(session, shopper.merchant_id, shopper.customer_id)
    return CustomerOut(id=customer.id, nickname=customer.nickname, avatar_url=customer.avatar_url,
                       inviter_id=customer.inviter_id, depth=customer.depth,
                       is_new_customer=customer.first_paid_at is None, created_at=customer.created_at)
