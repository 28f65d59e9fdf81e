"""The console's loyalty section: levels, points rules, tasks, the points mall link, the dividend plan, and the "3+9"
preset shown kept / refused rule by rule in Chinese, whose kept part one call turns into live settings (and whose
refused rules never become any)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest

from fissionmall.distribution import rules
from tests.console.conftest import Desk
from tests.support import Mall, problem, refused_unchanged, rows

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

DeskOf = Callable[..., Awaitable[Desk]]
APPROVAL = "法务部王律师 2026-11-30 批准二级分销，编号 LG-118"
SETTINGS = ("distribution_configs", "dividend_plans")
LEVELS = {"basis": "cumulative", "levels": [
    {"level": 1, "name": "银卡", "min_spend_fen": 0},
    {"level": 2, "name": "金卡", "min_spend_fen": 100_000, "discount_percent": 5, "free_shipping": True}]}


async def test_each_tab_renders_what_the_merchant_set(desk: DeskOf, mall: Mall) -> None:
    owner = await desk("owner")
    assert (await owner.api("PUT", "/admin/levels", json=LEVELS)).status_code == 200
    assert (await owner.api("PUT", "/admin/points", json={"checkin_points": 7, "fen_per_100_points": 150})
            ).status_code == 200
    made = await owner.api("POST", "/admin/tasks", json={"name": "邀请 3 位好友", "kind": "invite_registered",
                                                         "target": 3, "reward_points": 50})
    assert made.status_code == 201, made.text
    levels = (await owner.page("/console/loyalty")).text
    assert 'value="金卡"' in levels and 'value="1000.00" data-fen' in levels and "PUT /api/v1/admin/levels" in levels
    points = (await owner.page("/console/loyalty/points")).text
    assert "每天 7 积分" in points and "每 100 积分抵 ¥1.50" in points
    tasks = (await owner.page("/console/loyalty/tasks")).text
    assert "邀请 3 位好友" in tasks and "邀请好友注册" in tasks
    assert f"PATCH /api/v1/admin/tasks/{made.json()['id']}" in tasks
    assert 'href="/console/campaigns?kind=points_mall"' in levels
    dividend = (await owner.page("/console/loyalty/dividend")).text
    assert "尚未设置分红" in dividend and "PUT /api/v1/admin/dividend" in dividend


async def test_finance_reads_every_tab_and_changes_nothing(desk: DeskOf, mall: Mall) -> None:
    finance = await desk("finance")
    for path in ("/console/loyalty", "/console/loyalty/points", "/console/loyalty/tasks", "/console/loyalty/dividend",
                 "/console/loyalty/preset"):
        page = await finance.page(path)
        assert page.status_code == 200 and 'class="act' not in page.text, path
    await refused_unchanged(mall, finance.api("POST", "/admin/plans/presets/3+9/apply", json={}), 403, "forbidden",
                            tables=SETTINGS)


async def test_the_preset_is_shown_kept_and_refused_rule_by_rule_in_chinese(desk: DeskOf, mall: Mall) -> None:
    page = (await (await desk("owner")).page("/console/loyalty/preset")).text
    report = rules.lint(rules.three_plus_nine())
    assert page.count('<tr class="kept">') == len(report.kept) == 4
    assert page.count('<tr class="refused">') == len(report.refused) == 9
    for words in ("金额或资格取决于拉新人数，属于拉人头、团队计酬", "使用了「出局」，这是传销的结构特征",
                  "获得收益的资格要花钱买（消费门槛），属于变相入门费", "二级佣金须先登记法律意见",
                  "每件 899.00 元的商品，佣金与折扣合计 850.00 元，超过售价的 30%",
                  "佣金，依据推荐客户的购买；直接推荐（一级）；每单 ¥100.00"):
        assert words in page, words
    assert "POST /api/v1/admin/plans/presets/3+9/apply" in page


async def test_applying_the_kept_part_never_makes_a_refused_rule_a_setting(desk: DeskOf, mall: Mall) -> None:
    owner = await desk("owner")
    answer = await owner.api("POST", "/admin/plans/presets/3+9/apply", json={"pool_bp": 500})
    assert answer.status_code == 200, answer.text
    applied = answer.json()
    refused = set(rules.lint(rules.three_plus_nine()).refused)
    assert {r["reward"] for r in applied["rules"]}.isdisjoint(refused)
    assert [(r["reward"], r["applied"]) for r in applied["rules"]] == [
        ("直推补贴 ¥100/单", True), ("间推补贴 ¥50/单", False), ("活跃 1 级：月消费 899 得 3596 分红积分", True),
        ("每月 30 日分红池：3000 分以上按分红积分加权", True)]
    config = (await owner.api("GET", "/admin/distribution")).json()
    assert config["enabled"] and config["level2_approval"] is None
    assert [(g["level1_bp"], g["level2_bp"]) for g in config["grades"]] == [(1112, 0)]  # 100 / 899, rounded down
    dividend = (await owner.api("GET", "/admin/dividend")).json()
    assert dividend["levels"] == [{"min_spend_fen": 89_900, "points": 3596}]  # no team-shaped level 2–5
    assert (dividend["enabled"], dividend["pool_bp"], dividend["threshold_points"], dividend["pay_day"]) == (
        True, 500, 3000, "last")
    page = (await owner.page("/console/loyalty/preset")).text
    assert "一级 11.12%" in page and "本人当月消费满 ¥899.00 得 3596 分" in page


async def test_applying_leaves_one_audit_row_with_both_settings_before_and_after(desk: DeskOf, mall: Mall) -> None:
    owner = await desk("owner")
    plan = {"enabled": False, "pool_bp": 100, "levels": [{"min_spend_fen": 10_000, "points": 1}]}
    assert (await owner.api("PUT", "/admin/dividend", json=plan)).status_code == 200
    start = len(await rows(mall.runtime, "SELECT id FROM audit_log WHERE merchant_id = :m", m=mall.merchant_id))
    assert (await owner.api("POST", "/admin/plans/presets/3+9/apply", json={"pool_bp": 500})).status_code == 200
    written = (await rows(mall.runtime, "SELECT action, detail FROM audit_log WHERE merchant_id = :m ORDER BY id",
                          m=mall.merchant_id))[start:]
    assert [action for action, _ in written] == ["POST /admin/plans/presets/3+9/apply"]
    detail = written[0][1] if isinstance(written[0][1], dict) else json.loads(written[0][1])
    assert detail["before"]["distribution"] is None
    assert (detail["before"]["dividend"]["enabled"], detail["before"]["dividend"]["pool_bp"]) == (False, 100)
    assert [g["level1_bp"] for g in detail["after"]["distribution"]["grades"]] == [1112]
    assert (detail["after"]["dividend"]["enabled"], detail["after"]["dividend"]["pool_bp"]) == (True, 500)
    page = (await owner.page("/console/audit")).text
    assert "应用“3+9”方案" in page


async def test_with_the_approval_record_the_indirect_subsidy_becomes_level_two(desk: DeskOf, mall: Mall) -> None:
    owner = await desk("owner")
    answer = await owner.api("POST", "/admin/plans/presets/3+9/apply", json={"level2_approval": APPROVAL})
    assert answer.status_code == 200, answer.text
    config = answer.json()["distribution"]
    assert config["level2_approval"] == APPROVAL and [(g["level1_bp"], g["level2_bp"]) for g in config["grades"]] == [
        (1112, 556)]
    await refused_unchanged(mall, owner.api("POST", "/admin/plans/presets/3+9/apply", json={"pool_bp": 2001}), 422,
                            "invalid_request", tables=SETTINGS)


async def test_beta_sees_nothing_of_acme(desk: DeskOf, mall: Mall, beta: Mall) -> None:
    owner = await desk("owner")
    assert (await owner.api("PUT", "/admin/levels", json=LEVELS)).status_code == 200
    assert (await owner.api("POST", "/admin/plans/presets/3+9/apply", json={})).status_code == 200
    stranger = await desk("owner", slug="beta")
    assert "金卡" not in (await stranger.page("/console/loyalty")).text
    assert "尚未设置分红" in (await stranger.page("/console/loyalty/dividend")).text
    preset = (await stranger.page("/console/loyalty/preset")).text
    assert "一级 11.12%" not in preset and "未开通" in preset
    problem(await stranger.api("GET", "/admin/dividend"), 404, "dividend_not_configured")
