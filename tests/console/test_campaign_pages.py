"""营销活动 in the console: the list, a typed form for every kind (every setting a field), the linter's findings in
Chinese before going live, the rules as the shopper reads them, activate / pause / end, and what happens inside a
campaign (its groups); the admin reads inside a campaign, kept to their merchant."""

from __future__ import annotations

import ast
import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fissionmall.campaigns.mechanic import KINDS
from fissionmall.campaigns.schemas import Finding
from fissionmall.web.console import campaigns as console_campaigns
from fissionmall.web.console.campaign_forms import FORMS, covered
from fissionmall.web.console.lint_words import RULES, WORDS, in_chinese
from fissionmall.web.console.nav import KIND_NAMES
from tests.support import ADDRESS, Mall, problem

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

XSS = "<img src=x onerror=alert(1)>"
CAMPAIGNS = Path(__file__).parents[2] / "src" / "fissionmall" / "campaigns"


def group_body(mall: Mall, group_price_fen: int = 800, **settings: Any) -> dict[str, Any]:
    now = mall.runtime.clock.now()
    return {"kind": "group", "name": "两人团", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(),
            "settings": {"product_id": mall.product_id, "group_size": 2,
                         "skus": [{"sku_id": mall.sku_id, "group_price_fen": group_price_fen}], **settings}}


async def group_buy(mall: Mall, *, live: bool = True, **body: Any) -> int:
    owner = await mall.staff()
    created = await mall.client.post("/admin/campaigns", headers=owner, json=group_body(mall, **body))
    assert created.status_code == 201, created.text
    campaign_id: int = created.json()["id"]
    if live:
        answer = await mall.client.post(f"/admin/campaigns/{campaign_id}/activate", headers=owner)
        assert answer.status_code == 200, answer.text
    return campaign_id


async def join(mall: Mall, who: dict[str, str], campaign_id: int, group_id: int | None = None) -> int:
    """A group order placed and paid; the group it sits in."""
    answer = await mall.client.post("/orders", headers=who, json={
        "items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS,
        "campaign": {"kind": "group", "campaign_id": campaign_id, "target_id": group_id}})
    assert answer.status_code == 201, answer.text
    await mall.pay(who, answer.json()["id"])
    groups = await mall.client.get(f"/admin/campaigns/{campaign_id}/groups", headers=await mall.staff())
    return int(groups.json()["items"][0]["id"])


# --- the forms --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_each_kinds_form_offers_every_setting_of_its_model(kind: str) -> None:
    offered = {s.name for s in FORMS[kind]}
    assert offered == covered(KINDS[kind].settings_model)
    assert len(offered) == len(FORMS[kind]), "no setting twice"


def test_every_campaign_kind_but_tasks_has_a_form() -> None:
    assert set(FORMS) == set(KINDS) == set(KIND_NAMES)


@pytest.mark.parametrize("kind", sorted(FORMS))
async def test_the_new_campaign_form_draws_each_setting_with_its_chinese_label(desk, kind: str) -> None:
    page = await (await desk("operator")).page("/console/campaigns/new", kind=kind)
    assert page.status_code == 200
    for setting in FORMS[kind]:
        assert setting.label in page.text
        if setting.type == "rows":
            assert f'name="settings.{setting.name}.0.{setting.columns[0].name}"' in page.text
        else:
            assert f'name="settings.{setting.name}"' in page.text
    assert 'data-api="POST /api/v1/admin/campaigns"' in page.text


async def test_the_group_form_prices_in_yuan_times_in_units_and_products_as_choices(desk, mall) -> None:
    text = (await (await desk("owner")).page("/console/campaigns/new", kind="group")).text
    assert 'name="settings.leader_discount_fen" type="text" value="0.00" data-fen' in text
    assert 'name="settings.fill_minutes" value="1"' in text and 'data-duration="60"' in text  # 1 天
    assert f'<option value="{mall.product_id}"' in text and "售价 ¥10.00" in text
    assert 'name="settings.group_size" value="" data-int' in text


