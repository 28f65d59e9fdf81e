"""Sharing: signed share codes, the click a landing records, attribution of sign-ins and orders, QR and poster PNGs."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from fissionmall.core.tokens import read_code, sign_code
from fissionmall.customers.models import Customer
from fissionmall.orders.models import Order
from fissionmall.sharing import poster
from fissionmall.sharing.models import Share
from fissionmall.sharing.poster import PosterContent, render_poster_png, render_qr_png
from tests.sharing.test_sharing_codes import ALPHABET
from tests.support import problem

BASE = "http://mall.test"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TAG = 10
"""Signature characters at the end of every code."""


# --- helpers ---------------------------------------------------------------------------------------------------------

async def share(client: httpx.AsyncClient, who: dict[str, str], target_type: str, target_id: int) -> dict[str, Any]:
    response = await client.post("/shares", headers=who, json={"target_type": target_type, "target_id": target_id})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def me(client: httpx.AsyncClient, who: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/me", headers=who)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def events(runtime: Runtime, kind: str) -> list[tuple[Any, ...]]:
    """(merchant, actor, inviter, depth, campaign, subject type, subject id) of each event of a kind, oldest first."""
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(Event).where(Event.kind == kind).order_by(Event.id))).scalars().all()
    return [(e.merchant_id, e.actor_id, e.inviter_id, e.depth, e.campaign_id, e.subject_type, e.subject_id)
            for e in rows]


async def count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def share_id(runtime: Runtime, code: str) -> int:
    found = read_code(runtime.settings.signing_keys, "share", code)
    assert found is not None, code
    return found


# --- creating a share ------------------------------------------------------------------------------------------------

async def test_product_share_gives_signed_link_scene_and_image_urls(client, mall, runtime):
    """A share yields a short signed code, its link, a WeChat scene (the code, ≤ 32 chars) and image URLs."""
    alice = await mall.shopper("alice")
    alice_id = (await me(client, alice))["id"]
    body = await share(client, alice, "product", mall.product_id)
    code = body["code"]
    assert set(body) == {"code", "link", "scene", "qr_url", "poster_url"}
    assert 0 < len(code) <= 32 and set(code) <= set(ALPHABET)
    assert body["link"] == f"{BASE}/s/{code}"
    assert body["scene"] == code
    assert body["qr_url"] == f"{BASE}/api/v1/shares/{code}/qr.png"
    assert body["poster_url"] == f"{BASE}/api/v1/shares/{code}/poster.png"
    sid = share_id(runtime, code)
    async with runtime.sessionmaker() as session:
        row = await session.get(Share, sid)
        assert row is not None
        assert (row.merchant_id, row.sharer_id, row.target_type, row.target_id, row.depth, row.campaign_id) == (
            mall.merchant_id, alice_id, "product", mall.product_id, 0, None)
    assert await events(runtime, "share") == [(mall.merchant_id, alice_id, None, 0, None, "share", sid)]


async def test_sharing_the_same_target_again_returns_the_same_code(client, mall, runtime):
    """One share per (sharer, target): the link a customer already spread stays valid and attributable."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    first = await share(client, alice, "product", mall.product_id)
    again = await share(client, alice, "product", mall.product_id)
    assert again == first
    other_sharer = await share(client, bob, "product", mall.product_id)
    assert other_sharer["code"] != first["code"]
    assert await count(runtime, Share) == 2


async def test_share_of_an_off_sale_unknown_or_foreign_product_is_not_found(client, mall, runtime, beta):
    """Only a product the shopper could buy here can be shared; nothing is recorded for a refused share."""
    alice = await mall.shopper("alice")
    response = await client.patch(f"/admin/products/{mall.product_id}", headers=await mall.staff(),
                                  json={"status": "off_sale"})
    assert response.status_code == 200, response.text
    for product_id in (mall.product_id, 999_999, beta.product_id):
        response = await client.post("/shares", headers=alice, json={"target_type": "product",
                                                                     "target_id": product_id})
        problem(response, 404, "product_not_found")
    assert await count(runtime, Share) == 0
    assert await events(runtime, "share") == []


