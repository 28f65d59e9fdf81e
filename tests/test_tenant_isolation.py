"""Tenant isolation over every route: merchant A holds a row of every kind a path can name; merchant B's shopper and
B's staff of every role call each route with A's ids and learn nothing (404, or the refusal a wrong audience or role
gets anyway), and A's rows stay exactly as they were. Every route without an id that B's callers may GET shows none
of A's rows, answers exactly as if A did not exist, and shows B's own rows where B has some.

The routes come from the app itself, so a new route is covered or this test fails; ID_OF is the reviewed table of
path parameters: a route whose parameter is missing from it fails too."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

import tests.support
from fissionmall.catalog.models import Product, Sku
from fissionmall.merchants.models import Staff, Store
from fissionmall.merchants.schemas import MerchantCreate
from fissionmall.merchants.service import create_merchant
from fissionmall.tables import Base
from tests.campaigns.assist.test_assist_paths import assist_campaign, open_packet
from tests.campaigns.bargain.test_bargain_paths import bargain_campaign, started
from tests.campaigns.giftcards.test_vouchers import bought, gift_campaign
from tests.campaigns.groupbuy.test_group_flow import group_campaign, group_order
from tests.campaigns.invites.test_invite_rewards import invite_campaign
from tests.campaigns.packets.test_packets import bought_packet, packet_campaign, template
from tests.campaigns.pointsmall.test_points_mall import goods, live
from tests.community.test_reviews import received, review
from tests.distribution.test_withdrawals import payee, setup, withdraw
from tests.loyalty.test_levels import PLAN as LEVELS
from tests.loyalty.test_levels import save as save_levels
from tests.loyalty.test_points import configure as configure_points
from tests.loyalty.test_tasks import new_task
from tests.support import ADDRESS, LONG_TOKEN_TTL_SECONDS, PASSWORD, ROLES, Mall, rows
from tests.test_auth_tenancy import configure_wechat
from tests.wechat_stand_in import CODES, WechatStandIn

API = "/api/v1"

ID_OF: dict[str, str] = {
    # path parameter -> key of A's row in `a_rows` (campaign_id, packet_id and a mechanic page's record_id by the
    # path's segment before it)
    "store_id": "store", "staff_id": "staff", "product_id": "product", "sku_id": "sku", "order_id": "order",
    "refund_id": "refund", "payment_id": "payment", "code": "share_code", "group_id": "group",
    "bargain_id": "bargain", "template_id": "coupon_template", "voucher_id": "voucher", "withdrawal_id": "withdrawal",
    "customer_id": "customer", "task_id": "task", "campaign_id": "campaign", "packet_id": "packet",
    "record_id": "record", "address_id": "address", "review_id": "review", "share_id": "share",
    "post_id": "post", "comment_id": "comment",
    # not ids: the value B would use for its own request
    "provider": "sandbox", "decision": "approve", "merchant": "b_slug",
}
CAMPAIGN_OF = {"group-campaigns": "group_campaign", "bargain-campaigns": "bargain_campaign",
               "assist-campaigns": "assist_campaign", "invite-campaigns": "invite_campaign",
               "points-mall": "points_mall_campaign", "campaigns": "group_campaign",
               "voucher-offers": "gift_campaign"}
PACKET_OF = {"assists": "assist_packet", "packets": "coupon_packet"}
RECORD_OF = {"groups": "group", "bargains": "bargain", "assists": "assist_packet", "packets": "coupon_packet",
             "gifts": "gift_campaign", "invites": "customer"}
BODY: dict[str, dict[str, Any]] = {
    # the smallest valid body of each writing route with an id, so that only the id can refuse it
    "PUT /admin/stores/{store_id}": {"name": "B's store"},
    "PATCH /admin/staff/{staff_id}": {"active": False},
    "PATCH /admin/products/{product_id}": {"title": "taken over"},
    "POST /admin/products/{product_id}/skus": {"code": "B-1", "name": "x", "price_fen": 1, "stock": 1},
    "PATCH /admin/skus/{sku_id}": {"price_fen": 1},
    "POST /orders/{order_id}/refunds": {"reason": "not mine"},
    "POST /admin/orders/{order_id}/ship": {"carrier": "SF Express", "tracking_no": "SF1234567890"},
    "POST /admin/orders/{order_id}/adjustments": {"amount_fen": -1, "name": "discount"},
    "POST /admin/orders/{order_id}/refunds": {"reason": "not mine"},
    "PATCH /admin/campaigns/{campaign_id}": {"name": "taken over"},
    "PATCH /admin/coupon-templates/{template_id}": {"status": "ended"},
    "POST /vouchers/{voucher_id}/claim": {"token": "t" * 32},
    "POST /admin/withdrawals/{withdrawal_id}/reject": {"reason": "not mine"},
    "PATCH /admin/distributors/{customer_id}": {"grade": 1},
    "PATCH /admin/tasks/{task_id}": {"active": False},
    "POST /points-mall/{campaign_id}/redeem": {},
    "POST /orders/{order_id}/reviews": {"product_id": 1, "rating": 1},
    "PUT /me/addresses/{address_id}": ADDRESS,
    "POST /admin/reviews/{review_id}/hide": {"reason": "not mine"},
    "POST /posts/{post_id}/comments": {"text": "not mine"},
    "POST /posts/{post_id}/reports": {"reason": "not mine"},
    "POST /comments/{comment_id}/reports": {"reason": "not mine"},
    "POST /reviews/{review_id}/reports": {"reason": "not mine"},
    "POST /admin/moderation/posts/{post_id}/hide": {"reason": "not mine"},
    "POST /admin/moderation/comments/{comment_id}/hide": {"reason": "not mine"},
    "POST /admin/moderation/reviews/{review_id}/hide": {"reason": "not mine"},
}
NOT_SHOPPER_OR_STAFF = {"/api/v1/payments/notify/{provider}"}
"""Provider callbacks: authenticated by the provider's signature, never by a token (covered in the payments tests)."""
PUBLIC_BY_CODE = {"/api/v1/shares/{code}", "/api/v1/shares/{code}/qr.png", "/api/v1/shares/{code}/poster.png",
                  "/s/{code}"}
