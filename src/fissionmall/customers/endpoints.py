from __future__ import annotations

from fastapi import APIRouter, Query

from fissionmall.core.deps import ClockDep, OrdersReader, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers import service
from fissionmall.customers.schemas import (
    ClientDep,
    CustomerDetail,
    CustomerOut,
    CustomerPage,
    DevLogin,
    SavedAddressIn,
    SavedAddressOut,
    ShopperToken,
    WechatLogin,
)

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: account"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: customers"], prefix="/admin")


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


@router.get("/me/addresses", response_model=list[SavedAddressOut])
async def my_addresses(shopper: ShopperDep, session: SessionDep) -> list[SavedAddressOut]:
    """The shopper's address book (at most 20), the default first."""
    return await service.addresses(session, shopper)


@router.post("/me/addresses", response_model=SavedAddressOut, status_code=201)
async def add_address(body: SavedAddressIn, shopper: ShopperDep, session: SessionDep,
                      clock: ClockDep) -> SavedAddressOut:
    return await service.add_address(session, shopper, body, clock.now())


@router.put("/me/addresses/{address_id}", response_model=SavedAddressOut)
async def update_address(address_id: RowId, body: SavedAddressIn, shopper: ShopperDep,
                         session: SessionDep) -> SavedAddressOut:
    return await service.update_address(session, shopper, address_id, body)


@router.delete("/me/addresses/{address_id}", status_code=204)
async def delete_address(address_id: RowId, shopper: ShopperDep, session: SessionDep) -> None:
    await service.delete_address(session, shopper, address_id)


@admin.get("/customers", response_model=CustomerPage)
async def customers(staff: OrdersReader, session: SessionDep, q: str | None = Query(None, max_length=64),
                    cursor: str | None = None, limit: int = Query(20, ge=1, le=100)) -> CustomerPage:
    """The mall's customers newest first; `q` narrows them to a nickname containing it, or the customer of that id."""
    return await service.customer_page(session, staff.merchant_id, q, cursor, limit)


@admin.get("/customers/{customer_id}", response_model=CustomerDetail)
async def customer(customer_id: RowId, staff: OrdersReader, session: SessionDep) -> CustomerDetail:
    """A customer, who brought them, whom they brought directly and how many they brought at any depth."""
    return await service.customer_detail(session, staff.merchant_id, customer_id)