async def test_an_invite_page_can_only_be_shared_by_its_owner(client, mall, runtime):
    """Sharing someone else's invite page would steal their invitees."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    alice_id, bob_id = (await me(client, alice))["id"], (await me(client, bob))["id"]
    problem(await client.post("/shares", headers=alice, json={"target_type": "invite", "target_id": bob_id}),
            422, "invalid_share_target")
    assert await count(runtime, Share) == 0
    own = await share(client, alice, "invite", alice_id)
    async with runtime.sessionmaker() as session:
        row = await session.get(Share, share_id(runtime, own["code"]))
        assert row is not None and (row.sharer_id, row.target_type, row.target_id) == (alice_id, "invite", alice_id)


@pytest.mark.parametrize("body", [
    {"target_type": "coupon", "target_id": 1},
    {"target_type": "", "target_id": 1},
    {"target_type": "product", "target_id": 0},
    {"target_type": "product"},
])
async def test_an_unknown_target_or_bad_id_is_invalid(client, mall, runtime, body):
    """Only the target types the API knows can be shared."""
    alice = await mall.shopper("alice")
    problem(await client.post("/shares", headers=alice, json=body), 422, "invalid_request")
    assert await count(runtime, Share) == 0


@pytest.mark.postgres
async def test_concurrent_shares_of_one_target_make_one_share(client, mall, runtime):
    """Double taps on "share" race on the unique key, and all of them get the one link."""
    alice = await mall.shopper("alice")
    body = {"target_type": "product", "target_id": mall.product_id}
    responses = await asyncio.gather(*[client.post("/shares", headers=alice, json=body) for _ in range(20)])
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["code"] for r in responses}) == 1
    assert await count(runtime, Share) == 1


async def test_sharing_needs_a_shopper(client, mall, runtime):
    """Anonymous callers and staff tokens cannot create shares."""
    body = {"target_type": "product", "target_id": mall.product_id}
    problem(await client.post("/shares", json=body), 401, "unauthenticated")
    problem(await client.post("/shares", headers=await mall.staff(), json=body), 401, "unauthenticated")
    assert await count(runtime, Share) == 0


# --- codes cannot be forged or edited --------------------------------------------------------------------------------

def _other(char: str) -> str:
    return ALPHABET[(ALPHABET.index(char) + 1) % len(ALPHABET)]


async def test_every_single_character_edit_of_a_code_is_refused(client, mall, runtime):
    """Changing any one character (id or signature part) gives no valid share and records no click."""
    alice = await mall.shopper("alice")
    code = (await share(client, alice, "product", mall.product_id))["code"]
    for i, char in enumerate(code):
        edited = code[:i] + _other(char) + code[i + 1:]
        problem(await client.get(f"/shares/{edited}"), 404, "share_not_found")
    assert await events(runtime, "click") == []


def _forgeries(code: str, other: str) -> dict[str, str]:
    return {
        "id part swapped": other[:-TAG] + code[-TAG:],
        "signature swapped": code[:-TAG] + other[-TAG:],
        "id edited": _other(code[0]) + code[1:],
        "leading zero": "0" + code,
        "appended char": code + "0",
        "truncated": code[:-1],
        "signature only": code[-TAG:],
        "33 chars": code + "0" * (33 - len(code)),
        "dash": code[:-1] + "-",
        "underscore": code[:-1] + "_",
        "percent-encoded": code[:-1] + "%21",
        "non-ascii": code[:-1] + "é",
        "lower-cased": code.lower() if code.lower() != code else code.upper(),
    }


async def test_forged_codes_are_not_found_and_record_nothing(client, mall, runtime):
    alice = await mall.shopper("alice")
    alice_id = (await me(client, alice))["id"]
    code = (await share(client, alice, "product", mall.product_id))["code"]
    other = (await share(client, alice, "invite", alice_id))["code"]
    assert code[:-TAG] != other[:-TAG]
    for name, forged in _forgeries(code, other).items():
        assert forged != code, name
        problem(await client.get(f"/shares/{forged}"), 404, "share_not_found")
    assert await events(runtime, "click") == []
    assert (await client.get(f"/shares/{code}")).status_code == 200


async def test_a_genuine_code_of_a_deleted_share_is_not_found(client, mall, runtime):
    """A correctly signed id that no share row has is refused like a forgery."""
    problem(await client.get(f"/shares/{sign_code(runtime.settings.signing_keys, 'share', 4242)}"), 404,
            "share_not_found")
    assert await events(runtime, "click") == []


# --- opening a share: the click --------------------------------------------------------------------------------------

async def test_anonymous_landing_records_a_click_one_deeper_than_the_sharer(client, mall, runtime):
    alice = await mall.shopper("alice", nickname="Alice 小红")
    alice_id = (await me(client, alice))["id"]
    code = (await share(client, alice, "product", mall.product_id))["code"]
    response = await client.get(f"/shares/{code}")
    assert response.status_code == 200, response.text
    assert response.json() == {"code": code, "target_type": "product", "target_id": mall.product_id,
                               "campaign_id": None, "sharer": {"id": alice_id, "nickname": "Alice 小红"}, "depth": 1}
    assert await events(runtime, "click") == [
        (mall.merchant_id, None, alice_id, 1, None, "share", share_id(runtime, code))]


async def test_a_signed_in_visitor_is_the_clicks_actor(client, mall, runtime):
    alice = await mall.shopper("alice")
    alice_id = (await me(client, alice))["id"]
    code = (await share(client, alice, "product", mall.product_id))["code"]
    bob = await mall.shopper("bob")
    bob_id = (await me(client, bob))["id"]
    assert (await client.get(f"/shares/{code}", headers=bob)).status_code == 200
    assert await events(runtime, "click") == [
        (mall.merchant_id, bob_id, alice_id, 1, None, "share", share_id(runtime, code))]


async def test_a_shopper_of_another_merchant_clicks_anonymously(client, mall, runtime, beta):
    """A token of another mall never names a customer in this mall's events."""
    alice = await mall.shopper("alice")
    alice_id = (await me(client, alice))["id"]
    code = (await share(client, alice, "product", mall.product_id))["code"]
    stranger = await beta.shopper("stranger")
    assert (await client.get(f"/shares/{code}", headers=stranger)).status_code == 200
    assert await events(runtime, "click") == [
        (mall.merchant_id, None, alice_id, 1, None, "share", share_id(runtime, code))]


