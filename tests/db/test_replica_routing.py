"""Reads that may lag come from the replica (DATABASE_REPLICA_URL); nothing a shopper or staff member reads back after
their own write does. The replica here is a stale copy: a database migrated as the primary is but holding none of the
rows the tests write, so an answer read from it shows at once, and every statement sent to it is counted."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from fastapi import APIRouter
from fastapi.routing import iter_route_contexts
from sqlalchemy import event

from fissionmall.core.auth import SHOPPER_COOKIE, STAFF_COOKIE
from fissionmall.core.deps import ReplicaSessionDep
from fissionmall.core.runtime import Runtime
from fissionmall.core.transaction import TransactionalRoute, reads_replica
from fissionmall.migrate import upgrade_async
from tests.campaigns.groupbuy.test_group_flow import group_campaign, group_order
from tests.coupons.test_coupons import claimed, make_template
from tests.support import Mall, Who, problem, value

SITE = "http://mall.test"
REPLICA_ROUTES = {
    "GET /api/v1/products",
    "GET /api/v1/categories",
    "GET /api/v1/products/{product_id}",
    "GET /api/v1/products/{product_id}/reviews",
    "GET /api/v1/coupon-templates",
    "GET /api/v1/group-campaigns/{campaign_id}",
    "GET /api/v1/group-campaigns/{campaign_id}/groups",
    "GET /api/v1/bargain-campaigns/{campaign_id}",
    "GET /api/v1/assist-campaigns/{campaign_id}",
    "GET /api/v1/invite-campaigns",
    "GET /api/v1/invite-campaigns/{campaign_id}",
    "GET /api/v1/voucher-offers",
    "GET /api/v1/voucher-offers/{campaign_id}",
    "GET /api/v1/admin/analytics/campaigns",
    "GET /api/v1/admin/analytics/campaigns/{campaign_id}",
    "GET /api/v1/admin/analytics/campaigns/{campaign_id}/shares/{share_id}",
    "GET /api/v1/admin/analytics/campaigns/{campaign_id}/series",
    "GET /api/v1/admin/analytics/campaigns/{campaign_id}/tree",
    "GET /api/v1/admin/analytics/campaigns/{campaign_id}/top-sharers",
    "GET /m/{merchant}",
    "GET /m/{merchant}/products/{product_id}",
    "GET /m/{merchant}/assist-campaigns/{campaign_id}",
    "GET /console/campaigns/{campaign_id}/analytics",
}
"""Every route that reads the replica (its endpoint takes ReplicaSessionDep): the catalogue, campaigns' published rules
and the shop's pages built from them, analytics. A route that starts reading the replica fails the first test until
it is reviewed and listed here."""


def routes_on_the_replica() -> set[str]:
    from fissionmall.app import create_app
    from fissionmall.config import load_settings

    app = create_app(load_settings(platform_token="p" * 32, api_docs=True))
    return {f"{method} {route.path}" for route in iter_route_contexts(app.routes)
            if isinstance(route.route, TransactionalRoute) and reads_replica(route.route.dependant)
            for method in sorted(route.methods or ())}


@pytest.mark.backend_free
def test_only_the_reviewed_routes_read_the_replica():
    assert routes_on_the_replica() == REPLICA_ROUTES


@pytest.mark.backend_free
def test_a_write_route_cannot_take_the_replica():
    router = APIRouter(route_class=TransactionalRoute)

    async def write_through_the_replica(session: ReplicaSessionDep) -> None:
        raise AssertionError("never built, so never run")

    with pytest.raises(TypeError, match="only a GET may read the replica"):
        router.add_api_route("/things", write_through_the_replica, methods=["POST"])


# --- on PostgreSQL, with a stale replica ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
async def stale_replica_url(database_url: str) -> str:
    """A database beside the test database, migrated and left empty."""
    url = f"{database_url}_stale_replica"
    server, name = url.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await upgrade_async(url)
    return url


@pytest.fixture
def settings_overrides(stale_replica_url: str) -> dict[str, object]:
    return {"database_replica_url": stale_replica_url}


@pytest.fixture
async def on_replica(runtime: Runtime) -> AsyncIterator[list[str]]:
    """Every statement sent to the replica, as it is sent."""
    assert runtime.replica_engine is not None
    sent: list[str] = []
    event.listen(runtime.replica_engine.sync_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: sent.append(statement))
    yield sent
    await runtime.replica_engine.dispose()


async def read_on_replica(on_replica: list[str], call):
    before = len(on_replica)
    response = await call
    assert len(on_replica) > before, f"{response.request.url} did not read the replica"
    return response


@pytest.mark.postgres
async def test_lag_tolerant_reads_come_from_the_replica(client, mall: Mall, on_replica: list[str]):
    campaign_id = await group_campaign(mall)
    alice = await mall.shopper("alice")
    staff = await mall.staff()

    listed = await read_on_replica(on_replica, client.get("/products", headers=alice))
    assert listed.status_code == 200 and listed.json()["items"] == []  # the primary lists Tea
    problem(await read_on_replica(on_replica, client.get(f"/products/{mall.product_id}", headers=alice)),
            404, "product_not_found")
    problem(await read_on_replica(on_replica, client.get("/categories", params={"merchant": "acme"})),
            404, "merchant_not_found")
    problem(await read_on_replica(on_replica, client.get(f"/group-campaigns/{campaign_id}", headers=alice)),
            404, "campaign_not_found")
    problem(await read_on_replica(on_replica, client.get(f"/admin/analytics/campaigns/{campaign_id}",
                                                         headers=staff)), 404, "campaign_not_found")

    home = await read_on_replica(on_replica, client.get(f"{SITE}/m/acme"))
    assert home.status_code == 200 and "Tea" not in home.text  # the shop (who is looking) from the primary
    product_page = await read_on_replica(on_replica, client.get(f"{SITE}/m/acme/products/{mall.product_id}"))
    assert product_page.status_code == 404
    client.cookies.set(STAFF_COOKIE, staff["Authorization"].removeprefix("Bearer "))
    analytics_page = await read_on_replica(on_replica, client.get(f"{SITE}/console/campaigns/{campaign_id}/analytics"))
    assert analytics_page.status_code == 404


@pytest.mark.postgres
async def test_what_is_read_back_after_ones_own_write_never_comes_from_the_replica(client, mall: Mall, runtime,
                                                                                   on_replica: list[str]):
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    me = await client.get("/me", headers=alice)
    assert me.status_code == 200 and me.json()["nickname"] == "alice"

    order = await mall.order(alice)
    assert (await mall.get_order(alice, order["id"]))["status"] == "pending_payment"
    assert [o["id"] for o in (await client.get("/orders", headers=alice)).json()["items"]] == [order["id"]]
    paid = await mall.pay(alice, order["id"])  # the payment's status, as the shopper polls it
    assert paid["status"] == "to_ship" and paid["paid_fen"] == paid["total_fen"]

    template = await make_template(mall)
    coupon = await claimed(mall, alice, template["id"])
    assert [c["id"] for c in (await client.get("/coupons", headers=alice)).json()] == [coupon["id"]]

    campaign_id = await group_campaign(mall, fill_minutes=60)
    opened = await group_order(mall, alice, campaign_id)
    await mall.pay(alice, opened["id"])
    group_id = await value(runtime, "SELECT group_id FROM group_orders WHERE order_id = :id", id=opened["id"])
    joined = await group_order(mall, bob, campaign_id, group_id)
    await mall.pay(bob, joined["id"])
    group = (await client.get(f"/groups/{group_id}", headers=bob)).json()
    assert group["status"] == "succeeded" and [m["nickname"] for m in group["members"]] == ["alice", "bob"]

    await shopper_pages_show(client, alice, order["id"])
    await staff_reads_back_an_edit(client, mall)
    assert on_replica == []

    await read_on_replica(on_replica, client.get("/products", headers=alice))  # the count is live


async def shopper_pages_show(client, alice: Who, order_id: int) -> None:
    client.cookies.set(SHOPPER_COOKIE, alice["Authorization"].removeprefix("Bearer "))
    order_page = await client.get(f"{SITE}/m/acme/orders/{order_id}")
    assert order_page.status_code == 200 and "Tea" in order_page.text
    account = await client.get(f"{SITE}/m/acme/me")
    assert account.status_code == 200 and "alice" in account.text
    client.cookies.delete(SHOPPER_COOKIE)


async def staff_reads_back_an_edit(client, mall: Mall) -> None:
    staff = await mall.staff()
    renamed = await client.patch(f"/admin/products/{mall.product_id}", headers=staff, json={"title": "Green tea"})
    assert renamed.status_code == 200, renamed.text
    assert (await client.get(f"/admin/products/{mall.product_id}", headers=staff)).json()["title"] == "Green tea"
    client.cookies.set(STAFF_COOKIE, staff["Authorization"].removeprefix("Bearer "))
    console_page = await client.get(f"{SITE}/console/products/{mall.product_id}")
    assert console_page.status_code == 200 and "Green tea" in console_page.text
    client.cookies.delete(STAFF_COOKIE)
