"""Who may call what: tokens, staff roles, tenant isolation, sign-in (staff, dev, WeChat), Idempotency-Key,
and the merchant's own settings."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fissionmall.catalog.models import Product, Sku
from fissionmall.core.auth import ROLE_PERMISSIONS
from fissionmall.core.tokens import SigningKeys, sign_token
from fissionmall.customers.models import Customer
from fissionmall.orders.models import Order
from tests.support import ADDRESS, PASSWORD, ROLES, SHIPMENT, Mall, problem
from tests.wechat_stand_in import APPID, SECRET, WechatStandIn


@pytest.fixture
def settings_overrides(wechat_server: WechatStandIn) -> dict[str, object]:
    return {"wechat_api_base": wechat_server.url}


def closed_port_url() -> str:
    """A local address nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# --- helpers ---------------------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("light_password_hashes")  # staff log in through the real endpoint often




async def count(runtime, model, **where: object) -> int:
    async with runtime.sessionmaker() as session:
        statement = select(func.count()).select_from(model)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        return int((await session.execute(statement)).scalar_one())


async def admin_get(mall: Mall, path: str) -> Any:
    response = await mall.client.get(path, headers=await mall.staff("owner"))
    assert response.status_code == 200, response.text
    return response.json()


async def paid_order(mall: Mall, openid: str = "payer") -> tuple[dict[str, str], int]:
    shopper = await mall.shopper(openid)
    order = await mall.order(shopper)
    assert (await mall.pay(shopper, order["id"]))["status"] == "to_ship"
    return shopper, order["id"]


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_claims(token: str, **changes: object) -> str:
    """The token with its payload edited and its signature kept."""
    body, signature = token.split(".")
    claims = dict(json.loads(_unb64(body)), **changes)
    return f"{_b64(json.dumps(claims, separators=(',', ':'), sort_keys=True).encode())}.{signature}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


# --- tokens ------------------------------------------------------------------------------------------


async def test_shopper_token_never_opens_admin(client, mall):
    """A shopper's token is for the shop only: every /admin call answers 401, and nothing is created."""
    alice = await mall.shopper("alice")
    for method, path, body in [("GET", "/admin/orders", None), ("GET", "/admin/merchant", None),
                               ("GET", f"/admin/products/{mall.product_id}", None),
                               ("POST", "/admin/products", {"title": "X", "skus": [
                                   {"code": "x-1", "name": "x", "price_fen": 100}]}),
                               ("PATCH", f"/admin/skus/{mall.sku_id}", {"stock_delta": 5})]:
        response = await client.request(method, path, headers=alice, json=body)
        problem(response, 401, "unauthenticated")
    assert await count(mall.runtime, Product) == 1
    assert await mall.sku_stock() == 100


async def test_staff_token_never_opens_shopper_endpoints(client, mall):
    """Staff are not shoppers: their token reads no one's orders and places none."""
    for role in ROLES:
        staff = await mall.staff(role)
        problem(await client.get("/orders", headers=staff), 401, "unauthenticated")
        problem(await client.get("/me", headers=staff), 401, "unauthenticated")
        problem(await mall.place_order(staff), 401, "unauthenticated")
    assert await count(mall.runtime, Order) == 0
    assert await mall.sku_stock() == 100


async def test_missing_or_malformed_authorization_is_401(client, mall):
    alice = await mall.shopper("alice")
    for headers in [{}, {"Authorization": token_of(alice)}, {"Authorization": f"Basic {token_of(alice)}"},
                    {"Authorization": "Bearer "}, {"Authorization": "Bearer not-a-token"},
                    {"Authorization": "Bearer a.b.c"}, {"Authorization": f"Bearer {token_of(alice).split('.')[0]}."}]:
        problem(await client.get("/orders", headers=headers), 401, "unauthenticated")
    assert (await client.get("/orders", headers=alice)).status_code == 200