async def test_a_click_on_a_second_level_share_is_depth_two(client, mall, runtime):
    alice = await mall.shopper("alice")
    alice_code = (await share(client, alice, "product", mall.product_id))["code"]
    bob = await mall.shopper("bob", share_code=alice_code)
    bob_id = (await me(client, bob))["id"]
    bob_code = (await share(client, bob, "product", mall.product_id))["code"]
    landing = (await client.get(f"/shares/{bob_code}")).json()
    assert (landing["sharer"]["id"], landing["depth"]) == (bob_id, 2)
    assert await events(runtime, "click") == [
        (mall.merchant_id, None, bob_id, 2, None, "share", share_id(runtime, bob_code))]


# --- attribution at sign-in ------------------------------------------------------------------------------------------

async def test_sign_in_through_shares_builds_the_fission_tree(client, mall, runtime):
    """Alice (organic) → Bob (depth 1) → Carol (depth 2); each registration names its inviter."""
    alice = await mall.shopper("alice")
    alice_me = await me(client, alice)
    assert (alice_me["inviter_id"], alice_me["depth"]) == (None, 0)
    alice_code = (await share(client, alice, "product", mall.product_id))["code"]

    bob = await mall.shopper("bob", share_code=alice_code)
    bob_me = await me(client, bob)
    assert (bob_me["inviter_id"], bob_me["depth"]) == (alice_me["id"], 1)
    bob_code = (await share(client, bob, "invite", bob_me["id"]))["code"]

    carol = await mall.shopper("carol", share_code=bob_code)
    carol_me = await me(client, carol)
    assert (carol_me["inviter_id"], carol_me["depth"]) == (bob_me["id"], 2)

    m = mall.merchant_id
    assert await events(runtime, "register") == [
        (m, alice_me["id"], None, 0, None, "customer", alice_me["id"]),
        (m, bob_me["id"], alice_me["id"], 1, None, "customer", bob_me["id"]),
        (m, carol_me["id"], bob_me["id"], 2, None, "customer", carol_me["id"]),
    ]
    async with runtime.sessionmaker() as session:
        bob_row = await session.get(Customer, bob_me["id"])
        carol_row = await session.get(Customer, carol_me["id"])
        assert bob_row is not None and carol_row is not None
        assert bob_row.acquired_by_share_id == share_id(runtime, alice_code)
        assert carol_row.acquired_by_share_id == share_id(runtime, bob_code)


