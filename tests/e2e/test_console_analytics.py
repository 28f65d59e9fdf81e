"""数据分析 in a desktop browser: a group of three filled through a shared link (the leader shares, two friends open
the link, join and pay: two new customers), folded by the server's embedded worker; the dashboard compares the
campaigns and the campaign's analytics page draws its charts (canvas) with the figures the analytics API answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SHOP, StaffDesk, check_out_and_pay, live_campaign
from tests.e2e.test_journey_group import quiet_product, share_link

pytestmark = pytest.mark.backend_free


def duration(seconds: int) -> str:
    """As the console writes a period (core.durations.chinese_duration), for the cycle times."""
    parts = [(seconds // 86400, "天"), (seconds % 86400 // 3600, "小时"), (seconds % 3600 // 60, "分钟"),
             (seconds % 60, "秒")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 秒"


async def fission(server: str, people: Callable[..., Awaitable[Any]]) -> int:
    """A group campaign of three, filled as in the group journey: its id."""
    product = await quiet_product(server)
    sku = product["skus"][0]
    campaign_id = await live_campaign(server, "group", "脐橙三人团 · 春季", {
        "product_id": product["id"], "group_size": 3, "skus": [{"sku_id": sku["id"], "group_price_fen": 990}]})
    leader = await people("阿杰")
    page = await leader.open(f"/m/{SHOP}/products/{product['id']}")
    await page.click("text=发起拼团")
    await check_out_and_pay(leader)
    await page.click("text=邀请好友参团")
    await page.wait_for_url("**/groups/*")
    link = await share_link(page, "邀请好友参团")
    for name in ("阿玲", "阿伟"):
        friend = await people(name, signed_in=False)
        landing = await friend.open(link)
        await landing.click("text=参团 ¥9.90")
        await landing.wait_for_url("**/login**")
        await friend.sign_in()
        await check_out_and_pay(friend)
    return campaign_id


async def folded(owner: StaffDesk, campaign_id: int) -> dict[str, Any]:
    """Poll the analytics API until the worker has folded the campaign's events (it leaves the last five seconds'
    events for its next pass): the campaign's metrics."""
    for _ in range(120):
        m: dict[str, Any] = await owner.api("GET", f"/admin/analytics/campaigns/{campaign_id}")
        if m["counts"]["new_customers"] == 2 and m["counts"]["orders"] == 3:
            return m
        await asyncio.sleep(0.5)
    raise AssertionError(f"the worker did not fold the group's events within a minute: {m['counts']}")


async def test_the_owner_reads_a_campaigns_analytics(server: str, people: Callable[..., Awaitable[Any]],
                                                     staff: Callable[[str], Awaitable[StaffDesk]], shots: Path) -> None:
    campaign_id = await fission(server, people)
    owner = await staff("owner")
    m = await folded(owner, campaign_id)

    page = await owner.open("/console")
    await page.wait_for_selector(".compared .chart canvas")
    assert await page.locator(".chart canvas").count() == await page.locator(".chart").count() == 5

    page = await owner.open(f"/console/campaigns/{campaign_id}")
    async with page.expect_navigation():
        await page.click("a.btn:has-text('数据分析')")
    assert page.url.endswith(f"/console/campaigns/{campaign_id}/analytics")
    await page.wait_for_selector(".tree-chart .chart canvas")
    charts = await page.locator(".chart").count()
    assert charts >= 3 and await page.locator(".chart canvas").count() == charts

    assert m == await owner.api("GET", f"/admin/analytics/campaigns/{campaign_id}")  # nothing new since
    c = m["counts"]

    async def figure(name: str) -> str:
        return (await page.locator(f'[data-figure="{name}"]').inner_text()).strip()

    assert await figure("new_customers") == str(c["new_customers"]) == "2"
    assert await figure("k") == (f"{m['k']:.2f}" if m["k"] is not None else "—")
    assert await figure("net_paid") == f"¥{c['net_paid_fen'] / 100:.2f}"
    assert await figure("refunded") == f"{c['refunded_fen'] / 100:.2f}"
    assert await figure("cost") == f"{c['cost_fen'] / 100:.2f}"
    per_new = m["cost_per_new_customer_fen"]
    assert await figure("cost_per_new") == (f"¥{per_new / 100:.2f}" if per_new is not None else "—")
    hop = m["beyond_first_hop"]
    assert await figure("beyond_first_hop") == (f"{hop * 100:.1f}%" if hop is not None else "—")
    median = m["cycle_median_seconds"]
    assert await figure("cycle_median") == (duration(median) if median is not None else "—")
    steps = {s["step"]: s["count"] for s in m["funnel"]}
    for step, count in steps.items():
        assert (await page.locator(f'td[data-step="{step}"]').inner_text()).split()[0] == str(count)
    top = await owner.api("GET", f"/admin/analytics/campaigns/{campaign_id}/top-sharers")
    assert await page.locator("table.top-sharers tbody tr").count() == max(1, len(top))
    await owner.shot(shots, "console-analytics")
    assert owner.refused == []
