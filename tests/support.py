"""Factories and shopper/staff helpers shared by the tests: real rows, real HTTP calls, no mocks."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx
from sqlalchemy import text

from fissionmall.catalog.models import Product, Sku
from fissionmall.core.auth import hash_password
from fissionmall.jobs.worker import tick
from fissionmall.merchants.models import Merchant, Staff, Store
from fissionmall.runtime import Runtime

PASSWORD = "correct horse battery"
ROLES = ("owner", "operator", "finance", "support")
ADDRESS = {"name": "张三", "phone": "13800138000", "region": "上海市", "detail": "南京西路 1 号"}


@lru_cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert a problem+json answer with this status and code."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


@dataclass
class Mall:
    client: httpx.AsyncClient
    runtime: Runtime
    slug: str
    merchant_id: int
    store_id: int
    product_id: int
    sku_id: int
    _staff_tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def create(cls, client: httpx.AsyncClient, runtime: Runtime, *, slug: str, price_fen: int = 1000,
                     stock: int = 100) -> Mall:
        now = runtime.clock.now()
        async with runtime.sessionmaker() as session:
            merchant = Merchant(slug=slug, name=f"{slug} mall", created_at=now)
            session.add(merchant)
            await session.flush()
            store = Store(merchant_id=merchant.id, name="main store")
            session.add(store)
            session.add_all([Staff(merchant_id=merchant.id, username=role, password_hash=password_hash(), role=role)
                             for role in ROLES])
            product = Product(merchant_id=merchant.id, title="Tea", status="on_sale", created_at=now)
            product.images = []
            product.skus = [Sku(merchant_id=merchant.id, code=f"{slug}-tea", name="100g", price_fen=price_fen,
                                stock=stock)]
            session.add(product)
            await session.commit()
            return cls(client, runtime, slug, merchant.id, store.id, product.id, product.skus[0].id)

    async def staff(self, role: str = "owner") -> dict[str, str]:
        if role not in self._staff_tokens:
            response = await self.client.post("/admin/auth/login", json={
                "merchant_slug": self.slug, "username": role, "password": PASSWORD})
            assert response.status_code == 200, response.text
            self._staff_tokens[role] = response.json()["token"]
        return {"Authorization": f"Bearer {self._staff_tokens[role]}"}

    async def shopper(self, openid: str, **extra: Any) -> dict[str, str]:
        response = await self.client.post("/auth/dev-login", json={
            "merchant_slug": self.slug, "openid": openid, "nickname": openid, **extra})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    async def place_order(self, who: dict[str, str], quantity: int = 1, sku_id: int | None = None,
                          **extra: Any) -> httpx.Response:
        return await self.client.post("/orders", headers=who, json={
            "items": [{"sku_id": sku_id or self.sku_id, "quantity": quantity}], "address": ADDRESS, **extra})

    async def order(self, who: dict[str, str], quantity: int = 1) -> dict[str, Any]:
        response = await self.place_order(who, quantity)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def pay(self, who: dict[str, str], order_id: int) -> dict[str, Any]:
        """Pay through the sandbox and let the worker deliver the signed notification."""
        response = await self.client.post(f"/orders/{order_id}/pay", headers=who)
        assert response.status_code == 200, response.text
        payment_id = response.json()["payment_id"]
        response = await self.client.post(f"/sandbox/payments/{payment_id}/complete", headers=who)
        assert response.status_code == 202, response.text
        await self.work()
        return await self.get_order(who, order_id)

    async def get_order(self, who: dict[str, str], order_id: int) -> dict[str, Any]:
        response = await self.client.get(f"/orders/{order_id}", headers=who)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def work(self) -> dict[str, int]:
        """One worker pass: sweeps, then every due job (notifications, refunds)."""
        return await tick(self.runtime)

    async def sku_stock(self) -> int:
        response = await self.client.get(f"/admin/products/{self.product_id}", headers=await self.staff())
        stock: int = response.json()["skus"][0]["stock"]
        return stock


async def rows(runtime: Runtime, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Plain SQL for assertions: what is really in the tables."""
    async with runtime.sessionmaker() as session:
        return [tuple(row) for row in (await session.execute(text(sql), params))]


async def value(runtime: Runtime, sql: str, **params: Any) -> Any:
    [(result,)] = await rows(runtime, sql, **params)
    return result


async def snapshot_of(runtime: Runtime, tables: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of these tables, sorted so that an unchanged table compares equal: what a refused request must
    leave exactly as it was."""
    return {table: sorted(await rows(runtime, f"SELECT * FROM {table}"), key=repr) for table in tables}


async def refused_unchanged(mall: Mall, request: Awaitable[httpx.Response], status: int, code: str, *,
                            tables: Sequence[str]) -> dict[str, Any]:
    """Send the (awaitable) request: it must be refused with this problem and change no row of `tables`."""
    before = await snapshot_of(mall.runtime, tables)
    answer = problem(await request, status, code)
    assert await snapshot_of(mall.runtime, tables) == before, f"a refused request ({code}) changed rows"
    return answer
