"""Factories and shopper/staff helpers shared by the tests: real rows, real HTTP calls, no mocks."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

import httpx
from sqlalchemy import select, text

from fissionmall.catalog.models import Product, Sku
from fissionmall.core.auth import hash_password
from fissionmall.core.runtime import Runtime
from fissionmall.jobs.worker import tick
from fissionmall.merchants.models import Merchant, Staff, Store
from fissionmall.merchants.service import staff_token

PASSWORD = "correct horse battery"
ROLES = ("owner", "operator", "finance", "support")
ADDRESS = {"name": "张三", "phone": "13800138000", "region": "上海市", "detail": "南京西路 1 号"}
SHIPMENT = {"carrier": "SF Express", "tracking_no": "SF1234567890"}
LONG_TOKEN_TTL_SECONDS = 90 * 24 * 3600
"""Token lifetime for tests that move the clock by days: shopper and staff tokens must outlive the move."""
IN_FLIGHT = 40
"""Requests inside the app at a time in a race, each holding a connection: the PostgreSQL server is shared with
other test runs."""

Who = dict[str, str]
T = TypeVar("T")


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


def at(stamp: str | None) -> datetime | None:
    """A timestamp of an API answer, parsed (None stays None); one without a zone is UTC, as the app stores it."""
    if stamp is None:
        return None
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def together(calls: Iterable[Awaitable[T]], in_flight: int = IN_FLIGHT) -> list[T]:
    """Start every call at once (asyncio.gather), at most `in_flight` of them inside the app at a time; every call
    finishes before a failure is raised, so nothing runs on into the next test."""
    gate = asyncio.Semaphore(in_flight)

    async def gated(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    results = await asyncio.gather(*(gated(call) for call in calls), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


async def shoppers(mall: Mall, prefix: str, count: int, *, at_once: bool = False) -> list[Who]:
    """`count` shoppers signed in as prefix0, prefix1, …: one after another, or all at once (race tests)."""
    if at_once:
        return await together(mall.shopper(f"{prefix}{i}") for i in range(count))
    return [await mall.shopper(f"{prefix}{i}") for i in range(count)]


async def customer_id(mall: Mall, who: Who) -> int:
    """The id of the signed-in shopper, as GET /me reports it."""
    response = await mall.client.get("/me", headers=who)
    assert response.status_code == 200, response.text
    found: int = response.json()["id"]
    return found


async def work_until_idle(mall: Mall, passes: int = 20) -> None:
    """Worker passes until no job is left (a sweep, the jobs it queues, the notifications they send)."""
    for _ in range(passes):
        if (await mall.work())["jobs"] == 0:
            return
    raise AssertionError(f"the worker still had jobs after {passes} passes")


async def sign_staff_tokens(mall: Mall) -> None:
    """Staff tokens signed directly: a login costs an argon2 check (~0.1 s) and its token expires in 12 hours, while
    many tests move the clock by days."""
    async with mall.runtime.sessionmaker() as session:
        staff = (await session.execute(select(Staff).where(Staff.merchant_id == mall.merchant_id))).scalars().all()
    for member in staff:
        mall._staff_tokens[member.role] = staff_token(mall.runtime.settings, mall.runtime.clock.now(), member,
                                                       ttl_seconds=LONG_TOKEN_TTL_SECONDS)


async def full_refund(mall: Mall, order_id: int) -> None:
    """The merchant refunds everything paid; the worker has the sandbox pay it back and applies its notice."""
    response = await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=await mall.staff("finance"),
                                      json={"reason": "goodwill"})
    assert response.status_code == 201, response.text
    await mall.work()


def codes(answers: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    """(status, problem code) of each answer, counted: what a crowd of requests was told."""
    return Counter((r.status_code, r.json().get("code") if r.status_code >= 400 else None) for r in answers)


async def counter(runtime: Runtime, key: str, period: str = "all") -> int | None:
    """A capped counter's use as stored (None: never counted)."""
    found = await rows(runtime, "SELECT used FROM counters WHERE key = :k AND period = :p", k=key, p=period)
    return found[0][0] if found else None


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
