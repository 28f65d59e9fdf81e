"""数据分析: a campaign's analytics page shows the service's own figures and charts (over the ten-person cascade of
tests/analytics), a friendly empty state before any event, a big tree summarised by depth, nothing to another
merchant; the dashboard compares the merchant's campaigns."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest

from fissionmall.analytics import service
from fissionmall.core.durations import chinese_duration
from fissionmall.core.money import yuan
from fissionmall.core.runtime import Runtime
from fissionmall.web.console import analytics as page
from tests.analytics.history import draw_cascade
from tests.analytics.test_campaign_metrics import catch_up
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.console.conftest import Desk
from tests.support import Mall

FIGURE = re.compile(r'data-figure="(\w+)">([^<]*)<')
CHART = re.compile(r'data-chart="([^"]*)"')


def figures(text: str) -> dict[str, str]:
    return dict(FIGURE.findall(text))


def charts(text: str) -> list[dict[str, Any]]:
    return [json.loads(html.unescape(found)) for found in CHART.findall(text)]


def titled(text: str, words: str) -> dict[str, Any]:
    return next(c for c in charts(text) if words in c["title"]["text"])


def tree_names(node: dict[str, Any]) -> list[str]:
    return [node["name"]] + [n for child in node.get("children", []) for n in tree_names(child)]


async def test_the_page_shows_the_services_figures(mall: Mall, runtime: Runtime,
                                                   desk: Callable[..., Awaitable[Desk]]) -> None:
    h = await draw_cascade(runtime, mall.merchant_id)
    await catch_up(runtime)
    async with runtime.sessionmaker() as session:
        m = await service.campaign_metrics(session, mall.merchant_id, h.campaign_id)
        days = await service.series(session, mall.merchant_id, h.campaign_id, "day")
    member = await desk("support")  # any staff
    answer = await member.page(f"/console/campaigns/{h.campaign_id}/analytics")
    assert answer.status_code == 200, answer.text
    text = answer.text
    assert m.cost_per_new_customer_fen is not None and m.structural_virality is not None and m.k is not None
    assert m.cycle_median_seconds is not None and m.cycle_p90_seconds is not None
    assert figures(text) == {
        "new_customers": str(m.counts.new_customers), "k": f"{m.k:.2f}",
        "cost_per_new": f"¥{yuan(m.cost_per_new_customer_fen)}", "cost": str(yuan(m.counts.cost_fen)),
        "net_paid": f"¥{yuan(m.counts.net_paid_fen)}", "refunded": str(yuan(m.counts.refunded_fen)),
        "beyond_first_hop": f"{m.beyond_first_hop * 100:.1f}%" if m.beyond_first_hop is not None else "—",
        "virality": f"{m.structural_virality:.2f}", "cycle_median": chinese_duration(m.cycle_median_seconds),
        "cycle_p90": chinese_duration(m.cycle_p90_seconds)}
    # the hand-worked values of test_hand_drawn_cascade, as a person reads them
    assert figures(text)["new_customers"] == "3" and figures(text)["k"] == "0.75"
    assert figures(text)["cost_per_new"] == "¥2.00" and figures(text)["net_paid"] == "¥100.00"
    assert figures(text)["cycle_median"] == "35 分钟" and figures(text)["beyond_first_hop"] == "66.7%"

    funnel = titled(text, "转化漏斗")["series"][0]
    assert [d["value"] for d in funnel["data"]] == [s.count for s in m.funnel] == [4, 9, 3, 4]
    assert [d["name"] for d in funnel["data"]] == ["分享", "点击", "参与", "支付"]
    assert funnel["data"][1]["label"]["formatter"] == "点击 9（225.0%）"
    daily = titled(text, "每日新客户")
    assert daily["xAxis"]["data"] == [p.start[5:] for p in days.points] == ["03-01"]
    assert daily["series"][0]["data"] == [3] and daily["series"][1]["data"] == [0.75]
    generations = titled(text, "各代 K 值")
    assert generations["series"][0]["data"] == [g.k for g in m.k_by_generation] == [0.5, 1.0, 1.0]
    tree = titled(text, "传播树")["series"][0]
    assert tree["type"] == "tree" and tree["expandAndCollapse"] and tree["initialTreeDepth"] == 2
    assert sorted(tree_names(tree["data"][0])) == sorted(["活动", *"ABCDEGFJ"])  # H's self-referral is no link
    assert "传播层级分布" not in text  # a small tree is drawn whole

    rows = re.findall(r'<tr><td>(\d+)</td><td class="name">(\w+)</td>\s*<td>(\d+)</td><td>(\d+)</td>'
                      r"<td>([\d.]+)</td>", text)
    assert rows == [("1", "B", "4", "1", "50.00"), ("2", "A", "2", "1", "50.00"), ("3", "E", "1", "1", "0.00")]

    dashboard = (await member.page("/console")).text
    compared = titled(dashboard, "活动对比")
    assert compared["xAxis"]["data"] == ["春季砍价"]
    assert [s["data"] for s in compared["series"]] == [[3], [0.75]]


async def test_a_big_tree_is_summarised_by_depth(mall: Mall, runtime: Runtime, desk: Callable[..., Awaitable[Desk]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page, "TREE_DRAWN", 3)  # the cascade's 7 links make it big
    h = await draw_cascade(runtime, mall.merchant_id)
    await catch_up(runtime)
    text = (await (await desk("owner")).page(f"/console/campaigns/{h.campaign_id}/analytics")).text
    depths = titled(text, "传播层级分布")
    assert depths["xAxis"]["data"] == ["发起人", "第 1 层", "第 2 层", "第 3 层"]
    assert [s["data"] for s in depths["series"]] == [[1, 2, 4, 1], [0, 1, 1, 1]]
    root = titled(text, "传播树的第一层")["series"][0]["data"][0]
    (a,) = root["children"]
    assert a["name"] == "A" and [(n["name"], n["value"]) for n in a["children"]] == [("B", 4), ("C", 0)]
    b = a["children"][0]
    assert b["collapsed"] and b["more"] == f"/api/v1/admin/analytics/campaigns/{h.campaign_id}/tree?parent_id=" \
                                          f"{h.people['B']}"


async def test_an_empty_campaign_shows_a_friendly_state(mall: Mall, runtime: Runtime,
                                                        desk: Callable[..., Awaitable[Desk]]) -> None:
    campaign_id = await group_campaign(mall)
    await catch_up(runtime)
    member = await desk("owner")
    campaign = (await member.page(f"/console/campaigns/{campaign_id}")).text
    assert f'href="/console/campaigns/{campaign_id}/analytics">数据分析</a>' in campaign
    answer = await member.page(f"/console/campaigns/{campaign_id}/analytics")
    assert answer.status_code == 200
    assert "还没有数据" in answer.text and "data-chart" not in answer.text
    dashboard = (await member.page("/console")).text
    assert "活动对比" in dashboard and not any("活动对比" in c["title"]["text"] for c in charts(dashboard)
                                               if "title" in c)


async def test_another_merchant_gets_404(mall: Mall, beta: Mall, runtime: Runtime,
                                         desk: Callable[..., Awaitable[Desk]]) -> None:
    h = await draw_cascade(runtime, mall.merchant_id)
    await catch_up(runtime)
    answer = await (await desk("owner", slug="beta")).page(f"/console/campaigns/{h.campaign_id}/analytics")
    assert answer.status_code == 404
    assert "春季砍价" not in answer.text


async def test_the_stored_forecast_is_drawn_against_the_counted_new_customers(
        mall: Mall, runtime: Runtime, desk: Callable[..., Awaitable[Desk]]) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from fissionmall.campaigns.models import Campaign
    from fissionmall.core.clock import FrozenClock
    from fissionmall.merchants.models import Staff
    from fissionmall.simulation import repository as forecasts
    from fissionmall.simulation import service as simulation
    from fissionmall.simulation.schemas import SimulationIn
    from tests.analytics.history import T0

    h = await draw_cascade(runtime, mall.merchant_id)
    await catch_up(runtime)
    inputs = SimulationIn(kind="bargain", seeds=3, audience=500, window_hours=96, runs=100)
    answer = simulation.simulate(inputs)
    async with runtime.sessionmaker() as session:
        campaign = await session.get(Campaign, h.campaign_id)
        assert campaign is not None
        staff_id = await session.scalar(select(func.min(Staff.id)).where(Staff.merchant_id == mall.merchant_id))
        await forecasts.store(session, mall.merchant_id, h.campaign_id, T0 - timedelta(days=2), staff_id,
                              inputs.model_dump(mode="json"), answer.model_dump(mode="json"))
        hours = await service.series(session, mall.merchant_id, h.campaign_id, "hour")
        await session.commit()
    assert isinstance(runtime.clock, FrozenClock)
    runtime.clock.advance(seconds=(campaign.starts_at + timedelta(days=3, hours=1) - runtime.clock.now())
                          .total_seconds())
    text = (await (await desk("support")).page(f"/console/campaigns/{h.campaign_id}/analytics")).text
    drawn = titled(text, "预测与实际")
    by_name = {s["name"]: s["data"] for s in drawn["series"]}
    days = answer.by_day
    assert by_name["预测（平均）"] == [round(d.cumulative_mean, 2) for d in days]
    assert by_name["区间下限"] == [d.cumulative_p10 for d in days]
    assert by_name["10%–90% 区间"] == [d.cumulative_p90 - d.cumulative_p10 for d in days]
    # the counted new customers up to the end of each of the three completed days from the start
    ends = [campaign.starts_at + timedelta(days=d) for d in (1, 2, 3)]
    counted = [sum(p.counts.new_customers for p in hours.points
                   if datetime.fromisoformat(p.start + ":00+08:00") < end) for end in ends]
    assert counted == [0, 3, 3] and by_name["实际"] == counted + [None]
    third = days[2]
    inside = third.cumulative_p10 <= counted[-1] <= third.cumulative_p90
    words = figures(text)["forecast_words"]
    assert words.startswith(f"截至第 3 天，实际累计新客户 {counted[-1]} 人，{'在' if inside else ''}")