async def test_shopper_token_expires_after_its_ttl(client, mall, clock, runtime):
    """A shopper token lives token_ttl_seconds: valid one second before, refused from then on."""
    login = await client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "alice"})
    ttl = runtime.settings.token_ttl_seconds
    assert login.json()["expires_in"] == ttl
    alice = bearer(login.json()["token"])
    clock.advance(seconds=ttl - 1)
    assert (await client.get("/me", headers=alice)).status_code == 200
    clock.advance(seconds=1)
    problem(await client.get("/me", headers=alice), 401, "unauthenticated")
    problem(await client.get("/orders", headers=alice), 401, "unauthenticated")


async def test_staff_token_expires_after_the_short_staff_ttl(client, mall, clock, runtime):
    """Staff tokens live staff_token_ttl_seconds (12 h), much less than a shopper's."""
    login = await client.post("/admin/auth/login", json={"merchant_slug": "acme", "username": "owner",
                                                         "password": PASSWORD})
    ttl = runtime.settings.staff_token_ttl_seconds
    assert ttl == 12 * 3600 < runtime.settings.token_ttl_seconds
    assert login.json()["expires_in"] == ttl
    owner = bearer(login.json()["token"])
    clock.advance(seconds=ttl - 1)
    assert (await client.get("/admin/merchant", headers=owner)).status_code == 200
    clock.advance(seconds=1)
    problem(await client.get("/admin/merchant", headers=owner), 401, "unauthenticated")


async def test_tampered_payload_is_refused(client, mall):
    """Editing a signed claim (who, which mall, which role, when it expires) voids the token."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    bob_order = await mall.order(bob)
    bob_id = bob_order["customer_id"]
    assert (await client.get("/me", headers=bearer(with_claims(token_of(alice))))).status_code == 200  # control
    forged = with_claims(token_of(alice), sub=str(bob_id))
    problem(await client.get(f"/orders/{bob_order['id']}", headers=bearer(forged)), 401, "unauthenticated")
    problem(await client.get("/me", headers=bearer(with_claims(token_of(alice), exp=2**40))), 401,
            "unauthenticated")
    support = token_of(await mall.staff("support"))
    promoted = with_claims(support, role="owner")
    problem(await client.patch("/admin/merchant", headers=bearer(promoted), json={"name": "pwned"}), 401,
            "unauthenticated")
    as_staff = with_claims(token_of(alice), aud="staff", role="owner")
    problem(await client.get("/admin/orders", headers=bearer(as_staff)), 401, "unauthenticated")
    assert (await admin_get(mall, "/admin/merchant"))["name"] == "acme mall"


async def test_tampered_signature_is_refused(client, mall):
    alice = token_of(await mall.shopper("alice"))
    body, signature = alice.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    for token in (f"{body}.{flipped}", f"{body}.{signature[:-4]}", f"{body}.", f"{body}.{signature}x"):
        problem(await client.get("/me", headers=bearer(token)), 401, "unauthenticated")


async def test_token_signed_with_another_secret_is_refused(client, mall, clock, runtime):
    """Only the server's secret makes a token; the same claims signed with the right secret pass (control)."""
    staff_id = (await client.get("/admin/staff", headers=await mall.staff("owner"))).json()[0]["id"]
    claims = {"aud": "staff", "sub": str(staff_id), "mid": mall.merchant_id, "sv": 0}
    ttl = runtime.settings.staff_token_ttl_seconds
    foreign = sign_token(SigningKeys("another-secret-0123456789abcdef"), claims, now=clock.now(),
                         ttl=timedelta(seconds=ttl))
    problem(await client.get("/admin/merchant", headers=bearer(foreign)), 401, "unauthenticated")
    genuine = sign_token(runtime.settings.signing_keys, claims, now=clock.now(), ttl=timedelta(seconds=ttl))
    assert (await client.get("/admin/merchant", headers=bearer(genuine))).status_code == 200


# --- roles -------------------------------------------------------------------------------------------

Call = Callable[[dict[str, str]], Awaitable[httpx.Response]]
Look = Callable[[], Awaitable[object]]

