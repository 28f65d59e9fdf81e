"""The platform operator creates and lists merchants with a credential of its own; the API is absent without it,
shopper and staff tokens never open it, and its token opens nothing else."""

from __future__ import annotations

import httpx
import pytest

from fissionmall.app import create_app
from fissionmall.config import SettingsError, load_settings
from tests.support import Mall, problem, refused_unchanged, rows

TOKEN = "platform-operator-token-0123456789abcdef"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}
TABLES = ("merchants", "staff", "stores")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"platform_token": TOKEN}


async def test_created_merchant_owner_signs_in_with_the_generated_password(client, runtime):
    response = await client.post("/platform/merchants", headers=OPERATOR, json={"slug": "tea-house", "name": "Tea"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["slug"] == "tea-house" and created["owner_username"] == "owner"
    password = created["owner_password"]
    assert len(password) >= 24
    assert await rows(runtime, "SELECT role FROM staff WHERE merchant_id = :m", m=created["id"]) == [("owner",)]
    [(stored_hash,)] = await rows(runtime, "SELECT password_hash FROM staff WHERE merchant_id = :m", m=created["id"])
    assert password not in stored_hash
    login = await client.post("/admin/auth/login", json={"merchant_slug": "tea-house", "username": "owner",
                                                          "password": password})
    assert login.status_code == 200, login.text
    me = await client.get("/admin/merchant", headers={"Authorization": f"Bearer {login.json()['token']}"})
    assert me.json()["id"] == created["id"]


async def test_a_chosen_password_is_not_echoed(client):
    response = await client.post("/platform/merchants", headers=OPERATOR, json={
        "slug": "tea", "name": "Tea", "owner_username": "li.lei", "owner_password": "twelve-chars"})
    assert response.status_code == 201, response.text
    assert response.json()["owner_password"] is None
    login = await client.post("/admin/auth/login", json={"merchant_slug": "tea", "username": "li.lei",
                                                          "password": "twelve-chars"})
    assert login.status_code == 200, login.text


async def test_a_taken_slug_is_409_and_changes_nothing(client, mall):
    await refused_unchanged(mall, client.post("/platform/merchants", headers=OPERATOR, json={
        "slug": mall.slug, "name": "Copy"}), 409, "merchant_slug_taken", tables=TABLES)


@pytest.mark.parametrize("body", [
    {"slug": "Upper", "name": "x"}, {"slug": "-edge", "name": "x"}, {"slug": "edge-", "name": "x"},
    {"slug": "a", "name": "x"}, {"slug": "x" * 41, "name": "x"}, {"slug": "ok", "name": ""},
    {"slug": "ok", "name": "x" * 101}, {"slug": "ok", "name": "x", "owner_username": "a b"},
    {"slug": "ok", "name": "x", "owner_password": "eleven-char"}, {"name": "x"},
])
async def test_bad_input_is_422_and_changes_nothing(client, mall, body):
    await refused_unchanged(mall, client.post("/platform/merchants", headers=OPERATOR, json=body), 422,
                            "invalid_request", tables=TABLES)


async def test_list_is_paginated_by_cursor(client, runtime):
    for slug in ("m-1", "m-2", "m-3"):
        await Mall.create(client, runtime, slug=slug)
    first = (await client.get("/platform/merchants?limit=2", headers=OPERATOR)).json()
    assert [m["slug"] for m in first["items"]] == ["m-1", "m-2"]
    rest = (await client.get(f"/platform/merchants?limit=2&cursor={first['next_cursor']}", headers=OPERATOR)).json()
    assert [m["slug"] for m in rest["items"]] == ["m-3"] and rest["next_cursor"] is None
    problem(await client.get("/platform/merchants?cursor=x", headers=OPERATOR), 422, "invalid_cursor")


async def test_shopper_staff_and_wrong_tokens_never_open_it(client, mall):
    shopper, owner = await mall.shopper("o-alice"), await mall.staff("owner")
    for headers in (shopper, owner, {}, {"Authorization": f"Bearer {TOKEN[:-1]}x"},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": TOKEN},
                    {"Authorization": f"Basic {TOKEN}"}):
        problem(await client.get("/platform/merchants", headers=headers), 401, "unauthenticated")
        await refused_unchanged(mall, client.post("/platform/merchants", headers=headers, json={
            "slug": "intruder", "name": "x"}), 401, "unauthenticated", tables=TABLES)


async def test_the_platform_token_opens_no_shopper_or_staff_route(client, mall):
    for path in ("/me", "/orders", "/admin/merchant", "/admin/orders", "/admin/staff"):
        problem(await client.get(path, headers=OPERATOR), 401, "unauthenticated")


async def test_without_the_setting_the_platform_api_does_not_exist(runtime):
    runtime.settings = runtime.settings.model_copy(update={"platform_token": None})
    app = create_app(runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mall.test/api/v1") as c:
        for method in ("GET", "POST"):
            problem(await c.request(method, "/platform/merchants", headers=OPERATOR), 404, "not_found")
    assert not [path for path in app.openapi()["paths"] if "platform" in path]


@pytest.mark.backend_free
def test_a_short_platform_token_stops_start_up():
    with pytest.raises(SettingsError, match="PLATFORM_TOKEN"):
        load_settings(platform_token="x" * 31)
