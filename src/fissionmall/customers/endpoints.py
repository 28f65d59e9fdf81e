from __future__ import annotations

from fastapi import APIRouter

from fissionmall.core.deps import SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers import service
from fissionmall.customers.schemas import ClientDep, CustomerOut, DevLogin, ShopperToken, WechatLogin

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: account"])


@router.post("/auth/dev-login", response_model=ShopperToken)
async def dev_login(body: DevLogin, client: ClientDep, session: SessionDep, runtime: RuntimeDep) -> ShopperToken:
    return await service.dev_login(session, runtime, body, client)


@router.post("/auth/wechat-login", response_model=ShopperToken)
async def wechat_login(body: WechatLogin, client: ClientDep, session: SessionDep, runtime: RuntimeDep) -> ShopperToken:
    return await service.wechat_login(session, runtime, body, client)


@router.get("/me", response_model=CustomerOut)
async def me(shopper: ShopperDep, session: SessionDep) -> CustomerOut:
    customer = await service.get_customer(session, shopper.merchant_id, shopper.customer_id)
    return CustomerOut(id=customer.id, nickname=customer.nickname, avatar_url=customer.avatar_url,
                       inviter_id=customer.inviter_id, depth=customer.depth,
                       is_new_customer=customer.first_paid_at is None, created_at=customer.created_at)