MATRIX: dict[str, tuple[str, frozenset[str], int]] = {
    # action: (permission, roles allowed, status on success)
    "create_product": ("catalog.write", frozenset({"owner", "operator"}), 201),
    "patch_sku": ("catalog.write", frozenset({"owner", "operator"}), 200),
    "ship_order": ("orders.ship", frozenset({"owner", "operator", "support"}), 200),
    "adjust_price": ("orders.adjust", frozenset({"owner", "operator"}), 201),
    "merchant_refund": ("refunds.decide", frozenset({"owner", "finance"}), 201),
    "approve_refund": ("refunds.decide", frozenset({"owner", "finance"}), 200),
    "patch_merchant": ("merchant.write", frozenset({"owner"}), 200),
    "add_store": ("merchant.write", frozenset({"owner"}), 201),
    "list_orders": ("orders.read", frozenset(ROLES), 200),
}


async def _setup(action: str, mall: Mall, role: str) -> tuple[Call, Look]:
    """The call under test for `action` (on fresh rows for this role), and how to look, as the owner,
    at what it would change."""
    client = mall.client
    if action == "create_product":
        body = {"title": f"Coffee {role}", "skus": [{"code": f"coffee-{role}", "name": "250g", "price_fen": 3990}]}
        return (lambda who: client.post("/admin/products", headers=who, json=body),
                lambda: _titles(mall))
    if action == "patch_sku":
        body = {"price_fen": 1000 + ROLES.index(role) + 1}
        return (lambda who: client.patch(f"/admin/skus/{mall.sku_id}", headers=who, json=body),
                lambda: _sku(mall))
    if action == "list_orders":
        return (lambda who: client.get("/admin/orders", headers=who), _nothing)
    if action == "patch_merchant":
        return (lambda who: client.patch("/admin/merchant", headers=who, json={"name": f"renamed by {role}"}),
                lambda: admin_get(mall, "/admin/merchant"))
    if action == "add_store":
        return (lambda who: client.post("/admin/stores", headers=who, json={"name": f"store of {role}"}),
                lambda: admin_get(mall, "/admin/stores"))
    if action == "adjust_price":
        order_id = (await mall.order(await mall.shopper(f"shopper-{role}")))["id"]
        return (lambda who: client.post(f"/admin/orders/{order_id}/adjustments", headers=who,
                                        json={"amount_fen": -100, "name": "friend discount"}),
                lambda: admin_get(mall, f"/admin/orders/{order_id}"))
    shopper, order_id = await paid_order(mall, f"shopper-{role}")
    if action == "ship_order":
        return (lambda who: client.post(f"/admin/orders/{order_id}/ship", headers=who, json=SHIPMENT),
                lambda: admin_get(mall, f"/admin/orders/{order_id}"))
    if action == "merchant_refund":
        return (lambda who: client.post(f"/admin/orders/{order_id}/refunds", headers=who, json={"reason": "broken"}),
                lambda: admin_get(mall, f"/admin/orders/{order_id}"))
    assert action == "approve_refund"
    requested = await client.post(f"/orders/{order_id}/refunds", headers=shopper, json={"reason": "broken"})
    assert requested.status_code == 201, requested.text
    refund_id = requested.json()["refunds"][0]["id"]
    return (lambda who: client.post(f"/admin/refunds/{refund_id}/approve", headers=who),
            lambda: admin_get(mall, f"/admin/orders/{order_id}"))


async def _nothing() -> None:
    return None


async def _titles(mall: Mall) -> list[str]:
    return [p["title"] for p in (await admin_get(mall, "/admin/products"))["items"]]


async def _sku(mall: Mall) -> dict[str, Any]:
    sku: dict[str, Any] = (await admin_get(mall, f"/admin/products/{mall.product_id}"))["skus"][0]
    return sku


@pytest.mark.backend_free
def test_matrix_follows_role_permissions():
    """The matrix is written out by hand; it must agree with ROLE_PERMISSIONS (a change needs both)."""
    for action, (permission, allowed, _) in MATRIX.items():
        assert allowed == {role for role in ROLES if permission in ROLE_PERMISSIONS[role]}, action


@pytest.mark.parametrize("action", list(MATRIX))
async def test_role_matrix(mall, action):
    """Each admin action answers 403 `forbidden` to every role without its permission, changing nothing,
    and succeeds (and changes what it should) for the others. Compared as one row per action."""
    _, allowed, success = MATRIX[action]
    writes = action != "list_orders"
    seen, expected = {}, {}
    for role in ROLES:
        call, look = await _setup(action, mall, role)
        before = await look()
        response = await call(await mall.staff(role))
        changed = await look() != before
        code = response.json().get("code") if response.status_code >= 400 else None
        if response.status_code == 403:
            assert response.headers["content-type"].startswith("application/problem+json")
        seen[role] = (response.status_code, code, changed)
        expected[role] = (success, None, writes) if role in allowed else (403, "forbidden", False)
    assert seen == expected