async def test_the_edit_form_holds_the_campaigns_settings(desk, mall) -> None:
    campaign_id = await group_buy(mall, live=False, leader_discount_fen=150, fill_minutes=90)
    text = (await (await desk("operator")).page(f"/console/campaigns/{campaign_id}/edit")).text
    assert f'data-api="PATCH /api/v1/admin/campaigns/{campaign_id}"' in text
    assert 'value="1.50" data-fen' in text and 'name="settings.fill_minutes" value="90"' in text
    assert 'name="settings.skus.0.group_price_fen" value="8.00"' in text


async def test_the_edit_form_offers_the_campaigns_own_product_however_many_are_newer(desk, mall, monkeypatch) -> None:
    """A select missing the campaign's product or SKU would pre-select none and save another one."""
    campaign_id = await group_buy(mall, live=False)
    newer = await mall.client.post("/admin/products", headers=await mall.staff(), json={
        "title": "Newer", "images": [], "skus": [{"code": "newer-1", "name": "one", "price_fen": 500, "stock": 1}]})
    assert newer.status_code == 201, newer.text
    monkeypatch.setattr(console_campaigns, "CHOICES", 1)
    text = (await (await desk("owner")).page(f"/console/campaigns/{campaign_id}/edit")).text
    assert f'<option value="{mall.product_id}" selected>' in text
    assert f'<option value="{mall.sku_id}" selected>' in text
    assert f'<option value="{newer.json()["skus"][0]["id"]}"' in text, "the newest are offered still"


async def test_the_edit_form_draws_every_tier_the_campaign_holds(desk, mall) -> None:
    tiers = [{"size": size, "price_fen": 900 - 100 * size} for size in range(2, 7)]
    campaign_id = await group_buy(mall, live=False, group_size=6, tiers=tiers)
    text = (await (await desk("owner")).page(f"/console/campaigns/{campaign_id}/edit")).text
    for i, tier in enumerate(tiers):
        assert f'name="settings.tiers.{i}.size" value="{tier["size"]}"' in text
    assert 'name="settings.tiers.5.size"' not in text
    assert 'name="settings.skus.2.sku_id"' in text, "three rows at least, to add to"


async def test_the_stock_cap_can_be_cleared_on_edit_and_left_out_on_create(desk, mall) -> None:
    campaign_id = await group_buy(mall, live=False)
    edit = (await (await desk("owner")).page(f"/console/campaigns/{campaign_id}/edit")).text
    assert re.search(r'name="stock_cap"[^>]*data-null', edit), "an empty field sends null: no cap"
    new = (await (await desk("owner")).page("/console/campaigns/new", kind="group")).text
    assert re.search(r'name="stock_cap"[^>]*data-optional', new)


# --- lint words -------------------------------------------------------------------------------------------------------


def emitted_findings() -> set[tuple[str, str]]:
    """(rule, check) of every Finding the campaign linters build, read from their source."""
    found: set[tuple[str, str]] = set()
    for path in CAMPAIGNS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding":
                words = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
                found.add((str(words.get("rule")), str(words.get("check"))))
    return found


def test_every_rule_and_check_the_linters_emit_has_chinese_words() -> None:
    emitted = emitted_findings()
    assert len(emitted) >= 10
    for rule, check in emitted:
        assert rule in RULES, rule
        assert check in WORDS.get(rule, {}), (rule, check)


def test_a_finding_in_chinese_names_amounts_in_yuan() -> None:
    shown = in_chinese(Finding(rule="P3", level="block", reason="…", check="group_price_not_lower",
                               facts={"sku_id": 7, "group_price_fen": 1200, "price_fen": 1000}))
    assert shown["wrong"] == "规格（编号 7）的拼团价 ¥12.00 不低于单独购买价 ¥10.00，拼团没有真正优惠"
    assert shown["fix"] == "把拼团价改为低于 ¥10.00"
    assert shown["level_name"] == "阻止上线"


