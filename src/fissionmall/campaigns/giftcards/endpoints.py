from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.giftcards import service
from fissionmall.campaigns.giftcards.schemas import ClaimIn, RedeemIn, SentOut, VoucherOut
from fissionmall.core.auth import Shopper, StaffMember, current_shopper, staff_with
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: gift vouchers"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: gift vouchers"], prefix="/admin")
redeemer = staff_with("orders.ship")


@router.get("/vouchers", response_model=list[VoucherOut])
async def my_vouchers(shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    """Vouchers the shopper holds or bought (the code only to the holder)."""
    return await service.mine(session, shopper)


@router.post("/vouchers/{voucher_id}/send", response_model=SentOut, status_code=201)
async def send(voucher_id: RowId, request: Request, shopper: Shopper = Depends(current_shopper),
               session: AsyncSession = Depends(get_session)):
    return await service.send(session, request.app.state.runtime, shopper, voucher_id)


@router.post("/vouchers/{voucher_id}/claim", response_model=VoucherOut)
async def claim(voucher_id: RowId, body: ClaimIn, request: Request, shopper: Shopper = Depends(current_shopper),
                session: AsyncSession = Depends(get_session)):
    return await service.claim(session, request.app.state.runtime, shopper, voucher_id, body.token)


@admin.post("/vouchers/redeem", response_model=VoucherOut)
async def redeem(body: RedeemIn, request: Request, staff: StaffMember = Depends(redeemer),
                 session: AsyncSession = Depends(get_session)):
    """In a store: staff scan or type the holder's code (核销); attributed to the store."""
    return await service.redeem_in_store(session, request.app.state.runtime, staff, body.code, body.store_id)