"""A share link is a bearer capability: whoever holds its unguessable code may open it, from any mall or none, and
it leads to the sharer's own mall. These answer A's share to anyone holding the code, by design."""
MISSING = 2_000_000_000


def routes() -> list[tuple[str, str, list[str]]]:
    """Every route of the API and the shopper pages. The console's pages open only with a console session, which
    none of the callers here has: tests/console/test_console_crawl.py opens each of them as B's staff instead."""
    from fissionmall.app import create_app
    from fissionmall.config import load_settings

    app = create_app(load_settings(platform_token="p" * 32))
    found = []
    for route in iter_route_contexts(app.routes):
        if route.path.startswith("/console"):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, route.path, re.findall(r"{(\w+)", route.path)))
    return found


@pytest.mark.backend_free
def test_every_path_parameter_is_in_the_reviewed_table():
    unknown = {(path, name) for _, path, names in routes() for name in names if name not in ID_OF}
    assert not unknown, f"add these path parameters to ID_OF (with a row of merchant A): {sorted(unknown)}"
    writing = {f"{m} {p.removeprefix(API)}" for m, p, names in routes() if names and m in ("POST", "PUT", "PATCH")}
    assert set(BODY) <= writing, set(BODY) - writing


@pytest.fixture
def settings_overrides(wechat_server: WechatStandIn) -> dict[str, object]:
    """Tokens that outlive the after-sale week the withdrawal's commission waits for; WeChat's stand-in."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS, "platform_token": "p" * 32,
            "wechat_api_base": wechat_server.url}


async def tenant(client, runtime, slug: str) -> Mall:
    """A merchant made as an operator makes one (the service behind the CLI and the platform API), then staff of
    every role and a product with one SKU, as the tests' usual mall has."""
    async with runtime.sessionmaker() as session:
        merchant, _ = await create_merchant(session, runtime.clock.now(), MerchantCreate(
            slug=slug, name=f"{slug} mall", owner_username="owner", owner_password=PASSWORD))
        store = Store(merchant_id=merchant.id, name=f"{slug} store")
        session.add(store)
        session.add_all([Staff(merchant_id=merchant.id, username=role, role=role,
                               password_hash=tests.support.password_hash()) for role in ROLES if role != "owner"])
        product = Product(merchant_id=merchant.id, title=f"Tea of {slug}", status="on_sale",
                          created_at=runtime.clock.now())
        product.images = []
        product.skus = [Sku(merchant_id=merchant.id, code=f"{slug}-tea", name="100g", price_fen=1000, stock=1000)]
        session.add(product)
        await session.commit()
        return Mall(client, runtime, slug, merchant.id, store.id, product.id, product.skus[0].id)


async def one(runtime, sql: str, **params: Any) -> Any:
    return (await rows(runtime, sql, **params))[0][0]


async def rows_of_every_kind(a: Mall, shopper: str = "alice") -> dict[str, Any]:
    """A's rows, each made through the API the way the feature's own tests make it; `shopper` owns them and their
    distributor is `shopper`-earner."""
    runtime, mid = a.runtime, a.merchant_id
    await setup(a)  # distribution first: its commission settles a week later, before the campaigns' windows
    person = await payee(a, f"{shopper}-earner")
    withdrawal = await withdraw(a, person, 100)
    a._staff_tokens.clear()  # staff tokens last half a day
    buyer = await a.shopper(shopper)
    ids: dict[str, Any] = {"withdrawal": withdrawal["id"], "customer": person.id, "sandbox": "sandbox",
                           "approve": "approve"}
    ids["group_campaign"] = await group_campaign(a)
    await a.pay(buyer, (await group_order(a, buyer, ids["group_campaign"]))["id"])  # a group opens when paid
    ids["group"] = await one(runtime, "SELECT id FROM buying_groups WHERE merchant_id = :m", m=mid)
    ids["bargain_campaign"] = await bargain_campaign(a)
    ids["bargain"] = (await started(a, buyer, ids["bargain_campaign"]))["id"]
    ids["assist_campaign"] = await assist_campaign(a)
    ids["assist_packet"] = (await open_packet(a, buyer, ids["assist_campaign"]))["id"]
    ids["invite_campaign"] = await invite_campaign(a)
    ids["coupon_template"] = await template(a)
    await packet_campaign(a, template_id=ids["coupon_template"])
    ids["coupon_packet"] = (await bought_packet(a, buyer))["id"]
    ids["gift_campaign"] = await gift_campaign(a)
    _, [ids["voucher"]] = await bought(a, buyer, ids["gift_campaign"])
    await configure_points(a)
    ids["points_mall_campaign"] = await live(a, goods(a))
    ids["task"] = (await new_task(a, name=f"{a.slug} task"))["id"]
    await save_levels(a, LEVELS)
    category = await a.client.post("/admin/categories", headers=await a.staff(), json={"name": f"{a.slug} leaves"})
    assert category.status_code == 201, category.text
    reviewed = await received(a, buyer)
    reviewing = await a.client.post(f"/orders/{reviewed['id']}/reviews", headers=buyer,
                                    json=review(a, text=f"{a.slug} review"))
    assert reviewing.status_code == 201, reviewing.text
    ids["review"] = reviewing.json()["id"]
    posted = await a.client.post("/posts", headers=buyer, json={"text": f"{a.slug} post", "order_id": reviewed["id"]})
    assert posted.status_code == 201, posted.text
    ids["post"] = posted.json()["id"]
    commented = await a.client.post(f"/posts/{ids['post']}/comments", headers=buyer, json={"text": f"{a.slug} says"})
    assert commented.status_code == 201, commented.text
    ids["comment"] = commented.json()["id"]
    order = await a.order(buyer)
    paid = await a.client.post(f"/orders/{order['id']}/pay", headers=buyer)
    ids["payment"] = paid.json()["payment_id"]
    await a.client.post(f"/sandbox/payments/{ids['payment']}/complete", headers=buyer)
    await a.work()
    refund = await a.client.post(f"/orders/{order['id']}/refunds", headers=buyer, json={"reason": "changed mind"})
    assert refund.status_code in (200, 201), refund.text
    ids["order"] = order["id"]
    ids["refund"] = await one(runtime, "SELECT id FROM refunds WHERE merchant_id = :m", m=mid)
    share = await a.client.post("/shares", headers=buyer, json={"target_type": "product", "target_id": a.product_id})
    assert share.status_code in (200, 201), share.text
    ids["share_code"] = share.json()["code"]
    ids["share"] = await one(runtime, "SELECT id FROM shares WHERE merchant_id = :m", m=mid)
    address = await a.client.post("/me/addresses", headers=buyer, json=ADDRESS)
    assert address.status_code == 201, address.text
    ids["address"] = address.json()["id"]
    ids.update(store=a.store_id, product=a.product_id, sku=a.sku_id,
               staff=await one(runtime, "SELECT id FROM staff WHERE merchant_id = :m AND role = 'owner'", m=mid))
    return ids


