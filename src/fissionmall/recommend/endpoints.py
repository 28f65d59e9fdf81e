from __future__ import annotations

from fastapi import APIRouter, Query

from fissionmall.core.deps import ClockDep, OptionalShopperDep, SessionDep
from fissionmall.core.errors import Unauthorized
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants
from fissionmall.recommend import service
from fissionmall.recommend.schemas import Context, Recommendations

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: recommendations"])


@router.get("/recommendations", response_model=Recommendations)
async def recommendations(shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
                          clock: ClockDep, context: Context = "home", product_id: RowId | None = None,
                          order_id: RowId | None = None, merchant: str | None = None,
                          limit: int = Query(service.LIMIT, ge=1, le=50)) -> Recommendations:
    """为你推荐 (home), 买了又买 (product: `product_id`), or after paying (order: `order_id`, the shopper's own).
    Never a product off sale, out of stock or already bought by the shopper; the worker keeps the model fresh. Read
    from the primary, never the replica: what the shopper just bought (and, after paying, the order itself) must be
    seen at once."""
    if context == "order" and shopper is None:
        raise Unauthorized("unauthenticated", "sign in to see recommendations for an order")
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    customer_id = shopper.customer_id if shopper else None
    now = clock.now()
    if context == "product":
        return await service.for_product(session, merchant_id, customer_id, product_id, now, limit)
    if context == "order" and customer_id is not None:
        return await service.for_order(session, merchant_id, customer_id, order_id, now, limit)
    return await service.for_home(session, merchant_id, customer_id, now, limit)
