"""The console's front page: today and the last 30 days at a glance (sales, paid orders, new customers and how many
came through a share, refunds, live campaigns), drawn as charts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fissionmall.analytics import service as analytics
from fissionmall.campaigns import service as campaigns
from fissionmall.core.deps import ClockDep, SessionDep
from fissionmall.core.money import yuan
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers import service as customers
from fissionmall.orders import service as orders
from fissionmall.web.console.analytics import comparison_chart
from fissionmall.web.console.nav import KIND_NAMES
from fissionmall.web.console.session import ConsoleReader, render
from fissionmall.web.templating import BEIJING

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

DAYS = 30
BLUE, GREEN, ORANGE, RED = "#1664ff", "#00b42a", "#ff7d00", "#f53f3f"


def _series(rows: list[tuple[str, int, int]], days: list[str]) -> tuple[list[int], list[int]]:
    by_day = {day: (n, amount) for day, n, amount in rows}
    return [by_day.get(d, (0, 0))[0] for d in days], [by_day.get(d, (0, 0))[1] for d in days]


def _bars(title: str, days: list[str], series: list[dict[str, Any]], *, money: bool = False) -> dict[str, Any]:
    """An ECharts option: one bar or line series per entry, days along the bottom (amounts already in yuan)."""
    return {"title": {"text": title, "left": 0, "textStyle": {"fontSize": 14}},
            "tooltip": {"trigger": "axis"}, "legend": {"top": 0, "right": 0},
            "grid": {"left": 56, "right": 16, "top": 56, "bottom": 28},
            "xAxis": {"type": "category", "data": [d[5:] for d in days]},
            "yAxis": {"type": "value", "minInterval": 0 if money else 1},
            "series": series}


def dashboard_facts(today: date, sales: list[tuple[str, int, int]], refunds: list[tuple[str, int, int]],
                    signups: list[tuple[str, int, int]], live: dict[str, int]) -> dict[str, Any]:
    days = [(today - timedelta(days=DAYS - 1 - i)).isoformat() for i in range(DAYS)]
    paid_orders, paid_fen = _series(sales, days)
    refund_count, refund_fen = _series(refunds, days)
    new, via_share = _series(signups, days)
    to_yuan = [float(yuan(fen)) for fen in paid_fen]
    refunds_yuan = [float(yuan(fen)) for fen in refund_fen]
    return {
        "today": {"paid_fen": paid_fen[-1], "paid_orders": paid_orders[-1], "new": new[-1], "via_share": via_share[-1],
                  "refund_fen": refund_fen[-1], "refunds": refund_count[-1]},
        "month": {"paid_fen": sum(paid_fen), "paid_orders": sum(paid_orders), "new": sum(new),
                  "via_share": sum(via_share), "refund_fen": sum(refund_fen), "refunds": sum(refund_count)},
        "live": sum(live.values()),
        "charts": {
            "sales": _bars("近 30 天销售额与退款（元）", days, [
                {"name": "销售额", "type": "bar", "data": to_yuan, "itemStyle": {"color": BLUE}},
                {"name": "退款", "type": "bar", "data": refunds_yuan, "itemStyle": {"color": RED}}], money=True),
            "orders": _bars("近 30 天支付订单", days, [
                {"name": "支付订单", "type": "line", "data": paid_orders, "areaStyle": {"opacity": 0.15},
                 "itemStyle": {"color": BLUE}}]),
            "customers": _bars("近 30 天新客户", days, [
                {"name": "分享带来", "type": "bar", "stack": "new", "data": via_share, "itemStyle": {"color": GREEN}},
                {"name": "其他渠道", "type": "bar", "stack": "new", "data": [n - s for n, s in zip(new, via_share,
                                                                                           strict=True)],
                 "itemStyle": {"color": ORANGE}}]),
            "campaigns": {"title": {"text": "进行中的活动", "left": 0, "textStyle": {"fontSize": 14}},
                          "tooltip": {"trigger": "item"},
                          "series": [{"type": "pie", "radius": ["40%", "68%"], "top": 24,
                                      "data": [{"name": KIND_NAMES.get(kind, kind), "value": n}
                                               for kind, n in sorted(live.items())]}]},
        },
    }


@router.get("/console", response_class=HTMLResponse)
async def dashboard(request: Request, console: ConsoleReader, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    now = clock.now()
    today = now.astimezone(BEIJING).date()
    since = datetime.combine(today - timedelta(days=DAYS - 1), datetime.min.time(), BEIJING)
    merchant_id = console.staff.merchant_id
    sales, refunds = await orders.trade_by_day(session, merchant_id, since)
    facts = dashboard_facts(today, sales, refunds, await customers.signups_by_day(session, merchant_id, since),
                            await campaigns.live_by_kind(session, merchant_id))
    facts["charts"]["compared"] = comparison_chart(await analytics.compare(session, merchant_id))
    return render(request, "console/dashboard.html", console, {"section": "/console", "facts": facts})
