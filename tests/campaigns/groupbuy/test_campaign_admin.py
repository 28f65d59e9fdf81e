"""Campaign administration: typed settings checked field by field, the plan linter guarding activation (P3, G1),
the life cycle draft → active ⇄ paused → ended, who may change campaigns, and one merchant never seeing another's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from fissionmall.catalog.models import Product, Sku
from tests.support import Mall, problem

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

# --- helpers ----------------------------------------------------------------------------------------------------------


def campaign_body(mall: Mall, *, kind: str = "group", stock_cap: int | None = None, starts_in_hours: float = -1,
                  **settings: Any) -> dict[str, Any]:
    """A two-person group campaign on the mall's tea at 800 fen, running for a week; settings override the rest."""
    now = mall.runtime.clock.now()
    starts_at = now + timedelta(hours=starts_in_hours)
    body: dict[str, Any] = {
        "kind": kind, "name": "拼团", "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(days=7)).isoformat(),
        "settings": {"product_id": mall.product_id, "skus": [{"sku_id": mall.sku_id, "group_price_fen": 800}],
                     "group_size": 2, **settings}}
    if stock_cap is not None:
        body["stock_cap"] = stock_cap
    return body


async def create(mall: Mall, body: dict[str, Any], role: str = "owner") -> httpx.Response:
    return await mall.client.post("/admin/campaigns", headers=await mall.staff(role), json=body)


async def draft(mall: Mall, **settings: Any) -> int:
    """A draft campaign (not activated); its id."""
    response = await create(mall, campaign_body(mall, **settings))
    assert response.status_code == 201, response.text
    campaign_id: int = response.json()["id"]
    return campaign_id


async def act(mall: Mall, campaign_id: int, action: str, role: str = "owner") -> httpx.Response:
    """POST /admin/campaigns/{id}/{lint|activate|pause|end}."""
    return await mall.client.post(f"/admin/campaigns/{campaign_id}/{action}", headers=await mall.staff(role))


async def read(mall: Mall, campaign_id: int) -> dict[str, Any]:
    response = await mall.client.get(f"/admin/campaigns/{campaign_id}", headers=await mall.staff())
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def add_sku(mall: Mall, *, price_fen: int = 1200, stock: int = 50, other_product: bool = False) -> int:
    """Another SKU, of the mall's product or of a new product of the same merchant; its id."""
    async with mall.runtime.sessionmaker() as session:
        product_id = mall.product_id
        if other_product:
            product = Product(merchant_id=mall.merchant_id, title="Cups", status="on_sale",
                              created_at=mall.runtime.clock.now())
            session.add(product)
            await session.flush()
            product_id = product.id
        sku = Sku(merchant_id=mall.merchant_id, product_id=product_id, code=f"{mall.slug}-{product_id}-{price_fen}",
                  name="250g", price_fen=price_fen, stock=stock)
        session.add(sku)
        await session.commit()
        return sku.id


async def listed(mall: Mall) -> list[dict[str, Any]]:
    response = await mall.client.get("/admin/campaigns", headers=await mall.staff())
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


# --- creation and settings --------------------------------------------------------------------------------------------


async def test_created_campaign_is_a_draft_with_every_setting_spelled_out(client, mall):
    """Creation stores the typed settings with their defaults, as a draft that sells nothing yet."""
    response = await create(mall, campaign_body(mall, stock_cap=30))
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert campaign["status"] == "draft" and campaign["kind"] == "group"
    assert campaign["product_id"] == mall.product_id and campaign["stock_cap"] == 30 and campaign["sold"] == 0
    assert campaign["settings"] == {
        "product_id": mall.product_id, "skus": [{"sku_id": mall.sku_id, "group_price_fen": 800}], "group_size": 2,
        "fill_minutes": 1440, "per_customer_limit": 1, "leader_discount_fen": 0, "new_customers_only": False,
        "listed": True, "auto_complete_min_paid": None, "tiers": [], "race_loser": "new_group",
            "leader_commission_bp": 0, "deposit_percent": None, "balance_hours": 48, "deposit_on_lapse": "refund",
            "payment_options": None}
    assert await read(mall, campaign["id"]) == campaign


def _tiers(*pairs: tuple[int, int]) -> list[dict[str, int]]:
    return [{"size": size, "price_fen": price} for size, price in pairs]


