"""An order keeps each adjustment's part on every line as priced, so what each line cost is read back exactly;
a later price change, stored without parts, is split the same way when read."""

from __future__ import annotations

from sqlalchemy import select

from fissionmall.checkout.pricing import Line
from fissionmall.core.runtime import Runtime
from fissionmall.orders.models import OrderAdjustment, OrderItem
from fissionmall.orders.rules import line_cash
from tests.support import Mall


async def test_an_order_stores_every_adjustments_part_per_line_and_they_explain_its_total(mall: Mall,
                                                                                        runtime: Runtime) -> None:
    response = await mall.client.patch("/admin/merchant", headers=await mall.staff("owner"),
                                       json={"shipping_fee_fen": 801})
    assert response.status_code == 200, response.text
    alice = await mall.shopper("alice")
    order = await mall.order(alice, quantity=3)
    response = await mall.client.post(f"/admin/orders/{order['id']}/adjustments", headers=await mall.staff("owner"),
                                      json={"amount_fen": -301, "name": "老客优惠"})
    assert response.status_code == 201, response.text
    async with runtime.sessionmaker() as session:
        items = (await session.execute(select(OrderItem).where(OrderItem.order_id == order["id"]))).scalars().all()
        rows = (await session.execute(select(OrderAdjustment).where(OrderAdjustment.order_id == order["id"])
                                      .order_by(OrderAdjustment.id))).scalars().all()
    assert [(row.kind, row.amount_fen, row.line_shares) for row in rows] == [
        ("shipping", 801, [801]), ("merchant_adjustment", -301, None)]
    lines = [Line(item.sku_id, item.product_id, None, item.unit_price_fen, item.quantity) for item in items]
    adjustments = [{"amount_fen": row.amount_fen, "line_shares": row.line_shares} for row in rows]
    assert line_cash(lines, adjustments) == [3 * 1000 + 801 - 301] == [response.json()["total_fen"]]