# --- tenant isolation --------------------------------------------------------------------------------


async def test_other_merchants_staff_cannot_see_or_change_the_catalog(client, mall, runtime):
    """Another merchant's staff get 404 (never 403: existence is not revealed) and change nothing."""
    other = await Mall.create(client, runtime, slug="other")
    theirs = await other.staff("owner")
    category = await client.post("/admin/categories", headers=await mall.staff("owner"), json={"name": "Tea"})
    attempts = [
        (client.get(f"/admin/products/{mall.product_id}", headers=theirs), "product_not_found"),
        (client.patch(f"/admin/products/{mall.product_id}", headers=theirs, json={"status": "off_sale"}),
         "product_not_found"),
        (client.post(f"/admin/products/{mall.product_id}/skus", headers=theirs,
                     json={"code": "sneaky", "name": "x", "price_fen": 1}), "product_not_found"),
        (client.patch(f"/admin/skus/{mall.sku_id}", headers=theirs, json={"stock_delta": -100}), "sku_not_found"),
        (client.patch(f"/admin/skus/{mall.sku_id}", headers=theirs, json={"price_fen": 1}), "sku_not_found"),
    ]
    for attempt, code in attempts:
        problem(await attempt, 404, code)
    problem(await client.post("/admin/products", headers=theirs, json={
        "title": "Borrowed", "category_id": category.json()["id"],
        "skus": [{"code": "b-1", "name": "x", "price_fen": 100}]}), 422, "category_not_found")
    mine = await admin_get(mall, f"/admin/products/{mall.product_id}")
    assert (mine["status"], [(s["id"], s["price_fen"], s["stock"]) for s in mine["skus"]]) == (
        "on_sale", [(mall.sku_id, 1000, 100)])
    assert await count(runtime, Sku) == 2
    listed = (await client.get("/admin/products", headers=theirs)).json()["items"]
    assert [p["id"] for p in listed] == [other.product_id]
    assert [c["name"] for c in (await client.get("/admin/categories", headers=theirs)).json()] == []
    # SKU codes are per merchant: the other mall may reuse this one's code.
    reused = await client.post("/admin/products", headers=theirs, json={
        "title": "Tea too", "skus": [{"code": "acme-tea", "name": "x", "price_fen": 100}]})
    assert reused.status_code == 201, reused.text


async def test_other_merchants_staff_cannot_see_or_change_orders_and_refunds(client, mall, runtime):
    other = await Mall.create(client, runtime, slug="other")
    shopper, paid_id = await paid_order(mall)
    refund = await client.post(f"/orders/{paid_id}/refunds", headers=shopper, json={"reason": "broken"})
    refund_id = refund.json()["refunds"][0]["id"]
    pending_id = (await mall.order(shopper))["id"]
    before = [await admin_get(mall, f"/admin/orders/{i}") for i in (paid_id, pending_id)]
    theirs = await other.staff("owner")
    for attempt, code in [
        (client.get(f"/admin/orders/{paid_id}", headers=theirs), "order_not_found"),
        (client.post(f"/admin/orders/{paid_id}/ship", headers=theirs, json=SHIPMENT), "order_not_found"),
        (client.post(f"/admin/orders/{pending_id}/adjustments", headers=theirs,
                     json={"amount_fen": -900, "name": "x"}), "order_not_found"),
        (client.post(f"/admin/orders/{paid_id}/refunds", headers=theirs, json={"reason": "x"}), "order_not_found"),
        (client.post(f"/admin/refunds/{refund_id}/approve", headers=theirs), "refund_not_found"),
        (client.post(f"/admin/refunds/{refund_id}/reject", headers=theirs), "refund_not_found"),
    ]:
        problem(await attempt, 404, code)
    assert [await admin_get(mall, f"/admin/orders/{i}") for i in (paid_id, pending_id)] == before
    assert (await client.get("/admin/orders", headers=theirs)).json() == {"items": [], "next_cursor": None}
    assert [o["id"] for o in (await admin_get(mall, "/admin/orders"))["items"]] == [pending_id, paid_id]


