from __future__ import annotations

from fastapi import APIRouter

from fissionmall.campaigns.giftcards import service
from fissionmall.campaigns.giftcards.schemas import ClaimIn, RedeemIn, SentOut, VoucherOut
from fissionmall.core.deps import ClockDep, OrdersShipper, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: gift vouchers"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: gift vouchers"], prefix="/admin")


@router.get("/vouchers", response_model=list[VoucherOut])
async def my_vouchers(shopper: ShopperDep, session: SessionDep) -> list[VoucherOut]:
    """Vouchers the shopper holds or bought (the code only to the holder)."""
    return await service.mine(session, shopper)


@router.post("/vouchers/{voucher_id}/send", response_model=SentOut, status_code=201)
async def send(voucher_id: RowId, shopper: ShopperDep, session: SessionDep, runtime: RuntimeDep) -> SentOut:
    return await service.send(session, runtime, shopper, voucher_id)


@router.post("/vouchers/{voucher_id}/claim", response_model=VoucherOut)
async def claim(voucher_id: RowId, body: ClaimIn, shopper: ShopperDep, session: SessionDep,
                clock: ClockDep) -> VoucherOut:
    return await service.claim(session, clock, shopper, voucher_id, body.token)


@admin.post("/vouchers/redeem", response_model=VoucherOut)
async def redeem(body: RedeemIn, staff: OrdersShipper, session: SessionDep, clock: ClockDep) -> VoucherOut:
    """In a store: staff scan or type the holder's code (核销); attributed to the store."""
    return await service.redeem_in_store(session, clock, staff, body.code, body.store_id)
