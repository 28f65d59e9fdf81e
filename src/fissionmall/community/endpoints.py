from __future__ import annotations

from fastapi import APIRouter

from fissionmall.community import service
from fissionmall.community.schemas import ReviewIn, ReviewOut, ReviewPage
from fissionmall.core.deps import ClockDep, OptionalShopperDep, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: reviews"])


@router.post("/orders/{order_id}/reviews", response_model=ReviewOut, status_code=201)
async def write(order_id: RowId, body: ReviewIn, shopper: ShopperDep, session: SessionDep,
                clock: ClockDep) -> ReviewOut:
    """Review a product of a received order, once."""
    return await service.write(session, clock, shopper, order_id, body)


@router.get("/products/{product_id}/reviews", response_model=ReviewPage)
async def of_product(product_id: RowId, shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
                     merchant: str | None = None) -> ReviewPage:
    """The product's latest reviews, their count and average rating (no login needed, like the product page)."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.of_product(session, merchant_id, product_id)