async def test_other_merchants_staff_see_only_their_stores_and_staff(client, mall, runtime):
    other = await Mall.create(client, runtime, slug="other")
    theirs = await other.staff("owner")
    assert [s["id"] for s in (await client.get("/admin/stores", headers=theirs)).json()] == [other.store_id]
    problem(await client.put(f"/admin/stores/{mall.store_id}", headers=theirs, json={"name": "taken over"}),
            404, "store_not_found")
    assert [s["name"] for s in await admin_get(mall, "/admin/stores")] == ["main store"]
    staff = (await client.get("/admin/staff", headers=theirs)).json()
    assert len(staff) == 4
    mine = {s["id"] for s in await admin_get(mall, "/admin/staff")}
    assert mine.isdisjoint(s["id"] for s in staff)
    problem(await client.patch(f"/admin/staff/{min(mine)}", headers=theirs, json={"active": False}),
            404, "staff_not_found")
    assert (await admin_get(mall, "/admin/merchant"))["slug"] == "acme"
    assert (await client.get("/admin/merchant", headers=theirs)).json()["slug"] == "other"


async def test_shoppers_see_only_their_own_orders(client, mall, runtime):
    """Same openid in two malls is two customers; a shopper reads neither another mall's nor a neighbour's orders."""
    other = await Mall.create(client, runtime, slug="other")
    alice_here, alice_there = await mall.shopper("alice"), await other.shopper("alice")
    carol = await mall.shopper("carol")
    there = await other.order(alice_there)
    here = await mall.order(alice_here)
    assert there["customer_id"] != here["customer_id"]
    for intruder, order_id in [(alice_here, there["id"]), (carol, here["id"]), (alice_there, here["id"])]:
        problem(await client.get(f"/orders/{order_id}", headers=intruder), 404, "order_not_found")
        problem(await client.post(f"/orders/{order_id}/cancel", headers=intruder), 404, "order_not_found")
        problem(await client.post(f"/orders/{order_id}/pay", headers=intruder), 404, "order_not_found")
    assert [o["id"] for o in (await client.get("/orders", headers=alice_here)).json()["items"]] == [here["id"]]
    assert [o["id"] for o in (await client.get("/orders", headers=alice_there)).json()["items"]] == [there["id"]]
    assert (await client.get("/orders", headers=carol)).json()["items"] == []
    assert (await mall.get_order(alice_here, here["id"]))["status"] == "pending_payment"
    assert (await other.get_order(alice_there, there["id"]))["status"] == "pending_payment"


async def test_shopper_cannot_order_another_merchants_sku_or_store(client, mall, runtime):
    other = await Mall.create(client, runtime, slug="other")
    alice = await mall.shopper("alice")
    problem(await mall.place_order(alice, sku_id=other.sku_id), 422, "sku_unavailable")
    problem(await mall.place_order(alice, store_id=other.store_id), 404, "store_not_found")
    assert await other.sku_stock() == 100
    assert await mall.sku_stock() == 100
    assert await count(runtime, Order) == 0


async def test_shopper_token_names_the_mall_for_browsing(client, mall, runtime):
    """A shopper's token decides which mall they browse; another mall's product is not found."""
    other = await Mall.create(client, runtime, slug="other")
    alice = await mall.shopper("alice")
    listed = await client.get("/products", headers=alice, params={"merchant": "other"})
    assert [p["id"] for p in listed.json()["items"]] == [mall.product_id]
    problem(await client.get(f"/products/{other.product_id}", headers=alice), 404, "product_not_found")


# --- staff sign-in -----------------------------------------------------------------------------------


