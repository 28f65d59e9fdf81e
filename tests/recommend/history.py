"""A purchase history written straight into the tables (customers, products, paid and refunded orders, and the
events the order record writes for them), for tests of the model that need many orders and no HTTP round trips."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import update

from fissionmall.catalog.models import Product, Sku
from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from fissionmall.customers.models import Customer
from fissionmall.orders.models import Order, OrderItem
from tests.support import ADDRESS, Mall


@dataclass
class History:
    runtime: Runtime
    merchant_id: int
    at: datetime
    customers: list[int] = field(default_factory=list)
    products: list[int] = field(default_factory=list)
    skus: dict[int, int] = field(default_factory=dict)
    orders: dict[int, tuple[int, list[int]]] = field(default_factory=dict)
    """order → (customer, products)"""

    async def add_customers(self, n: int, inviter_of: dict[int, int] | None = None) -> list[int]:
        """n customers; `inviter_of` maps an index among them to the index of an earlier one who referred them (a
        sign-up event is written for each, as the sign-in writes it)."""
        made: list[int] = []
        async with self.runtime.sessionmaker() as session:
            for i in range(n):
                inviter = made[inviter_of[i]] if inviter_of and i in inviter_of else None
                customer = Customer(merchant_id=self.merchant_id, openid=f"h{len(self.customers) + i}",
                                    nickname=f"h{i}", inviter_id=inviter, created_at=self.at)
                session.add(customer)
                await session.flush()
                made.append(customer.id)
                session.add(Event(merchant_id=self.merchant_id, kind="register", actor_id=customer.id,
                                  inviter_id=inviter, subject_type="customer", subject_id=customer.id, data={},
                                  occurred_at=self.at))
            await session.commit()
        self.customers += made
        return made

    async def add_products(self, n: int, *, stock: int = 100) -> list[int]:
        made: list[int] = []
        async with self.runtime.sessionmaker() as session:
            for i in range(n):
                product = Product(merchant_id=self.merchant_id, title=f"商品{len(self.products) + i}",
                                  status="on_sale", created_at=self.at)
                product.images = []
                product.skus = [Sku(merchant_id=self.merchant_id, code=f"p{self.merchant_id}-{len(self.products) + i}",
                                    name="默认", price_fen=1000 + i, stock=stock)]
                session.add(product)
                await session.flush()
                made.append(product.id)
                self.skus[product.id] = product.skus[0].id
            await session.commit()
        self.products += made
        return made

    async def buy(self, customer_id: int, product_ids: list[int]) -> int:
        """A paid order of these products, and its pay event."""
        async with self.runtime.sessionmaker() as session:
            total = 1000 * len(product_ids)
            order = Order(merchant_id=self.merchant_id, customer_id=customer_id, order_no=f"H{len(self.orders) + 1}",
                          status="to_ship", items_fen=total, total_fen=total, paid_fen=total, address=ADDRESS,
                          created_at=self.at, paid_at=self.at)
            session.add(order)
            await session.flush()
            session.add_all([OrderItem(merchant_id=self.merchant_id, order_id=order.id, product_id=p,
                                       sku_id=self.skus[p], title="x", unit_price_fen=1000, quantity=1)
                             for p in product_ids])
            session.add(Event(merchant_id=self.merchant_id, kind="pay", actor_id=customer_id, subject_type="order",
                              subject_id=order.id, data={"amount_fen": total}, occurred_at=self.at))
            await session.commit()
        self.orders[order.id] = (customer_id, product_ids)
        return order.id

    async def refund(self, order_id: int) -> None:
        """The order refunded in full, and the refund's event."""
        customer_id, _ = self.orders[order_id]
        async with self.runtime.sessionmaker() as session:
            order = await session.get(Order, order_id)
            assert order is not None
            order.status, order.refunded_fen, order.refund_reserved_fen = "refunded", order.paid_fen, order.paid_fen
            session.add(Event(merchant_id=self.merchant_id, kind="refund", actor_id=customer_id, subject_type="order",
                              subject_id=order_id, data={"amount_fen": order.paid_fen}, occurred_at=self.at))
            await session.commit()

    async def open_share_of(self, visitor_id: int, sharer_id: int) -> None:
        """The visitor opened a link the sharer shared (the click event the share landing writes)."""
        async with self.runtime.sessionmaker() as session:
            session.add(Event(merchant_id=self.merchant_id, kind="click", actor_id=visitor_id, inviter_id=sharer_id,
                              subject_type="share", subject_id=1, data={}, occurred_at=self.at))
            await session.commit()

    def baskets(self, refunded: set[int]) -> dict[int, set[int]]:
        held: dict[int, set[int]] = {}
        for order_id, (customer_id, products) in self.orders.items():
            if order_id not in refunded:
                held.setdefault(customer_id, set()).update(products)
        return held


class Shop:
    """The mall's Tea (A) and five more products: B, C, D, a sold-out E and an off-sale F (both sold before)."""

    def __init__(self, mall: Mall, history: History) -> None:
        self.mall, self.history = mall, history
        self.ids: dict[str, int] = {"A": mall.product_id}

    async def stock(self) -> None:
        made = await self.history.add_products(5)
        self.ids.update(zip("BCDEF", made, strict=True))
        self.history.skus[self.mall.product_id] = self.mall.sku_id

    async def buy(self, who: dict[str, str], *names: str) -> dict[str, Any]:
        items = [{"sku_id": self.history.skus[self.ids[n]], "quantity": 1} for n in names]
        response = await self.mall.client.post("/orders", headers=who, json={"items": items, "address": ADDRESS})
        assert response.status_code == 201, response.text
        return await self.mall.pay(who, response.json()["id"])

    def names(self, answer: httpx.Response) -> list[tuple[str, str]]:
        assert answer.status_code == 200, answer.text
        by_id = {v: k for k, v in self.ids.items()}
        return [(by_id[item["product"]["id"]], item["reason"]) for item in answer.json()["items"]]


async def refresh(mall: Mall) -> None:
    """The worker's next pass, once the events of the orders are older than the fold's settling time."""
    mall.runtime.clock.advance(seconds=10)
    await mall.work()


async def sold_out_and_off_sale(runtime: Runtime, shop: Shop) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(update(Sku).where(Sku.product_id == shop.ids["E"]).values(stock=0))
        await session.execute(update(Product).where(Product.id == shop.ids["F"]).values(status="off_sale"))
        await session.commit()