async def test_signing_in_again_never_changes_the_inviter(client, mall, runtime):
    """The first link a customer came through keeps the credit; an organic customer stays organic."""
    alice, dave = await mall.shopper("alice"), await mall.shopper("dave")
    alice_code = (await share(client, alice, "product", mall.product_id))["code"]
    dave_code = (await share(client, dave, "product", mall.product_id))["code"]
    bob = await mall.shopper("bob", share_code=alice_code)
    before = await me(client, bob)

    again = await mall.shopper("bob", share_code=dave_code)
    assert await me(client, again) == before
    assert (await me(client, await mall.shopper("alice", share_code=dave_code)))["inviter_id"] is None
    assert [e[1] for e in await events(runtime, "register")] == [
        (await me(client, alice))["id"], (await me(client, dave))["id"], before["id"]]


async def test_a_forged_share_code_at_sign_in_is_refused_and_creates_nobody(client, mall, runtime):
    alice = await mall.shopper("alice")
    code = (await share(client, alice, "product", mall.product_id))["code"]
    forged = code[:-1] + _other(code[-1])
    response = await client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "bob",
                                                          "share_code": forged})
    problem(response, 422, "invalid_share_code")
    assert await count(runtime, Customer) == 1
    assert len(await events(runtime, "register")) == 1


async def test_a_share_code_of_another_merchant_is_refused_at_sign_in(client, mall, runtime, beta):
    """Attribution never crosses merchants: a genuine code of another mall is refused like a forgery."""
    stranger = await beta.shopper("stranger")
    foreign = (await share(client, stranger, "product", beta.product_id))["code"]
    response = await client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "bob",
                                                          "share_code": foreign})
    problem(response, 422, "invalid_share_code")
    async with runtime.sessionmaker() as session:
        acme_customers = (await session.execute(
            select(func.count()).select_from(Customer).where(Customer.merchant_id == mall.merchant_id))).scalar_one()
    assert acme_customers == 0


@pytest.mark.postgres
async def test_concurrent_first_sign_ins_through_two_links_make_one_customer_with_one_inviter(client, mall, runtime):
    """The unique (merchant, openid) key decides: one customer, one registration, one inviter."""
    alice, dave = await mall.shopper("alice"), await mall.shopper("dave")
    sharers: dict[str, int] = {}
    for who in (alice, dave):
        sharers[(await share(client, who, "product", mall.product_id))["code"]] = (await me(client, who))["id"]
    codes = list(sharers)
    responses = await asyncio.gather(*[
        client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "bob", "share_code": codes[i % 2]})
        for i in range(20)])
    assert [r.status_code for r in responses] == [200] * 20
    bob_ids = {r.json()["customer_id"] for r in responses}
    assert len(bob_ids) == 1
    bob_id = bob_ids.pop()
    bob = await me(client, {"Authorization": f"Bearer {responses[0].json()['token']}"})
    assert bob["inviter_id"] in sharers.values() and bob["depth"] == 1
    assert await count(runtime, Customer) == 3
    assert [e for e in await events(runtime, "register") if e[1] == bob_id] == [
        (mall.merchant_id, bob_id, bob["inviter_id"], 1, None, "customer", bob_id)]


# --- attribution on orders -------------------------------------------------------------------------------------------

async def test_an_order_through_a_share_code_is_attributed_to_the_sharer(client, mall, runtime):
    alice = await mall.shopper("alice")
    alice_id = (await me(client, alice))["id"]
    code = (await share(client, alice, "product", mall.product_id))["code"]
    bob = await mall.shopper("bob", share_code=code)
    bob_id = (await me(client, bob))["id"]

    response = await mall.place_order(bob, 2, share_code=code)
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    assert await events(runtime, "order") == [(mall.merchant_id, bob_id, alice_id, 1, None, "order", order_id)]
    async with runtime.sessionmaker() as session:
        order = await session.get(Order, order_id)
        assert order is not None and (order.inviter_id, order.share_id) == (alice_id, share_id(runtime, code))


async def test_an_order_without_a_code_names_the_customers_own_inviter_in_its_event(client, mall, runtime):
    alice = await mall.shopper("alice")
    alice_id = (await me(client, alice))["id"]
    code = (await share(client, alice, "product", mall.product_id))["code"]
    bob = await mall.shopper("bob", share_code=code)
    bob_id = (await me(client, bob))["id"]
    order = await mall.order(bob)
    assert await events(runtime, "order") == [(mall.merchant_id, bob_id, alice_id, 1, None, "order", order["id"])]