async def test_staff_login_refusals_do_not_reveal_which_part_was_wrong(client, mall):
    """Wrong password, unknown user and unknown merchant all answer the same 401 `invalid_credentials`."""
    answers = []
    for slug, username, password in [("acme", "owner", "wrong password"), ("acme", "nobody", PASSWORD),
                                     ("nowhere", "owner", PASSWORD), ("acme", "Owner", PASSWORD)]:
        response = await client.post("/admin/auth/login", json={"merchant_slug": slug, "username": username,
                                                               "password": password})
        answers.append(problem(response, 401, "invalid_credentials"))
    assert len({json.dumps(a, sort_keys=True) for a in answers}) == 1
    ok = await client.post("/admin/auth/login", json={"merchant_slug": "acme", "username": "owner",
                                                      "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["token"]


async def test_staff_login_validates_its_body(client, mall):
    for body in [{}, {"merchant_slug": "acme", "username": "owner"},
                 {"merchant_slug": "acme", "username": "owner", "password": ""},
                 {"merchant_slug": "acme", "username": "o" * 61, "password": PASSWORD}]:
        problem(await client.post("/admin/auth/login", json=body), 422, "invalid_request")


@pytest.mark.postgres
async def test_concurrent_staff_with_one_username(client, mall, runtime):
    """Owners adding the same username at once: one account, clean 409s, never a 500."""
    owner = await mall.staff("owner")
    body = {"username": "li.lei", "password": "a long passphrase", "role": "support"}
    results = await asyncio.gather(*[client.post("/admin/staff", headers=owner, json=body) for _ in range(8)],
                                   return_exceptions=True)
    outcomes = sorted(str(r.status_code) if isinstance(r, httpx.Response) else repr(r)[:100] for r in results)
    assert outcomes == ["201"] + ["409"] * 7, outcomes


# --- dev login ---------------------------------------------------------------------------------------


async def test_dev_login_creates_the_customer_once(client, mall, runtime):
    first = await client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "alice",
                                                       "nickname": "Alice"})
    again = await client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "alice"})
    bob = await client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "bob"})
    assert first.status_code == again.status_code == bob.status_code == 200
    assert first.json()["is_new_customer"] is True and again.json()["is_new_customer"] is True
    assert first.json()["customer_id"] == again.json()["customer_id"] != bob.json()["customer_id"]
    assert await count(runtime, Customer, openid="alice") == 1
    me = await client.get("/me", headers=bearer(again.json()["token"]))
    assert (me.json()["id"], me.json()["nickname"], me.json()["is_new_customer"]) == (
        first.json()["customer_id"], "Alice", True)


async def test_customer_stops_being_new_after_first_payment(client, mall):
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    await mall.pay(alice, order["id"])
    login = await client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "alice"})
    assert login.json()["is_new_customer"] is False
    assert (await client.get("/me", headers=alice)).json()["is_new_customer"] is False


async def test_dev_login_needs_a_known_merchant_and_a_clean_openid(client, mall, runtime):
    problem(await client.post("/auth/dev-login", json={"merchant_slug": "nowhere", "openid": "alice"}),
            404, "merchant_not_found")
    for openid in ["", "a b", "x" * 65, "alice'--"]:
        problem(await client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": openid}),
                422, "invalid_request")
    assert await count(runtime, Customer) == 0


async def test_dev_login_can_be_switched_off(client, mall, runtime):
    # conftest passes dev_login=True itself, so settings_overrides cannot carry it; swap the settings instead.
    runtime.settings = runtime.settings.model_copy(update={"dev_login": False})
    response = await client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "alice"})
    problem(response, 403, "dev_login_disabled")
    assert await count(runtime, Customer) == 0


# --- WeChat login ------------------------------------------------------------------------------------


async def configure_wechat(mall: Mall) -> None:
    response = await mall.client.patch("/admin/merchant", headers=await mall.staff("owner"),
                                       json={"wechat_appid": APPID, "wechat_secret": SECRET})
    assert response.status_code == 200, response.text
    assert response.json()["wechat_appid"] == APPID
    assert "wechat_secret" not in response.json()


