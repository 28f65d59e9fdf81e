"""数据分析: a campaign's spread, read through analytics.service from the incremental tables — the funnel share →
click → act → pay, K overall, by generation and by day, the cascade tree (drawn whole when small, summarised by depth
when big, a node's children fetched from the tree API on demand), cost per new customer, refunds netted, structural
virality, the share of new customers beyond the first hop, cycle time and the top sharers. Charts are ECharts
options built here and drawn by console.js."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fissionmall.analytics import service as analytics
from fissionmall.analytics.schemas import CampaignMetrics, CampaignSummary, Series, TreeNode
from fissionmall.campaigns import service as campaigns
from fissionmall.core.deps import ClockDep, ReplicaSessionDep
from fissionmall.core.money import yuan
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers import service as customers
from fissionmall.simulation import service as simulation
from fissionmall.simulation.schemas import ForecastOut
from fissionmall.web.console.nav import KIND_NAMES
from fissionmall.web.console.session import ConsoleReader, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

TREE_DRAWN = 300
"""Trees with at most this many links are drawn whole; bigger ones by depth, with their first level."""
FIRST_LEVEL = 100
"""Nodes of a big tree's first level drawn (the rest are counted in the depth bars)."""
TOP = 10
STEP_NAMES = {"share": "分享", "click": "点击", "act": "参与", "pay": "支付"}
ACTION_NAMES = {"join": "参团", "help": "助力", "claim": "领取", "order": "下单", "click": "点击", "share": "分享"}
BLUE, GREEN, ORANGE, RED, CYAN = "#1664ff", "#00b42a", "#ff7d00", "#f53f3f", "#14c9c9"


def _title(text: str) -> dict[str, Any]:
    return {"text": text, "left": 0, "textStyle": {"fontSize": 14}}


def percent(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def funnel_chart(metrics: CampaignMetrics) -> dict[str, Any]:
    """Share → click → act → pay in the order they happen (not sorted: a share brings several clicks), each step
    labelled with its count and its rate from the step before."""
    data = [{"name": STEP_NAMES.get(s.step, s.step), "value": s.count,
             "label": {"formatter": f"{STEP_NAMES.get(s.step, s.step)} {s.count}"
                                    + ("" if s.rate is None else f"（{percent(s.rate)}）")}}
            for s in metrics.funnel]
    return {"title": _title("转化漏斗（括号内为相对上一步）"), "tooltip": {"trigger": "item"},
            "color": [BLUE, CYAN, GREEN, ORANGE],
            "series": [{"type": "funnel", "sort": "none", "top": 40, "bottom": 8, "left": "10%", "width": "80%",
                        "minSize": "12%", "gap": 2, "label": {"position": "inside", "color": "#fff"},
                        "data": data}]}


def generations_chart(metrics: CampaignMetrics) -> dict[str, Any]:
    gens = metrics.k_by_generation
    return {"title": _title("各代 K 值（每位分享者带来的新客户）"), "tooltip": {"trigger": "axis"},
            "legend": {"top": 0, "right": 0}, "grid": {"left": 48, "right": 48, "top": 72, "bottom": 28},
            "xAxis": {"type": "category", "data": [f"第 {g.depth + 1} 代" for g in gens]},
            "yAxis": [{"type": "value", "name": "K"}, {"type": "value", "name": "人", "minInterval": 1}],
            "series": [{"name": "K", "type": "bar", "itemStyle": {"color": BLUE},
                        "data": [None if g.k is None else round(g.k, 3) for g in gens]},
                       {"name": "分享者", "type": "line", "yAxisIndex": 1, "itemStyle": {"color": ORANGE},
                        "data": [g.sharers for g in gens]},
                       {"name": "带来的新客户", "type": "line", "yAxisIndex": 1, "itemStyle": {"color": GREEN},
                        "data": [g.new_customers for g in gens]}]}


def days_chart(series: Series) -> dict[str, Any]:
    points = series.points
    return {"title": _title("每日新客户与累计 K 值"), "tooltip": {"trigger": "axis"},
            "legend": {"top": 0, "right": 0}, "grid": {"left": 48, "right": 48, "top": 72, "bottom": 28},
            "xAxis": {"type": "category", "data": [p.start[5:] for p in points]},
            "yAxis": [{"type": "value", "name": "人", "minInterval": 1}, {"type": "value", "name": "K"}],
            "series": [{"name": "新客户", "type": "line", "symbolSize": 8, "areaStyle": {"opacity": 0.15},
                        "itemStyle": {"color": GREEN}, "data": [p.counts.new_customers for p in points]},
                       {"name": "累计 K 值", "type": "line", "symbolSize": 8, "yAxisIndex": 1,
                        "itemStyle": {"color": BLUE},
                        "data": [None if p.k_to_date is None else round(p.k_to_date, 3) for p in points]}]}


def depth_chart(metrics: CampaignMetrics) -> dict[str, Any]:
    depths = sorted(metrics.depth_distribution.items())
    return {"title": _title("传播层级分布（每层人数）"), "tooltip": {"trigger": "axis"},
            "legend": {"top": 0, "right": 0}, "grid": {"left": 56, "right": 16, "top": 56, "bottom": 28},
            "xAxis": {"type": "category", "data": ["发起人" if d == 0 else f"第 {d} 层" for d, _ in depths]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"name": "人数", "type": "bar", "itemStyle": {"color": BLUE}, "data": [n for _, n in depths]},
                       {"name": "其中新客户", "type": "bar", "itemStyle": {"color": GREEN},
                        "data": [metrics.new_by_depth.get(d, 0) for d, _ in depths]}]}