async def test_an_order_with_a_forged_or_foreign_share_code_is_refused_and_reserves_nothing(client, mall, runtime,
                                                                                             beta):
    alice = await mall.shopper("alice")
    code = (await share(client, alice, "product", mall.product_id))["code"]
    foreign = (await share(client, await beta.shopper("stranger"), "product", beta.product_id))["code"]
    bob = await mall.shopper("bob")
    for bad in (code[:-1] + _other(code[-1]), foreign):
        problem(await mall.place_order(bob, 3, share_code=bad), 422, "invalid_share_code")
    assert await mall.sku_stock() == 100
    assert await count(runtime, Order) == 0
    assert await events(runtime, "order") == []


# --- QR code and poster ----------------------------------------------------------------------------------------------

def _png(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.format == "PNG"
    return image


async def test_qr_code_and_poster_are_png_images(client, mall, runtime):
    alice = await mall.shopper("alice", nickname="小红")
    alice_id = (await me(client, alice))["id"]
    product = await share(client, alice, "product", mall.product_id)
    invite = await share(client, alice, "invite", alice_id)

    qr = _png(await client.get(product["qr_url"]))
    assert qr.width == qr.height and qr.width >= 100
    assert qr.tobytes() == Image.open(io.BytesIO(render_qr_png(product["link"]))).tobytes(), "QR of the share link"
    for body in (product, invite):
        poster = _png(await client.get(body["poster_url"]))
        assert poster.size == (750, 1200)
    assert await events(runtime, "click") == []


async def test_an_unchanged_poster_is_served_without_drawing_and_a_changed_one_is_drawn_anew(client, mall,
                                                                                             monkeypatch):
    """Posters are kept by a hash of what they show: asking again (or another visitor asking) serves the kept
    file; a new price or a new product image draws a new poster; the ETag answers a revalidation with 304."""
    drawn: list[PosterContent] = []

    def counting_render(content: PosterContent) -> bytes:
        drawn.append(content)
        return render_poster_png(content)

    monkeypatch.setattr(poster, "render_poster_png", counting_render)
    alice = await mall.shopper("alice", nickname="小红")
    url = (await share(client, alice, "product", mall.product_id))["poster_url"]
    first = await client.get(url)
    _png(first)
    assert len(drawn) == 1
    assert first.headers["cache-control"] == "public, max-age=300, must-revalidate"
    etag = first.headers["etag"]
    again = await client.get(url)
    assert (len(drawn), again.content, again.headers["etag"]) == (1, first.content, etag)
    unchanged = await client.get(url, headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content, len(drawn)) == (304, b"", 1)

    staff = await mall.staff()
    repricing = await client.patch(f"/admin/skus/{mall.sku_id}", headers=staff, json={"price_fen": 1234})
    assert repricing.status_code == 200, repricing.text
    repriced = await client.get(url, headers={"If-None-Match": etag})
    assert (repriced.status_code, len(drawn), drawn[-1].facts.price_fen) == (200, 2, 1234)
    assert repriced.headers["etag"] != etag and repriced.content != first.content

    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), "#3a7bd5").save(buffer, "PNG")
    image_url = (await client.post("/admin/media", headers=staff,
                                   files={"file": ("p.png", buffer.getvalue(), "image/png")})).json()["url"]
    assert (await client.patch(f"/admin/products/{mall.product_id}", headers=staff,
                               json={"images": [image_url]})).status_code == 200
    pictured = _png(await client.get(url))
    assert len(drawn) == 3 and pictured.convert("RGB").getpixel((375, 375)) == pytest.approx((0x3A, 0x7B, 0xD5), abs=4)
    await client.get(url)
    assert len(drawn) == 3


async def test_qr_code_and_poster_of_a_forged_code_are_not_found(client, mall):
    alice = await mall.shopper("alice")
    code = (await share(client, alice, "product", mall.product_id))["code"]
    forged = code[:-1] + _other(code[-1])
    problem(await client.get(f"/shares/{forged}/qr.png"), 404, "share_not_found")
    problem(await client.get(f"/shares/{forged}/poster.png"), 404, "share_not_found")