async def test_wechat_login_exchanges_the_code_for_the_openid(client, mall, runtime, wechat):
    await configure_wechat(mall)
    login = await client.post("/auth/wechat-login", json={"merchant_slug": "acme", "code": "code-alice",
                                                          "nickname": "Alice"})
    assert login.status_code == 200, login.text
    assert login.json()["is_new_customer"] is True
    assert wechat.requests == [{"appid": APPID, "secret": SECRET, "js_code": "code-alice",
                                "grant_type": "authorization_code"}]
    async with runtime.sessionmaker() as session:
        customer = (await session.execute(select(Customer))).scalar_one()
    assert (customer.id, customer.merchant_id, customer.openid, customer.unionid, customer.nickname) == (
        login.json()["customer_id"], mall.merchant_id, "o-alice", "u-o-alice", "Alice")
    me = await client.get("/me", headers=bearer(login.json()["token"]))
    assert me.json()["id"] == customer.id
    again = await client.post("/auth/wechat-login", json={"merchant_slug": "acme", "code": "code-alice-again"})
    assert again.json()["customer_id"] == customer.id
    assert await count(runtime, Customer) == 1


async def test_wechat_login_with_a_rejected_code(client, mall, runtime, wechat):
    await configure_wechat(mall)
    response = await client.post("/auth/wechat-login", json={"merchant_slug": "acme", "code": "stolen-code"})
    problem(response, 401, "wechat_code_rejected")
    assert [r["js_code"] for r in wechat.requests] == ["stolen-code"]
    assert await count(runtime, Customer) == 0


async def test_wechat_login_with_wrong_credentials_is_rejected(client, mall, runtime, wechat):
    """WeChat refusing the merchant's appid/secret is a rejected login, not a success."""
    owner = await mall.staff("owner")
    await client.patch("/admin/merchant", headers=owner, json={"wechat_appid": APPID, "wechat_secret": "f" * 32})
    response = await client.post("/auth/wechat-login", json={"merchant_slug": "acme", "code": "code-alice"})
    problem(response, 401, "wechat_code_rejected")
    assert await count(runtime, Customer) == 0


async def test_wechat_login_needs_the_merchants_credentials(client, mall, runtime, wechat):
    response = await client.post("/auth/wechat-login", json={"merchant_slug": "acme", "code": "code-alice"})
    problem(response, 401, "wechat_not_configured")
    assert wechat.requests == []
    assert await count(runtime, Customer) == 0


@pytest.mark.parametrize("settings_overrides", [{"wechat_api_base": closed_port_url()}])
async def test_wechat_login_when_wechat_is_unreachable(client, mall, runtime):
    await configure_wechat(mall)
    response = await client.post("/auth/wechat-login", json={"merchant_slug": "acme", "code": "code-alice"})
    problem(response, 401, "wechat_unreachable")
    assert await count(runtime, Customer) == 0


# --- Idempotency-Key ---------------------------------------------------------------------------------


def keyed(who: dict[str, str], key: str) -> dict[str, str]:
    return {**who, "Idempotency-Key": key}


def order_body(quantity: int, sku_id: int) -> dict[str, Any]:
    return {"items": [{"sku_id": sku_id, "quantity": quantity}], "address": ADDRESS}


async def test_same_key_and_body_replay_the_first_answer(client, mall, runtime):
    alice = await mall.shopper("alice")
    body = order_body(2, mall.sku_id)
    first = await client.post("/orders", headers=keyed(alice, "checkout-1"), json=body)
    second = await client.post("/orders", headers=keyed(alice, "checkout-1"), json=body)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert await count(runtime, Order) == 1
    assert await mall.sku_stock() == 98


async def test_same_key_with_another_body_is_refused(client, mall, runtime):
    alice = await mall.shopper("alice")
    first = await client.post("/orders", headers=keyed(alice, "checkout-1"), json=order_body(1, mall.sku_id))
    assert first.status_code == 201
    reused = await client.post("/orders", headers=keyed(alice, "checkout-1"), json=order_body(3, mall.sku_id))
    problem(reused, 422, "idempotency_key_reused")
    assert await count(runtime, Order) == 1
    assert await mall.sku_stock() == 99


async def test_key_length_is_1_to_100(client, mall, runtime):
    alice = await mall.shopper("alice")
    for key in ("k" * 101, ""):
        problem(await client.post("/orders", headers=keyed(alice, key), json=order_body(1, mall.sku_id)),
                422, "invalid_idempotency_key")
    assert await count(runtime, Order) == 0
    accepted = await client.post("/orders", headers=keyed(alice, "k" * 100), json=order_body(1, mall.sku_id))
    assert accepted.status_code == 201, accepted.text