def _tree_chart(root: dict[str, Any], title: str) -> dict[str, Any]:
    return {"title": _title(title), "tooltip": {"trigger": "item", "triggerOn": "mousemove"},
            "series": [{"type": "tree", "data": [root], "top": 40, "left": 72, "bottom": 16, "right": 140,
                        "symbolSize": 9, "initialTreeDepth": 2, "expandAndCollapse": True, "roam": True,
                        "animationDuration": 300,
                        "label": {"position": "left", "verticalAlign": "middle", "align": "right", "fontSize": 12},
                        "leaves": {"label": {"position": "right", "verticalAlign": "middle", "align": "left"}}}]}


def whole_tree(links: list[tuple[int, int]], names: dict[int, str]) -> dict[str, Any]:
    """Every link of a small tree, under one node standing for the campaign (its roots are brought by no one)."""
    kids: dict[int, list[int]] = {}
    children = set()
    for parent, child in sorted(links):
        kids.setdefault(parent, []).append(child)
        children.add(child)

    def node(customer_id: int, seen: frozenset[int]) -> dict[str, Any]:
        under = [node(c, seen | {c}) for c in kids.get(customer_id, []) if c not in seen]
        words = names.get(customer_id, f"顾客 {customer_id}")
        return {"name": words, "value": len(under), "children": under,
                "tooltip": {"formatter": f"{words}：直接带来 {len(under)} 人"}}

    roots = sorted(set(kids) - children)
    return {"name": "活动", "children": [node(r, frozenset({r})) for r in roots],
            "tooltip": {"formatter": f"{len(roots)} 位发起人"}}


def first_level_tree(nodes: list[TreeNode], names: dict[int, str], campaign_id: int) -> dict[str, Any]:
    """A big tree's first level under its roots; a node with children carries the tree API's address for them,
    fetched when it is opened."""
    roots: dict[int, list[dict[str, Any]]] = {}
    for n in nodes:
        words = names.get(n.customer_id, f"顾客 {n.customer_id}")
        item: dict[str, Any] = {"name": words, "value": n.children, "tooltip": {"formatter": _node_words(n, words)}}
        if n.children:
            item.update(children=[], collapsed=True,
                        more=f"/api/v1/admin/analytics/campaigns/{campaign_id}/tree?parent_id={n.customer_id}")
        roots.setdefault(n.parent_id, []).append(item)
    return {"name": "活动", "children": [{"name": names.get(r, f"顾客 {r}"), "children": kids}
                                         for r, kids in sorted(roots.items())]}