BAD_SETTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("group size 1", {"group_size": 1}, "settings.group_size"),
    ("group size 101", {"group_size": 101}, "settings.group_size"),
    ("no group size", {"group_size": None}, "settings.group_size"),
    ("fill time under 5 minutes", {"fill_minutes": 4}, "settings.fill_minutes"),
    ("limit 0", {"per_customer_limit": 0}, "settings.per_customer_limit"),
    ("product 0", {"product_id": 0}, "settings.product_id"),
    ("no SKU", {"skus": []}, "settings.skus"),
    ("unknown race loser", {"race_loser": "coin_flip"}, "settings.race_loser"),
    ("tiers out of order", {"group_size": 3, "tiers": _tiers((3, 700), (2, 750))}, "settings.tiers"),
    ("tier price rising", {"group_size": 3, "tiers": _tiers((2, 700), (3, 750))}, "settings.tiers"),
    ("largest tier short of the size", {"group_size": 4, "tiers": _tiers((2, 750), (3, 700))}, "settings.tiers"),
    ("tier above the group price", {"group_size": 3, "tiers": _tiers((2, 850), (3, 700))}, "settings.tiers"),
    ("auto-complete at the size", {"group_size": 3, "auto_complete_min_paid": 3}, "settings.auto_complete_min_paid"),
    ("auto-complete above the size", {"group_size": 3, "auto_complete_min_paid": 5},
     "settings.auto_complete_min_paid"),
    ("leader discount equal to the price", {"leader_discount_fen": 800}, "settings.leader_discount_fen"),
    ("leader discount above the price", {"leader_discount_fen": 900}, "settings.leader_discount_fen"),
    ("SKU listed twice", {"skus": [{"sku_id": 1, "group_price_fen": 800}, {"sku_id": 1, "group_price_fen": 700}]},
     "settings.skus"),
]


async def test_bad_settings_are_refused_naming_the_setting(client, mall):
    """Each bad setting is a 422 invalid_settings whose field names it; nothing is created."""
    misnamed = []
    for case, settings, field in BAD_SETTINGS:
        body = campaign_body(mall, **settings)
        body["settings"] = {k: v for k, v in body["settings"].items() if v is not None}
        answer = problem(await create(mall, body), 422, "invalid_settings")
        assert answer["errors"][0]["field"] == answer["field"]
        if answer["field"] != field:
            misnamed.append((case, answer["field"], field))
    assert misnamed == [], "(case, field named, field expected)"
    assert await listed(mall) == []


async def test_tiers_with_auto_complete_are_refused(client, mall):
    """A tiered group ends at its smallest tier: auto-complete on top of it is contradictory."""
    body = campaign_body(mall, group_size=3, tiers=_tiers((2, 750), (3, 700)), auto_complete_min_paid=2)
    answer = problem(await create(mall, body), 422, "invalid_settings")
    assert answer["field"] in ("settings.tiers", "settings.auto_complete_min_paid"), answer
    assert await listed(mall) == []


async def test_valid_tiers_are_accepted(client, mall):
    body = campaign_body(mall, group_size=3, skus=[{"sku_id": mall.sku_id, "group_price_fen": 950}],
                         tiers=_tiers((2, 900), (3, 800)))
    response = await create(mall, body)
    assert response.status_code == 201, response.text
    assert response.json()["settings"]["tiers"] == _tiers((2, 900), (3, 800))


async def test_unknown_kind_is_refused(client, mall):
    answer = problem(await create(mall, campaign_body(mall, kind="lottery")), 422, "unknown_campaign_kind")
    assert answer["field"] == "kind"
    assert await listed(mall) == []


@pytest.mark.parametrize("hours", [0, -1], ids=["ends_when_it_starts", "ends_before_it_starts"])
async def test_campaign_must_end_after_it_starts(client, mall, hours):
    body = campaign_body(mall)
    body["ends_at"] = (mall.runtime.clock.now() + timedelta(hours=-1 + hours)).isoformat()
    problem(await create(mall, body), 422, "invalid_request")
    assert await listed(mall) == []


async def test_times_without_a_zone_are_refused(client, mall):
    body = campaign_body(mall)
    body["starts_at"] = body["starts_at"][:19]
    problem(await create(mall, body), 422, "invalid_request")
    assert await listed(mall) == []


# --- the linter and activation ----------------------------------------------------------------------------------------