# --- list, detail, actions --------------------------------------------------------------------------------------------


async def test_the_list_shows_each_campaign_with_its_status_and_period_filtered(desk, mall) -> None:
    live = await group_buy(mall)
    draft = await group_buy(mall, live=False)
    owner = await desk("owner")
    text = (await owner.page("/console/campaigns")).text
    assert f'href="/console/campaigns/{live}"' in text and f'href="/console/campaigns/{draft}"' in text
    assert "进行中" in text and "草稿" in text and "拼团" in text and " 至 " in text
    drafts = (await owner.page("/console/campaigns", status="draft")).text
    assert f'href="/console/campaigns/{draft}"' in drafts and f'href="/console/campaigns/{live}"' not in drafts
    assert f'href="/console/campaigns/{live}"' not in (await owner.page("/console/campaigns", kind="bargain")).text
    assert "/console/campaigns/new?kind=points_mall" in text


async def test_a_refused_plan_shows_its_finding_in_chinese_and_cannot_go_live_until_fixed(desk, mall) -> None:
    campaign_id = await group_buy(mall, live=False, group_price_fen=1200)  # the tea sells at ¥10.00 alone
    operator = await desk("operator")
    text = (await operator.page(f"/console/campaigns/{campaign_id}")).text
    assert "不能上线" in text and "P3" in text
    assert "拼团价 ¥12.00 不低于单独购买价 ¥10.00" in text and "把拼团价改为低于 ¥10.00" in text
    refused = await operator.api("POST", f"/admin/campaigns/{campaign_id}/activate")
    assert problem(refused, 409, "lint_blocked")["message"] == "方案未通过合规检查，请按提示修改后再保存或上线"
    fixed = group_body(mall, group_price_fen=800)["settings"]
    assert (await operator.api("PATCH", f"/admin/campaigns/{campaign_id}", json={"settings": fixed})).status_code == 200
    text = (await operator.page(f"/console/campaigns/{campaign_id}")).text
    assert "可以上线" in text and "未发现问题" in text
    assert (await operator.api("POST", f"/admin/campaigns/{campaign_id}/activate")).json()["status"] == "active"


async def test_the_detail_page_shows_the_rules_as_the_shopper_reads_them(desk, mall) -> None:
    campaign_id = await group_buy(mall, live=False)
    text = html.unescape((await (await desk("support")).page(f"/console/campaigns/{campaign_id}")).text)
    assert "顾客看到的活动规则" in text
    assert KINDS["group"].rules_text in text
    settings = KINDS["group"].settings_model.model_validate(group_body(mall)["settings"])
    assert KINDS["group"].describe is not None
    async with mall.runtime.sessionmaker() as session:
        for line in await KINDS["group"].describe(session, mall.merchant_id, settings):
            assert line in text


async def test_actions_follow_the_status_and_the_role(desk, mall) -> None:
    campaign_id = await group_buy(mall)
    operator = await (await desk("operator")).page(f"/console/campaigns/{campaign_id}")
    assert f"/api/v1/admin/campaigns/{campaign_id}/pause" in operator.text
    assert f"/api/v1/admin/campaigns/{campaign_id}/end" in operator.text and "data-confirm" in operator.text
    assert f"/api/v1/admin/campaigns/{campaign_id}/activate" not in operator.text
    assert "修改设置" not in operator.text, "a live campaign is not edited"
    finance = await desk("finance")
    text = (await finance.page(f"/console/campaigns/{campaign_id}")).text
    assert "/pause" not in text and "/end" not in text
    assert "新建活动" not in (await finance.page("/console/campaigns")).text
    assert (await finance.api("POST", f"/admin/campaigns/{campaign_id}/pause")).status_code == 403


async def test_a_live_campaign_refuses_edits_in_chinese(desk, mall) -> None:
    campaign_id = await group_buy(mall)
    answer = await (await desk("operator")).api("PATCH", f"/admin/campaigns/{campaign_id}", json={"name": "改名"})
    assert problem(answer, 409, "campaign_not_editable")["message"] == "活动进行中，不能修改"


