"""效果预测 in a desktop browser: the owner runs a forecast from the page; the drawn charts and figures are the API's
answer for the same inputs (the same seed gives the same runs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import StaffDesk, owner_api

pytestmark = pytest.mark.backend_free

TYPED = {"claims": "10", "reward_fen": "5", "budget_fen": "300", "window_hours": "240", "audience": "5000",
         "seeds": "20", "share_rate": "0.4", "friends_per_share": "8", "conversion": "0.25", "order_rate": "0.5",
         "cycle_hours": "24", "runs": "500", "seed": "7"}
SENT = {**{k: float(v) if "." in v else int(v) for k, v in TYPED.items()}, "kind": "invite", "reward_fen": 500,
        "budget_fen": 30000}


def option_data(chart_id: str) -> str:
    return (f"echarts.getInstanceByDom(document.getElementById('{chart_id}')).getOption().series"
            ".map(function (s) { return s.data; })")


async def test_a_forecast_from_the_page_draws_the_api_s_answer(staff: Callable[[str], Awaitable[StaffDesk]],
                                                               shots: Path) -> None:
    owner = await staff("owner")
    page = await owner.open("/console/campaigns/simulate?kind=invite")
    for name, value in TYPED.items():
        await page.fill(f"#simulator input[name={name}]", value)
    await page.click("button:has-text('开始预测')")
    await page.wait_for_selector("#sim-answer:not([hidden]) #sim-sizes canvas")
    answer = await owner.api("POST", "/admin/simulations", json=SENT)
    days = answer["by_day"]
    assert len(days) == 10
    drawn = await page.evaluate(option_data("sim-days"))
    assert drawn[0] == [d["cumulative_p10"] for d in days]
    assert drawn[1] == [d["cumulative_p90"] - d["cumulative_p10"] for d in days]
    assert drawn[2] == [round(d["cumulative_mean"], 2) for d in days]
    assert drawn[3] == [round(d["mean"], 2) for d in days]
    bars = await page.evaluate(option_data("sim-sizes"))
    assert bars[0] == [round(b["share"] * 100, 2) for b in answer["cascade"]["histogram"]]

    async def figure(name: str) -> str:
        return await page.locator(f'[data-figure="{name}"]').inner_text()

    assert await figure("new_customers") == f"{answer['new_customers']['mean']:.1f}"
    assert await figure("orders") == f"{answer['orders']['mean']:.1f}"
    assert await figure("p_fizzle") == f"{answer['p_fizzle'] * 100:.1f}%"
    assert await figure("spent") == f"¥{answer['budget_spent_fen']['mean'] / 100:.2f}"
    runs_out = answer["budget_runs_out"]
    assert runs_out["probability"] > 0  # 60 new customers' rewards: a budget this forecast spends in most runs
    assert await figure("runs_out") == (f"{runs_out['probability'] * 100:.1f}% 的情况下预算用完，中位数在第 "
                                        f"{runs_out['median_hours'] / 24:.1f} 天")
    assert await figure("cascade") == f"中位数 {answer['cascade']['q50']:g}"
    await owner.shot(shots, "console-simulator")
    # a rate above 1 is refused by the API, its words shown by the field
    await page.fill("#simulator input[name=conversion]", "1.5")
    await page.click("button:has-text('开始预测')")
    await page.wait_for_selector('.field-error[data-for="conversion"]:has-text("不能大于 1")')
    assert owner.refused == []


async def test_a_forecast_saved_before_launch_is_drawn_beside_what_happened(
        server: str, staff: Callable[[str], Awaitable[StaffDesk]], shots: Path) -> None:
    """The owner saves the page's forecast for a draft invite campaign, launches it, and its 数据分析 draws the
    forecast's band beside the new customers so far."""
    now = datetime.now(UTC)
    campaign = await owner_api(server, "POST", "/admin/campaigns", json={
        "kind": "invite", "name": "预测对照", "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat(),
        "settings": {"reward_on": "first_purchase", "reward_fen": 300, "max_friends": 10,
                     "budget": {"total_fen": 30_000, "daily_fen": 5_000}}})
    owner = await staff("owner")
    page = await owner.open(f"/console/campaigns/simulate?campaign={campaign['id']}")
    await page.click("button:has-text('开始预测')")
    await page.wait_for_selector("#sim-answer:not([hidden]) #sim-sizes canvas")
    await page.click("#sim-save")
    await expect(page.locator("#sim-saved")).to_contain_text("已保存")
    stored = await owner.api("GET", f"/admin/campaigns/{campaign['id']}/forecast")
    assert stored["forecast"]["new_customers"]["mean"] >= 0

    await owner_api(server, "POST", f"/admin/campaigns/{campaign['id']}/activate")
    page = await owner.open(f"/console/campaigns/{campaign['id']}/analytics")
    await page.wait_for_selector(".forecast-vs-actual .chart canvas")
    assert await page.locator(".forecast-words").inner_text()
    await owner.shot(shots, "console-forecast-vs-actual")
    assert owner.refused == []
    await owner_api(server, "POST", f"/admin/campaigns/{campaign['id']}/end")  # the journeys meet the demo's own