async def test_sound_plan_lints_clean_and_goes_live(client, mall):
    campaign_id = await draft(mall)
    report = await act(mall, campaign_id, "lint")
    assert report.status_code == 200 and report.json() == {"ok": True, "findings": []}
    activated = await act(mall, campaign_id, "activate")
    assert activated.status_code == 200 and activated.json()["status"] == "active"


@pytest.mark.parametrize("group_price", [1000, 1001], ids=["equal_to_alone", "above_alone"])
async def test_group_price_not_below_the_sku_price_blocks_activation(client, mall, group_price):
    """P3: a group must really save money; the plan stays a draft."""
    campaign_id = await draft(mall, skus=[{"sku_id": mall.sku_id, "group_price_fen": group_price}])
    report = (await act(mall, campaign_id, "lint")).json()
    assert report["ok"] is False
    assert [(f["rule"], f["level"]) for f in report["findings"]] == [("P3", "block")]
    answer = problem(await act(mall, campaign_id, "activate"), 409, "lint_blocked")
    assert answer["findings"] == report["findings"]
    assert (await read(mall, campaign_id))["status"] == "draft"


async def test_sku_of_another_product_blocks_activation(client, mall):
    """G1: every SKU sold must belong to the campaign's product; each bad one is a finding of its own."""
    stranger = await add_sku(mall, other_product=True, price_fen=2000)
    campaign_id = await draft(mall, skus=[{"sku_id": mall.sku_id, "group_price_fen": 1000},
                                          {"sku_id": stranger, "group_price_fen": 1500}])
    report = (await act(mall, campaign_id, "lint")).json()
    assert report["ok"] is False
    assert [(f["rule"], f["level"]) for f in report["findings"]] == [("P3", "block"), ("G1", "block")]
    assert str(stranger) in report["findings"][1]["reason"]
    answer = problem(await act(mall, campaign_id, "activate"), 409, "lint_blocked")
    assert [f["rule"] for f in answer["findings"]] == ["P3", "G1"]
    assert (await read(mall, campaign_id))["status"] == "draft"


async def test_a_product_that_does_not_exist_is_refused(client, mall):
    """A campaign on no product is a 422 naming settings.product_id, not a server error."""
    answer = problem(await create(mall, campaign_body(mall, product_id=mall.product_id + 1000)), 422,
                     "invalid_settings")
    assert answer["field"] == "settings.product_id"
    assert await listed(mall) == []


async def test_fixing_a_blocked_plan_lets_it_go_live(client, mall):
    campaign_id = await draft(mall, skus=[{"sku_id": mall.sku_id, "group_price_fen": 1000}])
    problem(await act(mall, campaign_id, "activate"), 409, "lint_blocked")
    fixed = await mall.client.patch(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(), json={
        "settings": {"product_id": mall.product_id, "skus": [{"sku_id": mall.sku_id, "group_price_fen": 990}],
                     "group_size": 2}})
    assert fixed.status_code == 200, fixed.text
    assert (await act(mall, campaign_id, "activate")).json()["status"] == "active"


# --- life cycle -------------------------------------------------------------------------------------------------------


async def test_life_cycle_draft_active_paused_active_ended(client, mall):
    campaign_id = await draft(mall)
    for action, status in [("activate", "active"), ("pause", "paused"), ("activate", "active"), ("end", "ended")]:
        response = await act(mall, campaign_id, action)
        assert response.status_code == 200, (action, response.text)
        assert response.json()["status"] == status
        assert (await read(mall, campaign_id))["status"] == status


async def test_draft_and_paused_campaigns_can_end(client, mall):
    first, second = await draft(mall), await draft(mall)
    assert (await act(mall, first, "end")).json()["status"] == "ended"
    await act(mall, second, "activate")
    await act(mall, second, "pause")
    assert (await act(mall, second, "end")).json()["status"] == "ended"


async def _in_status(mall: Mall, status: str) -> int:
    campaign_id = await draft(mall)
    path = {"draft": [], "active": ["activate"], "paused": ["activate", "pause"], "ended": ["end"]}[status]
    for action in path:
        assert (await act(mall, campaign_id, action)).status_code == 200
    return campaign_id