async def test_bad_settings_come_back_with_chinese_hints_per_field(desk, mall) -> None:
    body = group_body(mall)
    body["settings"]["group_size"] = 1
    answer = await (await desk("operator")).api("POST", "/admin/campaigns", json=body)
    errors = problem(answer, 422, "invalid_settings")["errors"]
    assert {"field": "settings.group_size", "hint": "不能小于 2"}.items() <= errors[0].items()


# --- inside a campaign ------------------------------------------------------------------------------------------------


async def test_the_groups_page_shows_members_places_left_and_time_left(desk, mall) -> None:
    campaign_id = await group_buy(mall, group_size=3)
    leader = await mall.shopper("leader", nickname=XSS)
    group_id = await join(mall, leader, campaign_id)
    await join(mall, await mall.shopper("friend", nickname="小明"), campaign_id, group_id)
    text = (await (await desk("support")).page(f"/console/campaigns/{campaign_id}/records")).text
    assert XSS not in text and html.escape(XSS, quote=False) in text
    assert "小明" in text and "团长" in text and "2 / 3" in text and "1 人" in text and "剩余 1 天" in text
    assert f"#{group_id}" in (await (await desk("owner")).page(f"/console/campaigns/{campaign_id}/records",
                                                                status="open")).text
    assert "还没有团" in (await (await desk("owner")).page(f"/console/campaigns/{campaign_id}/records",
                                                           status="succeeded")).text


async def test_the_groups_api_pages_by_keyset_and_filters_by_status(desk, mall) -> None:
    campaign_id = await group_buy(mall)
    first = await join(mall, await mall.shopper("a"), campaign_id)
    second = await join(mall, await mall.shopper("b"), campaign_id, None)
    owner = await desk("owner")
    page = (await owner.api("GET", f"/admin/campaigns/{campaign_id}/groups", params={"limit": 1})).json()
    assert [g["id"] for g in page["items"]] == [max(first, second)] and page["next_cursor"]
    rest = (await owner.api("GET", f"/admin/campaigns/{campaign_id}/groups",
                            params={"limit": 1, "cursor": page["next_cursor"]})).json()
    assert [g["id"] for g in rest["items"]] == [min(first, second)]
    assert rest["items"][0]["members"][0]["is_leader"] and rest["items"][0]["places_left"] == 1
    failed = await owner.api("GET", f"/admin/campaigns/{campaign_id}/groups", params={"status": "failed"})
    assert failed.json() == {"items": [], "next_cursor": None}
    assert (await owner.api("GET", f"/admin/campaigns/{campaign_id}/groups", params={"status": "x"})).status_code == 422
    assert (await owner.api("GET", f"/admin/campaigns/{campaign_id}/groups", params={"limit": 51})).status_code == 422


@pytest.mark.parametrize("path", ["bargains", "assist-packets", "packets"])
async def test_each_inside_read_answers_only_for_its_own_kind(desk, mall, path: str) -> None:
    campaign_id = await group_buy(mall)
    answer = await (await desk("owner")).api("GET", f"/admin/campaigns/{campaign_id}/{path}")
    problem(answer, 404, "campaign_not_found")


async def test_merchant_beta_sees_nothing_of_acmes_campaigns(desk, mall, beta) -> None:
    campaign_id = await group_buy(mall)
    await join(mall, await mall.shopper("acme-leader", nickname="阿克米"), campaign_id)
    other = await desk("owner", slug="beta")
    assert "两人团" not in (await other.page("/console/campaigns")).text
    for path in ("", "/edit", "/records"):
        assert (await other.page(f"/console/campaigns/{campaign_id}{path}")).status_code == 404
    for path in ("groups", "bargains", "assist-packets", "packets"):
        problem(await other.api("GET", f"/admin/campaigns/{campaign_id}/{path}"), 404, "campaign_not_found")