def _node_words(n: TreeNode, words: str) -> str:
    paid = f"，支付 ¥{yuan(n.paid_fen)}" if n.paid_fen else ""
    refunded = f"，退款 ¥{yuan(n.refunded_fen)}" if n.refunded_fen else ""
    return (f"{words}：第 {n.depth} 层，{ACTION_NAMES.get(n.action, n.action)}{paid}{refunded}"
            f"{'，新客户' if n.is_new else ''}，带来 {n.children} 人")


def is_empty(metrics: CampaignMetrics) -> bool:
    return not any(metrics.counts.model_dump().values())


@router.get("/console/campaigns/{campaign_id}/analytics", response_class=HTMLResponse)
async def campaign_analytics(request: Request, console: ConsoleReader, session: ReplicaSessionDep, clock: ClockDep,
                             campaign_id: int) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    campaign = await campaigns.require(session, merchant_id, campaign_id)
    metrics = await analytics.campaign_metrics(session, merchant_id, campaign_id)
    context: dict[str, Any] = {"section": "/console/campaigns", "campaign": campaigns.out(campaign),
                               "kind_name": KIND_NAMES.get(campaign.kind, campaign.kind), "m": metrics,
                               "empty": is_empty(metrics), "pct": percent,
                               "step_names": STEP_NAMES}
    if not context["empty"]:
        days = await analytics.series(session, merchant_id, campaign_id, "day")
        top = await analytics.top_sharers(session, merchant_id, campaign_id, TOP)
        small = await analytics.tree_levels(session, merchant_id, campaign_id, TREE_DRAWN)
        first = [] if small else (await analytics.tree(session, merchant_id, campaign_id, None, None,
                                                       FIRST_LEVEL)).nodes
        people = [s.customer_id for s in top] + [c for link in (small[0] if small else []) for c in link] + \
            [c for n in first for c in (n.customer_id, n.parent_id)]
        names = {i: c.nickname for i, c in (await customers.summaries(session, merchant_id, people)).items()}
        charts: dict[str, Any] = {"funnel": funnel_chart(metrics), "days": days_chart(days)}
        if metrics.k_by_generation:
            charts["generations"] = generations_chart(metrics)
        if small and small[0]:
            charts["tree"] = _tree_chart(whole_tree(small[0], names), "传播树（点击节点展开或收起，可拖动缩放）")
        elif first:
            charts["depths"] = depth_chart(metrics)
            charts["tree"] = _tree_chart(first_level_tree(first, names, campaign_id),
                                         f"传播树的第一层（共 {sum(metrics.depth_distribution.values())} 人，"
                                         "点击节点载入下一层）")
        context.update(charts=charts, top=top, names=names, tree_links=small[1] if small else None,
                       tree_height=max(320, min(1200, 18 * (len(small[0]) if small else len(first)))))
    forecast = await simulation.forecast(session, merchant_id, campaign_id)
    if forecast is not None:
        hours = await analytics.series(session, merchant_id, campaign_id, "hour")
        context["forecast_chart"], context["forecast_words"] = forecast_vs_actual(
            forecast, hours, campaign.starts_at, campaign.ends_at, clock.now())
    return render(request, "console/campaign_analytics.html", console, context)


BEIJING = timedelta(hours=8)