async def test_invalid_transitions_are_refused(client, mall):
    """Only draft/paused → active, active → paused, and anything but ended → ended; the status stays."""
    for status, actions in (("draft", ["pause"]), ("active", ["activate"]), ("paused", ["pause"]),
                            ("ended", ["activate", "pause", "end"])):
        campaign_id = await _in_status(mall, status)
        before = await read(mall, campaign_id)
        for action in actions:
            answer = problem(await act(mall, campaign_id, action), 409, "invalid_transition")
            assert answer["status_now"] == status, (status, action)
        assert await read(mall, campaign_id) == before


@pytest.mark.parametrize("status", ["active", "ended"])
async def test_a_running_or_ended_campaign_cannot_be_edited(client, mall, status):
    campaign_id = await _in_status(mall, status)
    before = await read(mall, campaign_id)
    for change in ({"name": "改名"}, {"settings": {**before["settings"], "group_size": 3}}, {"stock_cap": 5}):
        response = await mall.client.patch(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(), json=change)
        problem(response, 409, "campaign_not_editable")
    assert await read(mall, campaign_id) == before


async def test_a_paused_campaign_can_be_edited(client, mall):
    campaign_id = await _in_status(mall, "paused")
    response = await mall.client.patch(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(),
                                       json={"name": "三人团", "stock_cap": 12})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["stock_cap"], response.json()["status"]) == (
        "三人团", 12, "paused")


async def test_editing_with_bad_settings_changes_nothing(client, mall):
    campaign_id = await draft(mall)
    before = await read(mall, campaign_id)
    response = await mall.client.patch(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(), json={
        "settings": {**before["settings"], "group_size": 101}})
    assert problem(response, 422, "invalid_settings")["field"] == "settings.group_size"
    response = await mall.client.patch(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(), json={
        "ends_at": before["starts_at"]})
    assert problem(response, 422, "invalid_request")["field"] == "ends_at"
    assert await read(mall, campaign_id) == before


# --- roles and tenants ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance", "support"])
async def test_finance_and_support_cannot_create_or_run_campaigns(client, mall, role):
    problem(await create(mall, campaign_body(mall), role=role), 403, "forbidden")
    assert await listed(mall) == []
    campaign_id = await draft(mall)
    for action in ("lint", "activate", "pause", "end"):
        problem(await act(mall, campaign_id, action, role=role), 403, "forbidden")
    response = await mall.client.patch(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(role),
                                       json={"name": "x"})
    problem(response, 403, "forbidden")
    assert (await read(mall, campaign_id))["status"] == "draft" and (await read(mall, campaign_id))["name"] == "拼团"
    readable = await mall.client.get(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(role))
    assert readable.status_code == 200


async def test_operator_runs_campaigns(client, mall):
    response = await create(mall, campaign_body(mall), role="operator")
    assert response.status_code == 201, response.text
    assert (await act(mall, response.json()["id"], "activate", role="operator")).json()["status"] == "active"


async def test_another_merchants_staff_see_nothing(client, mall, runtime):
    """Tenant isolation: every route answers 404 for a campaign of another merchant, and changes nothing."""
    campaign_id = await draft(mall)
    before = await read(mall, campaign_id)
    other = await Mall.create(client, runtime, slug="other")
    owner = await other.staff()
    problem(await client.get(f"/admin/campaigns/{campaign_id}", headers=owner), 404, "campaign_not_found")
    problem(await client.patch(f"/admin/campaigns/{campaign_id}", headers=owner, json={"name": "x"}),
            404, "campaign_not_found")
    for action in ("lint", "activate", "pause", "end"):
        problem(await act(other, campaign_id, action), 404, "campaign_not_found")
    assert (await client.get("/admin/campaigns", headers=owner)).json() == []
    assert await read(mall, campaign_id) == before


async def test_another_merchants_product_can_never_go_live(client, mall, runtime):
    """Refused at creation (422 on settings.product_id), or kept a draft by the linter (G1): never sold."""
    other = await Mall.create(client, runtime, slug="other")
    response = await create(other, campaign_body(mall))
    if response.status_code == 422:
        assert problem(response, 422, "invalid_settings")["field"] == "settings.product_id"
        assert await listed(other) == []
        return
    assert response.status_code == 201, response.text
    report = (await act(other, response.json()["id"], "lint")).json()
    assert report["ok"] is False and [f["rule"] for f in report["findings"]] == ["G1"]
    problem(await act(other, response.json()["id"], "activate"), 409, "lint_blocked")
    assert (await read(other, response.json()["id"]))["status"] == "draft"
