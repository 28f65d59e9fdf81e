from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.community import service
from fissionmall.community.schemas import ReviewIn, ReviewOut, ReviewPage
from fissionmall.core.auth import Shopper, current_shopper, optional_shopper
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: reviews"])


@router.post("/orders/{order_id}/reviews", response_model=ReviewOut, status_code=201)
async def write(order_id: RowId, body: ReviewIn, request: Request, shopper: Shopper = Depends(current_shopper),
                session: AsyncSession = Depends(get_session)):
    """Review a product of a received order, once."""
    return await service.write(session, request.app.state.runtime, shopper, order_id, body)


@router.get("/products/{product_id}/reviews", response_model=ReviewPage)
async def of_product(product_id: RowId, request: Request, merchant: str | None = None,
                     shopper: Shopper | None = Depends(optional_shopper),
                     session: AsyncSession = Depends(get_session)):
    """The product's latest reviews, their count and average rating (no login needed, like the product page)."""
    merchant_id = await merchants.merchant_for_visitor(session, request.app.state.runtime, shopper, merchant)
    return await service.of_product(session, merchant_id, product_id)