def actual_by_day(hours: Series, starts_at: datetime, days: int) -> list[int]:
    """New customers counted in each 24 hours from the campaign's start, cumulated (the forecast's days are the same
    24-hour steps); what came before the start (early access) counts on day 1, what came after `days` not at all."""
    daily = [0] * days
    for point in hours.points:
        at = datetime.fromisoformat(point.start).replace(tzinfo=starts_at.tzinfo) - BEIJING
        day = max(0, int((at - starts_at) // timedelta(days=1)))
        if day < days:
            daily[day] += point.counts.new_customers
    total, out = 0, []
    for n in daily:
        total += n
        out.append(total)
    return out


def forecast_vs_actual(forecast: ForecastOut, hours: Series, starts_at: datetime, ends_at: datetime,
                       now: datetime) -> tuple[dict[str, Any], str]:
    """预测与实际: the stored forecast's cumulative new customers by day from launch (mean, and the 10–90 % band
    shaded) and the ones counted, over the days completed so far (all of them once the campaign has ended); and a
    sentence on whether the last completed day is within the band."""
    days = forecast.forecast.by_day
    elapsed = len(days) if now >= ends_at else max(0, min(len(days), int((now - starts_at) // timedelta(days=1))))
    actual = actual_by_day(hours, starts_at, len(days))[:elapsed]
    chart = {"title": _title("预测与实际：累计新客户（阴影为预测的 10%–90% 区间）"), "tooltip": {"trigger": "axis"},
             "legend": {"top": 24, "right": 0, "data": ["预测（平均）", "实际"]},
             "grid": {"left": 48, "right": 16, "top": 64, "bottom": 28},
             "xAxis": {"type": "category", "data": [f"第 {d.day} 天" for d in days]},
             "yAxis": {"type": "value", "name": "人", "minInterval": 1},
             "series": [{"name": "区间下限", "type": "line", "stack": "band", "symbol": "none",
                         "lineStyle": {"opacity": 0}, "tooltip": {"show": False},
                         "data": [d.cumulative_p10 for d in days]},
                        {"name": "10%–90% 区间", "type": "line", "stack": "band", "symbol": "none",
                         "lineStyle": {"opacity": 0}, "areaStyle": {"color": BLUE, "opacity": 0.18},
                         "data": [d.cumulative_p90 - d.cumulative_p10 for d in days]},
                        {"name": "预测（平均）", "type": "line", "itemStyle": {"color": BLUE},
                         "lineStyle": {"type": "dashed"}, "data": [round(d.cumulative_mean, 2) for d in days]},
                        {"name": "实际", "type": "line", "symbolSize": 8, "itemStyle": {"color": GREEN},
                         "data": actual + [None] * (len(days) - len(actual))}]}
    made = (forecast.made_at + BEIJING).strftime("%Y-%m-%d %H:%M")
    if not actual:
        return chart, f"预测保存于 {made}；活动上线满一天后，这里逐日对照实际新客户。"
    last, got = days[len(actual) - 1], actual[-1]
    band = f"预测的 10%–90% 区间（{last.cumulative_p10:g}–{last.cumulative_p90:g} 人）"
    where = "在" + band + "内" if last.cumulative_p10 <= got <= last.cumulative_p90 else \
        ("高于" if got > last.cumulative_p90 else "低于") + band
    return chart, f"截至第 {last.day} 天，实际累计新客户 {got} 人，{where}（预测保存于 {made}）。"


def comparison_chart(rows: list[CampaignSummary]) -> dict[str, Any] | None:
    """The merchant's measured campaigns side by side (the most new customers first, at most 12): new customers and
    K, bars on two axes."""
    rows = sorted(rows, key=lambda r: (-r.new_customers, r.campaign_id))[:12]
    if not rows:
        return None
    return {"title": _title("活动对比：新客户与 K 值"), "tooltip": {"trigger": "axis"},
            "legend": {"top": 0, "right": 0}, "grid": {"left": 48, "right": 48, "top": 72, "bottom": 56},
            "xAxis": {"type": "category", "data": [r.name if len(r.name) <= 8 else r.name[:7] + "…" for r in rows],
                      "axisLabel": {"interval": 0, "rotate": 20}},
            "yAxis": [{"type": "value", "name": "人", "minInterval": 1}, {"type": "value", "name": "K"}],
            "series": [{"name": "新客户", "type": "bar", "itemStyle": {"color": GREEN},
                        "data": [r.new_customers for r in rows]},
                       {"name": "K 值", "type": "bar", "yAxisIndex": 1, "itemStyle": {"color": BLUE},
                        "data": [None if r.k is None else round(r.k, 3) for r in rows]}]}