async def test_keys_are_per_principal(client, mall, runtime):
    """Two shoppers using the same key get two orders: a key never replays someone else's answer."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    body = order_body(1, mall.sku_id)
    mine = await client.post("/orders", headers=keyed(alice, "same"), json=body)
    theirs = await client.post("/orders", headers=keyed(bob, "same"), json=body)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["customer_id"] != mine.json()["customer_id"]
    for who, first in ((alice, mine), (bob, theirs)):
        replay = await client.post("/orders", headers=keyed(who, "same"), json=body)
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
    assert await count(runtime, Order) == 2
    assert await mall.sku_stock() == 98


async def test_a_refused_first_attempt_does_not_use_up_the_key(client, mall, runtime):
    """A failure rolls back the key's claim with everything else, so the retry really runs."""
    owner = await mall.staff("owner")
    alice = await mall.shopper("alice")
    await client.patch(f"/admin/skus/{mall.sku_id}", headers=owner, json={"stock_delta": -100})
    problem(await client.post("/orders", headers=keyed(alice, "retry-me"), json=order_body(1, mall.sku_id)),
            409, "out_of_stock")
    await client.patch(f"/admin/skus/{mall.sku_id}", headers=owner, json={"stock_delta": 5})
    retry = await client.post("/orders", headers=keyed(alice, "retry-me"), json=order_body(1, mall.sku_id))
    assert retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in retry.headers
    assert await mall.sku_stock() == 4


async def test_concurrent_twins_place_one_order(client, mall, runtime):
    """Ten simultaneous sends of one keyed request: one order, ten identical answers, nine of them replays."""
    alice = await mall.shopper("alice")
    responses = await asyncio.gather(*[
        client.post("/orders", headers=keyed(alice, "double-tap"), json=order_body(1, mall.sku_id))
        for _ in range(10)])
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
    assert await count(runtime, Order) == 1
    assert await mall.sku_stock() == 99


# --- merchant settings -------------------------------------------------------------------------------


async def test_merchant_settings_are_applied(client, mall, clock):
    owner = await mall.staff("owner")
    response = await client.patch("/admin/merchant", headers=owner, json={
        "payment_timeout_minutes": 5, "after_sale_days": 0, "auto_receive_days": 30})
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in ("name", "payment_timeout_minutes", "auto_receive_days",
                                            "after_sale_days", "wechat_appid")} == {
        "name": "acme mall", "payment_timeout_minutes": 5, "auto_receive_days": 30, "after_sale_days": 0,
        "wechat_appid": None}
    order = await mall.order(await mall.shopper("alice"))
    assert order["pay_before"] == "2026-01-01T12:05:00Z"


@pytest.mark.parametrize("body, field", [
    ({"payment_timeout_minutes": 0}, "payment_timeout_minutes"),
    ({"payment_timeout_minutes": 1441}, "payment_timeout_minutes"),
    ({"after_sale_days": 31}, "after_sale_days"),
    ({"after_sale_days": -1}, "after_sale_days"),
    ({"auto_receive_days": 0}, "auto_receive_days"),
    ({"wechat_appid": "wx123"}, "wechat_appid"),
    ({"wechat_appid": "WX0123456789ABCDEF"}, "wechat_appid"),
    ({"wechat_secret": "not-hex-" * 4}, "wechat_secret"),
    ({"name": ""}, "name"),
    ({"name": "renamed", "payment_timeout_minutes": 1441}, "payment_timeout_minutes"),
    pytest.param({"payment_timeout_minutes": None}, "payment_timeout_minutes", id="payment_timeout_minutes-null"),
    pytest.param({"name": None}, "name", id="name-null"),
])
async def test_merchant_settings_are_validated(client, mall, body, field):
    """Out-of-range or malformed settings (and null for a required one) are refused whole: nothing changes."""
    owner = await mall.staff("owner")
    before = await admin_get(mall, "/admin/merchant")
    response = await client.patch("/admin/merchant", headers=owner, json=body)
    answer = problem(response, 422, "invalid_request")
    assert field in {e["field"] for e in answer["errors"]}, answer
    assert await admin_get(mall, "/admin/merchant") == before
