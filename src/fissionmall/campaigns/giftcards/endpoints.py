from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from fissionmall.campaigns.giftcards import service
from fissionmall.campaigns.giftcards.schemas import ClaimIn, GiftOut, OfferOut, RedeemIn, SentOut, VoucherOut
from fissionmall.core.deps import ClockDep, OptionalShopperDep, OrdersShipper, ReplicaSessionDep, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: gift vouchers"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: gift vouchers"], prefix="/admin")


@router.get("/vouchers", response_model=list[VoucherOut])
async def my_vouchers(shopper: ShopperDep, session: SessionDep) -> list[VoucherOut]:
    """Vouchers the shopper holds or bought (the code only to the holder)."""
    return await service.mine(session, shopper)


@router.post("/vouchers/{voucher_id}/send", response_model=SentOut, status_code=201)
async def send(voucher_id: RowId, shopper: ShopperDep, session: SessionDep, runtime: RuntimeDep) -> SentOut:
    return await service.send(session, runtime, shopper, voucher_id)


@router.get("/voucher-offers", response_model=list[OfferOut])
async def offers(shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                 merchant: str | None = None) -> list[OfferOut]:
    """Gift vouchers on sale now: buy one as an order with campaign {"kind": "gift", "campaign_id": …}."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.offers(session, runtime.clock, merchant_id)


@router.get("/voucher-offers/{campaign_id}", response_model=OfferOut)
async def offer(campaign_id: RowId, shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                merchant: str | None = None) -> OfferOut:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.offer(session, runtime.clock, merchant_id, campaign_id)


@router.get("/vouchers/{voucher_id}/gift", response_model=GiftOut)
async def gift(voucher_id: RowId, token: Annotated[str, Query(min_length=16, max_length=64)],
               shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
               merchant: str | None = None) -> GiftOut:
    """What a claim link offers (the friend may look before signing in); the code is never shown."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.gift(session, runtime.clock, merchant_id, voucher_id, token)


@router.post("/vouchers/{voucher_id}/claim", response_model=VoucherOut)
async def claim(voucher_id: RowId, body: ClaimIn, shopper: ShopperDep, session: SessionDep,
                clock: ClockDep) -> VoucherOut:
    return await service.claim(session, clock, shopper, voucher_id, body.token)


@admin.post("/vouchers/redeem", response_model=VoucherOut)
async def redeem(body: RedeemIn, staff: OrdersShipper, session: SessionDep, clock: ClockDep) -> VoucherOut:
    """In a store: staff scan or type the holder's code (核销); attributed to the store."""
    return await service.redeem_in_store(session, clock, staff, body.code, body.store_id)
