"""The member's side of the dividend pool (GET /dividend/me): where the merchant's plan is switched on, this month's
own net spend (refunds deducted, other members' spending never counted), the activity level and dividend points it
reaches, what the next level needs, and the shares of past months once a run is computed."""

from __future__ import annotations

from typing import Any

import pytest

from fissionmall.loyalty.rules import activity_level, month_of, next_month, pay_date, previous_month
from tests.distribution.test_commissions import buy, join, refund
from tests.support import LONG_TOKEN_TTL_SECONDS, Mall, Who, problem

staff = pytest.mark.usefixtures("signed_staff_tokens")
"""Signed staff tokens for the tests that use the database (the others are backend-free)."""

PLAN: dict[str, Any] = {"enabled": True, "pool_bp": 500, "threshold_points": 10, "pay_day": 5,
                        "levels": [{"min_spend_fen": 2000, "points": 10}, {"min_spend_fen": 5000, "points": 30}]}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the month these tests move the clock by."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


async def plan(mall: Mall, **changes: Any) -> None:
    response = await mall.client.put("/admin/dividend", headers=await mall.staff(), json={**PLAN, **changes})
    assert response.status_code == 200, response.text


async def standing(mall: Mall, who: Who) -> dict[str, Any]:
    response = await mall.client.get("/dividend/me", headers=who)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.backend_free
def test_the_activity_level_is_the_highest_reached_by_own_spend() -> None:
    levels = [(2000, 10), (5000, 30)]
    assert [activity_level(levels, spend) for spend in (0, 1999, 2000, 4999, 5000, 10**9)] == [0, 0, 1, 1, 2, 2]


@staff
async def test_without_a_live_plan_there_is_no_dividend(mall):
    ana = await join(mall, "ana", distributor=False)
    problem(await mall.client.get("/dividend/me", headers=ana.who), 404, "dividend_not_configured")
    await plan(mall, enabled=False)
    problem(await mall.client.get("/dividend/me", headers=ana.who), 404, "dividend_not_configured")


@staff
async def test_a_member_sees_this_months_level_and_points_from_own_spend_only(mall):
    await plan(mall)
    ana = await join(mall, "ana", distributor=False)
    ben = await join(mall, "ben", distributor=False)
    await buy(mall, ben, quantity=9)  # someone else's spending counts for nothing of ana's
    month = month_of(mall.runtime.clock.now())

    first = await standing(mall, ana.who)
    assert {key: value for key, value in first.items() if key not in ("pay_date", "rules")} == {
        "month": month, "spend_fen": 0, "level": 0, "points": 0, "next_points": 10, "next_needs_fen": 2000,
        "threshold_points": 10, "qualified": False, "pool_bp": 500, "pay_day": 5, "shares": []}
    assert first["pay_date"] == pay_date(next_month(month), 5).isoformat()
    assert first["rules"][0] == ("每月拿出当月净销售额的 5% 作为分红池，次月 5 日按分红积分比例发放到钱包余额，"
                                 "精确到分。")
    assert first["rules"][2] == "当月分红积分达到 10 分即可参与分配。"

    order_id = await buy(mall, ana, quantity=3)  # 3 × 1000
    mid = await standing(mall, ana.who)
    assert (mid["spend_fen"], mid["level"], mid["points"], mid["next_points"], mid["next_needs_fen"],
            mid["qualified"]) == (3000, 1, 10, 30, 2000, True)

    await refund(mall, order_id, 1500)
    after = await standing(mall, ana.who)
    assert (after["spend_fen"], after["level"], after["points"]) == (1500, 0, 0)

    top = await standing(mall, ben.who)
    assert (top["spend_fen"], top["level"], top["points"], top["next_points"], top["next_needs_fen"]) == (
        9000, 2, 30, None, None)


@staff
async def test_past_months_shares_are_listed_once_computed(mall):
    await plan(mall)
    ana = await join(mall, "ana", distributor=False)
    await buy(mall, ana, quantity=6)
    clock = mall.runtime.clock
    clock.advance(days=32)
    month = previous_month(clock.now())
    response = await mall.client.post("/admin/dividend/runs", headers=await mall.staff(), json={"month": month})
    assert response.status_code == 201, response.text

    mine = await standing(mall, ana.who)
    assert mine["shares"] == [{"month": month, "spend_fen": 6000, "points": 30, "amount_fen": 300, "credited": False}]
    await mall.work()
    assert (await standing(mall, ana.who))["shares"][0]["credited"] is True
    assert (mine["spend_fen"], mine["level"]) == (0, 0)