def value_for(name: str, path: str, ids: dict[str, Any]) -> Any:
    segment = path.split("/{" + name + "}")[0].rsplit("/", 1)[1]  # what the id names: /assists/{packet_id}
    key = ID_OF[name]
    if name == "campaign_id":
        key = CAMPAIGN_OF[segment]
    elif name == "packet_id":
        key = PACKET_OF[segment]
    elif name == "record_id":
        key = RECORD_OF[segment]
    return ids[key]


async def rows_of(runtime, merchant_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that belongs to this merchant."""
    found = {}
    for table in Base.metadata.sorted_tables:
        column = "merchant_id" if "merchant_id" in table.c else "id" if table.name == "merchants" else None
        if column:
            found[table.name] = sorted(await rows(runtime, f"SELECT * FROM {table.name} WHERE {column} = :m",
                                                  m=merchant_id), key=repr)
    return found


def answer(response) -> tuple[int, Any]:
    """What a caller learns: the status and the problem code, or the whole body of a success."""
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        return response.status_code, response.json()["code"]
    return response.status_code, response.content


async def test_merchant_b_reaches_none_of_merchant_a_s_rows(client, runtime):
    a, b = await tenant(client, runtime, "tenant-a"), await tenant(client, runtime, "tenant-b")
    ids = await rows_of_every_kind(a)
    await setup(b)  # B has distribution grades of its own, so a grade change is refused only for the id
    ids["b_slug"] = b.slug
    callers = {"shopper": await b.shopper("bob"), **{role: await b.staff(role) for role in ROLES}}
    before = await rows_of(runtime, a.merchant_id)
    leaks, covered = [], 0

    async def call(method: str, path: str, names: list[str], headers: dict[str, str], values: dict[str, Any]):
        url = path
        for name in names:
            url = url.replace("{" + name + "}", str(values.get(name, value_for(name, path, ids))))
        body = BODY.get(f"{method} {path.removeprefix(API)}")
        if url.startswith(API):
            return await client.request(method, url.removeprefix(API), headers=headers, json=body)
        return await client.request(method, f"http://mall.test{url}", headers=headers)

    for method, path, names in routes():
        if not names or path in NOT_SHOPPER_OR_STAFF | PUBLIC_BY_CODE:
            continue
        covered += 1
        ids_only = {name: MISSING for name in names if name.endswith("_id")}
        for caller, headers in callers.items():
            response = await call(method, path, names, headers, {})
            if response.status_code in (401, 403, 404):
                continue
            # any other answer must be the very answer to ids that exist nowhere: it then reveals nothing of A
            if answer(response) != answer(await call(method, path, names, headers, ids_only)):
                leaks.append((caller, method, path, response.status_code, response.text[:200]))
    assert not leaks, "\n".join(map(repr, leaks))
    assert await rows_of(runtime, a.merchant_id) == before
    assert covered >= 50, covered



NOT_OF_A_MALL = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/healthz", "/readyz", "/metrics"}
"""The service describing itself and the platform's probes: the same for every mall, and about no mall's rows."""
PUBLIC_CATALOGUE = {"/api/v1/products", "/api/v1/categories", "/api/v1/coupon-templates", "/api/v1/voucher-offers",
                    "/api/v1/invite-campaigns", "/api/v1/posts", "/api/v1/recommendations"}
"""Browsing needs no login: a visitor names the mall with ?merchant=slug and sees its catalogue, A's included. A
shopper's token names the mall instead, whatever ?merchant says; a staff token is no shopper's, so staff browse as
visitors (here: of their own mall)."""
PAGES_BY_SLUG = {"/"}
"""Pages for a browser, which sends no token: the mall is the one ?merchant names (here: B's), whose pages under
/m/{slug} the front door sends it to."""
SHOPPERS = ("shopper", "distributor")
UNMARKED = {
    # (path, caller or "*"): why this answer may show no string and no id of B's rows
    ("/api/v1/recommendations", "shopper"): "B's shopper bought B's products: none is left to recommend to them",
    ("/api/v1/admin/moderation", "*"): "nothing of B's is held by a keyword or reported: its queue is empty",
    ("/api/v1/admin/community/settings", "*"): "B keeps the default moderation rules: no keyword, no id",
    ("/api/v1/coupon-templates", "*"): "B's only template is given out by share packets, not claimable",
    ("/api/v1/coupons", "*"): "B's shoppers hold no coupon",
    ("/api/v1/wallet", "*"): "B's shoppers hold no wallet credit",
    ("/api/v1/goods-prizes/mine", "*"): "B's shoppers won no goods",
    ("/api/v1/admin/dividend", "*"): "B has no dividend pool (404 dividend_not_configured)",
    ("/api/v1/admin/dividend/runs", "*"): "B has no dividend pool, hence no runs",
    ("/api/v1/admin/plans/presets/3+9", "*"): "a preset plan the product ships, the same for every mall",
    ("/api/v1/admin/distribution", "*"): "settings: rates and names every test mall shares, no id",
    ("/api/v1/membership", "*"): "the caller's level: numbers and the level names every test mall shares",
    ("/api/v1/points", "*"): "a balance and its entries, which carry no id",
    ("/api/v1/orders", "distributor"): "B's distributor bought nothing",
    ("/api/v1/vouchers", "distributor"): "B's distributor holds no voucher",
    ("/api/v1/distributors/me", "shopper"): "B's shopper is no distributor",
    ("/api/v1/distributors/me/withdrawals", "shopper"): "B's shopper withdrew nothing",
    ("/api/v1/me/addresses", "distributor"): "B's distributor saved no address",
    ("/api/v1/voucher-offers", "*"): "a gift offer's name and words are the same in every test mall (its ids differ)",
    ("/api/v1/invite-campaigns", "*"): "an invite campaign's name and rules are the same in every test mall",
    ("/api/v1/distributors/me/team", "shopper"): "B's shopper is no distributor, and has no team",
    ("/api/v1/distributors/me/team", "distributor"): "a team shows masked names and no ids",
}
"""The differential check (the same answer once A's rows are gone) still covers these."""


async def forget(runtime, merchant_id: int) -> None:
    """Every row of this merchant, gone: what B would be answered if A had never existed."""
    async with runtime.sessionmaker() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if "merchant_id" in table.c:
                await session.execute(table.delete().where(table.c.merchant_id == merchant_id))
        await session.execute(Base.metadata.tables["merchants"].delete().where(
            Base.metadata.tables["merchants"].c.id == merchant_id))
        await session.commit()


def strings_of(found: dict[str, list[tuple[Any, ...]]]) -> set[str]:
    """The text of these rows, less the vocabulary every mall shares (statuses, kinds: lower-case words)."""
    return {cell for table in found.values() for row in table for cell in row
            if isinstance(cell, str) and not re.fullmatch(r"[a-z_]*", cell)}


def ids_in(node: Any) -> set[int]:
    """The integers a JSON answer gives under `id` or a `…_id` key."""
    if isinstance(node, list):
        return {found for item in node for found in ids_in(item)}
    if not isinstance(node, dict):
        return set()
    return {found for key, value in node.items() for found in (
        {value} if (key == "id" or key.endswith("_id")) and isinstance(value, int) else ids_in(value))}


def texts_in(response) -> list[str]:
    """The strings a caller reads in an answer: every string of a JSON body, or the whole text of a page."""
    if not response.headers.get("content-type", "").endswith("json"):
        return [response.text]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(response.json())
    return found


def shown(markers: set[str], response) -> set[str]:
    """The markers an answer shows: a string equal to one, or containing one long enough not to occur by chance."""
    return {marker for text in texts_in(response) for marker in markers
            if text == marker or (len(marker) >= 8 and marker in text)}


async def test_merchant_b_lists_none_of_merchant_a_s_rows(client, runtime):
    """Every route without an id that answers a GET, called by B's shopper, B's distributor and B's staff of every
    role with ?merchant=<A's slug> (a shopper's token must win over it): no answer shows a string of A's rows that B's
    rows lack; every answer is exactly what it is once A's rows are deleted; and where B has rows the caller may see,
    the answer shows some of them (a string or an id), so that an empty answer does not pass for an isolated one."""
    b = await tenant(client, runtime, "tenant-b")
    await rows_of_every_kind(b, "Bob")
    a = await tenant(client, runtime, "tenant-a")
    await rows_of_every_kind(a, "Alice")
    b._staff_tokens.clear()
    callers = {"shopper": await b.shopper("Bob"), "distributor": await b.shopper("Bob-earner"),
               **{role: await b.staff(role) for role in ROLES}}
    rows_a, rows_b = await rows_of(runtime, a.merchant_id), await rows_of(runtime, b.merchant_id)
    marks_a, marks_b = strings_of(rows_a) - strings_of(rows_b), strings_of(rows_b) - strings_of(rows_a)
    ids_b = {found for table in Base.metadata.sorted_tables if "id" in table.c and "merchant_id" in table.c
             for (found,) in await rows(runtime, f"SELECT id FROM {table.name} WHERE merchant_id = :m",
                                        m=b.merchant_id)}
    assert {"Alice", "Tea of tenant-a", "tenant-a leaves", "tenant-a task", "tenant-a review"} <= marks_a

    def get(path: str, caller: str, slug: str | None = None):
        """GET as this caller, naming A's mall in ?merchant unless the caller rightly browses by it."""
        if slug is None:
            by_slug = path in PAGES_BY_SLUG or (path in PUBLIC_CATALOGUE and caller not in SHOPPERS)
            slug = b.slug if by_slug else a.slug
        url = path.removeprefix(API) if path.startswith(API) else f"http://mall.test{path}"
        return client.get(url, headers=callers.get(caller, {}), params={"merchant": slug}, follow_redirects=True)

    lists = [path for method, path, names in routes() if method == "GET" and not names
             and path not in NOT_OF_A_MALL]
    asked, leaks, empty = {}, [], []
    for path in lists:
        for caller in callers:
            response = await get(path, caller)
            asked[path, caller] = answer(response)
            if response.status_code >= 400:
                continue
            if seen := shown(marks_a, response):
                leaks.append((caller, path, sorted(seen)))
            of_b = shown(marks_b, response) or (response.headers["content-type"].endswith("json")
                                                and ids_in(response.json()) & ids_b)
            if not of_b and (path, caller) not in UNMARKED and (path, "*") not in UNMARKED:
                empty.append((caller, path, response.text[:200]))
    assert not leaks, "\n".join(map(repr, leaks))
    assert not empty, "B's rows missing from B's answers:\n" + "\n".join(map(repr, empty))
    for path in PUBLIC_CATALOGUE | PAGES_BY_SLUG:  # the markers do show where A's rows are meant to: by A's slug
        if (path, "*") not in UNMARKED:
            assert shown(marks_a, await get(path, "visitor", a.slug)), path

    await forget(runtime, a.merchant_id)
    changed = [(caller, path) for (path, caller), before in asked.items() if answer(await get(path, caller)) != before]
    assert not changed, changed
    assert len(lists) >= 30, len(lists)


# --- ids and codes of merchant A sent in a request body ---------------------------------------------------------------

REFERS_TO: dict[str, str | None] = {
    # an `…_id` column declared without a foreign key -> the table it names; None: it names no row of a merchant
    "campaign_id": "campaigns", "product_id": "products", "order_id": "orders", "customer_id": "customers",
    "inviter_id": "customers", "buyer_id": "customers", "actor_id": "customers", "sku_id": "skus",
    "redeemed_order_id": "orders", "redeemed_store_id": "stores", "share_id": "shares",
    "acquired_by_share_id": "shares", "parent_id": "customers", "child_id": "customers",
    "friend_id": "customers", "neighbour_id": "products", "other_id": "products",  # the recommender's graph
    "source_id": None, "subject_id": None, "target_id": None, "owner_id": None,  # beside a *_type column
    "item_id": None,  # beside item_type: a review, post or comment
    "signup_device_id": None, "owner_device_id": None, "device_id": None,  # a device's fingerprint
    "transaction_id": None, "event_id": None,  # the payment provider's own ids
}


def references() -> list[tuple[str, str, str]]:
    """(table, column, table it names) for every `…_id` column of a merchant's table that names a merchant's row."""
    found, unknown = [], []
    for table in Base.metadata.sorted_tables:
        if "merchant_id" not in table.c:
            continue
        for column in table.c:
            if not column.name.endswith("_id") or column.name == "merchant_id":
                continue
            named = next(iter(column.foreign_keys)).column.table.name if column.foreign_keys else None
            if named is None and column.name not in REFERS_TO:
                unknown.append(f"{table.name}.{column.name}")
            named = named or REFERS_TO.get(column.name)
            if named and "merchant_id" in Base.metadata.tables[named].c:
                found.append((table.name, column.name, named))
    assert not unknown, f"add these columns to REFERS_TO: {unknown}"
    return found


async def cross_tenant_references(runtime) -> list[tuple[str, str, int]]:
    """Rows of one merchant that name a row of another: (table, column, row id). There must be none."""
    found = []
    for table, column, named in references():
        found += [(table, column, row_id) for (row_id,) in await rows(runtime, (
            f"SELECT t.{'id' if 'id' in Base.metadata.tables[table].c else column} FROM {table} t "
            f"JOIN {named} n ON n.id = t.{column} WHERE n.merchant_id <> t.merchant_id"))]
    return found


@pytest.mark.backend_free
def test_the_reference_checker_knows_every_id_column():
    assert len(references()) >= 40, references()


PRIZE_FIELDS = tuple((kind, f"{where}.{field}", key) for kind, where in (
    ("assist", "ladder[]"), ("assist", "helper_gift"), ("bargain", "helper_gift")) for field, key in (
    ("coupon_template_id", "coupon_template"), ("product_id", "product"), ("sku_id", "sku")) if kind == "assist"
    or where == "helper_gift")
"""The coupons and goods a campaign gives as prizes (an assist ladder's rungs) and helper gifts."""
NAMES_A_ROW = re.compile(r"(_id|_ids|code)$")
FIELD_OF: dict[str, str | None] = {
    # "METHOD path[campaign kind] field" of a writing operation's body -> key of A's value in the sweep's `a_values`;
    # None: the field names no row of a mall (why beside it)
    "POST /auth/dev-login share_code": "share_code",
    "POST /auth/wechat-login share_code": "share_code",
    "POST /auth/wechat-login code": None,  # the one-time code the shopper's phone got from WeChat
    "POST /admin/products category_id": "category",
    "POST /admin/products skus[].code": "sku_code",
    "PATCH /admin/products/{product_id} category_id": "category",
    "POST /admin/products/{product_id}/skus code": "sku_code",
    **{f"POST {path} {field}": key for path in ("/orders", "/checkout/preview") for field, key in (
        ("items[].sku_id", "sku"), ("store_id", "store"), ("share_code", "share_code"), ("coupon_ids", "coupon"),
        ("voucher_id", "voucher"), ("campaign.campaign_id", "group_campaign"), ("campaign.target_id", "group"))},
    "POST /shares target_id": "product",
    "POST /bargains campaign_id": "bargain_campaign",
    "POST /assists campaign_id": "assist_campaign",
    "POST /admin/coupon-templates scope_ids": "product",
    "POST /admin/vouchers/redeem code": "voucher_code",
    "POST /admin/vouchers/redeem store_id": "store",
    "POST /admin/tasks reward_template_id": "coupon_template",
    "POST /orders/{order_id}/reviews product_id": "product",
    "POST /posts order_id": "received_order",
    "POST /posts product_id": "product",
    "POST /orders/{order_id}/refunds sku_id": "sku",
    "POST /admin/orders/{order_id}/refunds sku_id": "sku",
    **{f"{op}[{kind}] settings.{field}": key for op in ("POST /admin/campaigns", "PATCH /admin/campaigns/{campaign_id}")
       for kind, field, key in (
        ("group", "product_id", "product"), ("group", "skus[].sku_id", "sku"),
        ("group", "products[].product_id", "product"), ("group", "products[].skus[].sku_id", "sku"),
        ("bargain", "product_id", "product"),
        ("bargain", "sku_id", "sku"), ("gift", "product_id", "product"), ("gift", "sku_id", "sku"),
        ("share_coupon", "template_id", "coupon_template"), ("credit", "template_id", "coupon_template"),
        ("points_mall", "product_id", "product"), ("points_mall", "sku_id", "sku"),
        ("points_mall", "coupon_template_id", "coupon_template"), *PRIZE_FIELDS)},
}
ACCEPTED: dict[str, str] = {
    # "METHOD path[kind] field" whose A value is accepted exactly as a value that exists nowhere -> why
    "POST /admin/products skus[].code": "a SKU code is the merchant's own label, unique within its mall only",
    "POST /checkout/preview store_id": "a preview prices the order; the store is checked when it is placed",
    "POST /checkout/preview share_code": "a preview prices the order; the share is looked up when it is placed",
    **{f"{op}[{kind}] settings.{field}": "a draft's SKUs and templates are checked against the mall's own rows by "
       "the linter, which must pass before the campaign goes live" for op in (
        "POST /admin/campaigns", "PATCH /admin/campaigns/{campaign_id}") for kind, field in (
        ("group", "skus[].sku_id"), ("bargain", "sku_id"), ("gift", "sku_id"), ("share_coupon", "template_id"),
        ("credit", "template_id"), ("points_mall", "sku_id"), ("points_mall", "coupon_template_id"),
        *((kind, field) for kind, field, _ in PRIZE_FIELDS))},
}
NOT_A_MALL_S = {"POST /platform/merchants"}
"""The platform operator's own operation, behind the platform credential: no merchant's staff or shopper calls it."""


def row_fields(schema: dict[str, Any], root: dict[str, Any], prefix: str = "") -> set[str]:
    """The dotted paths (`[]` for the items of a list) of the fields of this JSON schema that name a row."""
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    found: set[str] = set()
    for alternative in schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", []):
        found |= row_fields(alternative, root, prefix)
    if isinstance(schema.get("items"), dict):
        found |= row_fields(schema["items"], root, prefix + "[]")
    for name, field in schema.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        if NAMES_A_ROW.search(name):
            found.add(path)
        found |= row_fields(field, root, path)
    return found


def body_fields() -> dict[str, set[str]]:
    """'METHOD path' -> the fields of its body that name a row, from the app's OpenAPI; a campaign's settings (free
    JSON in the schema) from each kind's settings model, as 'METHOD path[kind]'."""
    from fissionmall.app import create_app
    from fissionmall.campaigns.mechanic import KINDS
    from fissionmall.config import load_settings

    spec = create_app(load_settings(platform_token="p" * 32)).openapi()
    found: dict[str, set[str]] = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                if fields := row_fields(content["schema"], spec):
                    found[f"{method.upper()} {path.removeprefix(API)}"] = fields
    for op in ("POST /admin/campaigns", "PATCH /admin/campaigns/{campaign_id}"):
        for kind, definition in KINDS.items():
            schema = definition.settings_model.model_json_schema()
            if fields := row_fields(schema, schema, "settings"):
                found[f"{op}[{kind}]"] = fields
    return found


@pytest.mark.backend_free
def test_every_body_field_naming_a_row_is_in_the_reviewed_table():
    listed = {f"{op} {field}" for op, fields in body_fields().items() if op.split("[")[0] not in NOT_A_MALL_S
              for field in fields}
    assert listed - set(FIELD_OF) == set(), f"add these body fields to FIELD_OF: {sorted(listed - set(FIELD_OF))}"
    assert set(FIELD_OF) - listed == set(), f"no longer in any body: {sorted(set(FIELD_OF) - listed)}"


NOWHERE: dict[str, Any] = {"share_code": "nowhere0", "voucher_code": "999999999999", "sku_code": "nowhere-tea"}
"""Codes that exist in no mall (an id that exists nowhere is MISSING)."""
ECHOED = re.compile(r"(id|token|code|.*_id|.*_ids|.*_no)")
"""Keys of a success whose value is new on every call (ids, tokens) or is what the caller sent (a code)."""


def gist(response) -> tuple[int, Any]:
    """What a caller learns, less what differs between any two calls: ids and tokens of a success."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return answer(response)

    def masked(node: Any) -> Any:
        if isinstance(node, list):
            return [masked(item) for item in node]
        if isinstance(node, dict):
            return {key: "*" if ECHOED.fullmatch(key) and value is not None else masked(value)
                    for key, value in node.items()}
        return node
    return response.status_code, masked(response.json())


def replaced(body: dict[str, Any], field: str, value: Any) -> dict[str, Any] | None:
    """A copy of the body with this field (every item's, under `[]`) set to `value` (`[value]` for an `…_ids` list);
    None if the body lacks the field."""
    copy = json.loads(json.dumps(body))
    nodes, *path = [copy], *field.split(".")
    for part in path:
        name, many = part.removesuffix("[]"), part.endswith("[]")
        if not nodes or any(not isinstance(node, dict) or node.get(name) is None for node in nodes):
            return None
        if part == path[-1]:
            for node in nodes:
                node[name] = [value] if name.endswith("_ids") else value
            return copy
        nodes = [item for node in nodes for item in node[name]] if many else [node[name] for node in nodes]
    return None


async def body_values(mall: Mall, ids: dict[str, Any], buyer: dict[str, str]) -> dict[str, Any]:
    """The mall's values of the body fields beyond `rows_of_every_kind`: a category, a SKU code, a coupon the buyer
    holds, a voucher's code and a second voucher of the buyer's, a received order not yet reviewed, and two paid
    orders to refund a line of."""
    from tests.coupons.test_coupons import claimed
    from tests.loyalty.test_tasks import make_template

    runtime, mid = mall.runtime, mall.merchant_id
    gift = await one(runtime, "SELECT id FROM campaigns WHERE merchant_id = :m AND kind = 'gift'", m=mid)
    _, [spare] = await bought(mall, buyer, gift)
    second = await mall.client.post("/admin/products", headers=await mall.staff(), json={
        "title": "Cups", "skus": [{"code": f"{mall.slug}-cups", "name": "pair", "price_fen": 1500, "stock": 10}]})
    assert second.status_code == 201, second.text
    return {
        "second_product": second.json()["id"], "second_sku": second.json()["skus"][0]["id"],
        "category": await one(runtime, "SELECT id FROM categories WHERE merchant_id = :m", m=mid),
        "sku_code": f"{mall.slug}-tea",
        "coupon": (await claimed(mall, buyer, await make_template(mall)))["id"],
        "voucher_code": await one(runtime, "SELECT code FROM vouchers WHERE id = :v", v=ids["voucher"]),
        "spare_voucher_code": await one(runtime, "SELECT code FROM vouchers WHERE id = :v", v=spare),
        "received_order": (await received(mall, buyer))["id"],
        "paid_orders": [(await mall.pay(buyer, (await mall.order(buyer))["id"]))["id"] for _ in range(2)],
    }


def wechat_code(openid: str) -> str:
    """A login code WeChat's stand-in exchanges for this new openid."""
    CODES[f"code-{openid}"] = openid
    return f"code-{openid}"


def base_bodies(b: Mall, ids: dict[str, Any]) -> dict[str, list[tuple[str, str, Any]]]:
    """Per operation ('METHOD path[kind]'), valid calls for B: (caller, url, body maker), made as the feature's own
    tests make them; the caller is B's `bob` (who holds B's rows), `carol` (a shopper of B who has done nothing yet),
    B's `owner`, or `visitor` (no token). A body maker gives a fresh body on each call where a login needs one."""
    from tests.campaigns.assist.test_assist_paths import campaign_body as assist_body
    from tests.campaigns.bargain.test_bargain_paths import campaign_body as bargain_body
    from tests.campaigns.giftcards.test_vouchers import gift_body
    from tests.campaigns.groupbuy.test_campaign_admin import campaign_body as group_body
    from tests.campaigns.packets.test_packets import campaign_body as packet_body
    from tests.campaigns.pointsmall.test_points_mall import coupon
    from tests.loyalty.test_tasks import task_body
    from tests.support import ADDRESS

    fresh = iter(range(1, 1_000_000))
    line = {"items": [{"sku_id": b.sku_id, "quantity": 1}], "address": ADDRESS}
    orders = [("bob", {**line, "store_id": b.store_id, "share_code": ids["share_code"]}),
              ("bob", {**line, "coupon_ids": [ids["coupon"]]}), ("bob", {**line, "voucher_id": ids["voucher"]}),
              ("carol", {**line, "campaign": {"kind": "group", "campaign_id": ids["group_campaign"],
                                              "target_id": ids["group"]}})]
    now = b.runtime.clock.now()
    window = {"starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=7)).isoformat()}
    coupon_gift = {"kind": "coupon", "coupon_template_id": ids["coupon_template"], "stock": 5}
    goods_gift = {"kind": "goods", "product_id": b.product_id, "sku_id": b.sku_id, "stock": 5}
    campaigns = {
        "group": [group_body(b), {**group_body(b), "settings": {"group_size": 2, "products": [
            {"product_id": b.product_id, "skus": [{"sku_id": b.sku_id, "group_price_fen": 800}]},
            {"product_id": ids["second_product"], "skus": [{"sku_id": ids["second_sku"], "group_price_fen": 800}]}]}}],
        "bargain": [bargain_body(b), bargain_body(b, helper_gift=coupon_gift),
                                              bargain_body(b, helper_gift=goods_gift)], "gift": [gift_body(b)],
        "assist": [assist_body(b, ladder=[coupon_gift], helper_gift=coupon_gift),
                   assist_body(b, ladder=[goods_gift], helper_gift=goods_gift)],
        "share_coupon": [packet_body(b, "share_coupon", ids["coupon_template"])],
        "credit": [packet_body(b, "credit", ids["coupon_template"])],
        "points_mall": [{"kind": "points_mall", "name": "积分兑好茶", **window, "settings": goods(b)},
                        {"kind": "points_mall", "name": "积分兑券", **window,
                         "settings": coupon(ids["coupon_template"])}],
    }
    found: dict[str, list[tuple[str, str, Any]]] = {
        "POST /auth/dev-login": [("visitor", "/auth/dev-login", lambda: {
            "merchant_slug": b.slug, "openid": f"new-{next(fresh)}", "nickname": "new",
            "share_code": ids["share_code"]})],
        "POST /auth/wechat-login": [("visitor", "/auth/wechat-login", lambda: {
            "merchant_slug": b.slug, "code": wechat_code(f"new-{next(fresh)}"), "share_code": ids["share_code"]})],
        "POST /admin/products": [("owner", "/admin/products", {
            "title": "B's new tea", "category_id": ids["category"],
            "skus": [{"code": "tenant-b-new", "name": "50g", "price_fen": 500, "stock": 1}]})],
        "PATCH /admin/products/{product_id}": [("owner", f"/admin/products/{b.product_id}",
                                                {"category_id": ids["category"]})],
        "POST /admin/products/{product_id}/skus": [("owner", f"/admin/products/{b.product_id}/skus", {
            "code": "tenant-b-more", "name": "200g", "price_fen": 1800, "stock": 1})],
        "POST /orders": [(caller, "/orders", body) for caller, body in orders],
        "POST /checkout/preview": [(caller, "/checkout/preview", body) for caller, body in orders],
        "POST /shares": [("bob", "/shares", {"target_type": "product", "target_id": b.product_id})],
        "POST /bargains": [("carol", "/bargains", {"campaign_id": ids["bargain_campaign"]})],
        "POST /assists": [("carol", "/assists", {"campaign_id": ids["assist_campaign"]})],
        "POST /admin/coupon-templates": [("owner", "/admin/coupon-templates", {
            "name": "B's scoped", "kind": "amount", "amount_fen": 100, "valid_days": 7, "scope": "products",
            "scope_ids": [b.product_id]})],
        "POST /admin/vouchers/redeem": [("owner", "/admin/vouchers/redeem", {
            "code": ids["spare_voucher_code"], "store_id": b.store_id})],
        "POST /admin/tasks": [("owner", "/admin/tasks", task_body(
            name="B's task", reward_template_id=ids["coupon_template"]))],
        "POST /orders/{order_id}/reviews": [("bob", f"/orders/{ids['received_order']}/reviews", review(b))],
        "POST /posts": [("bob", "/posts", {"text": "B's 晒单", "order_id": ids["received_order"],
                                           "product_id": b.product_id})],
        "POST /orders/{order_id}/refunds": [("bob", f"/orders/{ids['paid_orders'][0]}/refunds",
                                             {"reason": "dented", "sku_id": b.sku_id})],
        "POST /admin/orders/{order_id}/refunds": [("owner", f"/admin/orders/{ids['paid_orders'][1]}/refunds",
                                                   {"reason": "dented", "sku_id": b.sku_id})],
    }
    for kind, bodies in campaigns.items():
        found[f"POST /admin/campaigns[{kind}]"] = [("owner", "/admin/campaigns", body) for body in bodies]
        found[f"PATCH /admin/campaigns/{{campaign_id}}[{kind}]"] = [
            ("owner", f"/admin/campaigns/{ids['draft'].get((kind, n))}", {"settings": body["settings"]})
            for n, body in enumerate(bodies)]
    return found


async def test_merchant_b_names_none_of_merchant_a_s_rows_in_a_body(client, runtime):
    """Every writing operation whose body names a row (by the app's OpenAPI, and each campaign kind's settings), sent
    by B's shopper or B's owner with a body valid for B in which that one field holds A's id or code: the answer is
    exactly the one an id or code that exists nowhere gets, and a refusal; A's rows stay as they were, and no row of
    any merchant names a row of another. B's own body is then accepted, so that only A's value refused it."""
    a, b = await tenant(client, runtime, "tenant-a"), await tenant(client, runtime, "tenant-b")
    a_values = await rows_of_every_kind(a, "alice")
    a_values |= await body_values(a, a_values, await a.shopper("alice"))
    b_values = await rows_of_every_kind(b, "bob")
    b._staff_tokens.clear()
    b_values |= await body_values(b, b_values, await b.shopper("bob"))
    await configure_wechat(b)
    callers = {"bob": await b.shopper("bob"), "carol": {**await b.shopper("carol"), "X-Device-Id": "carol-phone"},
               "owner": await b.staff("owner"), "visitor": {}}
    b_values["draft"] = {}
    for op, calls in base_bodies(b, {**b_values, "draft": {}}).items():
        if op.startswith("POST /admin/campaigns["):
            for n, (_, url, body) in enumerate(calls):
                created = await client.post(url, headers=callers["owner"], json=body)
                assert created.status_code == 201, created.text
                b_values["draft"][op.split("[")[1].rstrip("]"), n] = created.json()["id"]
    bases = base_bodies(b, b_values)
    before = await rows_of(runtime, a.merchant_id)
    assert not await cross_tenant_references(runtime)

    def send(caller: str, url: str, body: dict[str, Any]):
        method = "PATCH" if url.startswith("/admin/campaigns/") or url.startswith("/admin/products/") and \
            not url.endswith("/skus") else "POST"
        return client.request(method, url, headers=callers[caller], json=body)

    leaks, swept = [], 0
    for op, fields in sorted(body_fields().items()):
        if op.split("[")[0] in NOT_A_MALL_S:
            continue
        assert op in bases, f"add a valid body of B for {op} to base_bodies"
        for field in sorted(fields):
            key = FIELD_OF[f"{op} {field}"]
            if key is None:
                continue
            made = [(caller, url, body) for caller, url, body in bases[op]
                    if replaced(body() if callable(body) else body, field, 0) is not None]
            assert made, f"no body of B for {op} sends {field}"
            for caller, url, body in made:
                swept += 1
                theirs = await send(caller, url, replaced(body() if callable(body) else body, field, a_values[key]))
                nowhere = await send(caller, url, replaced(body() if callable(body) else body, field,
                                                           NOWHERE.get(key, MISSING)))
                if gist(theirs) != gist(nowhere) or (theirs.status_code < 400) != (f"{op} {field}" in ACCEPTED):
                    leaks.append((op, field, theirs.status_code, theirs.text[:150], nowhere.text[:150]))
    assert not leaks, "\n".join(map(repr, leaks))
    assert await rows_of(runtime, a.merchant_id) == before
    assert not await cross_tenant_references(runtime)
    for op, calls in sorted(bases.items()):  # previews before the orders that use up the coupon
        for caller, url, body in calls:
            accepted = await send(caller, url, body() if callable(body) else body)
            assert accepted.status_code < 400, (op, accepted.text)
    assert swept >= 40, swept
