"""The dividend pool's pay day "last" (月末): the real last day of each month (Feb 28 or 29, 30, 31), counted in
China Standard Time; the worker pays last month's pool on it and not a minute before; old day numbers stay valid and
anything else is refused on the field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from fissionmall.loyalty.rules import CST, pay_date, pay_day_due
from tests.distribution.test_commissions import buy, join
from tests.loyalty.test_my_dividend import PLAN, plan, standing
from tests.support import LONG_TOKEN_TTL_SECONDS, problem, rows

staff = pytest.mark.usefixtures("signed_staff_tokens")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


@pytest.mark.backend_free
@pytest.mark.parametrize(("month", "last"), [("2027-01", 31), ("2027-02", 28), ("2028-02", 29), ("2027-04", 30),
                                             ("2027-12", 31), ("2100-02", 28), ("2000-02", 29)])
def test_the_last_day_is_the_months_real_last_day(month: str, last: int) -> None:
    year, number = int(month[:4]), int(month[5:])
    assert pay_date(month, "last") == date(year, number, last)
    assert pay_date(month, 5) == date(year, number, 5)


@pytest.mark.backend_free
@pytest.mark.parametrize("last_day", [date(2027, 2, 28), date(2028, 2, 29), date(2027, 4, 30), date(2027, 3, 31)])
def test_the_pay_day_comes_at_midnight_china_time_of_the_last_day(last_day: date) -> None:
    midnight = datetime(last_day.year, last_day.month, last_day.day, tzinfo=CST).astimezone(UTC)
    assert not pay_day_due(midnight - timedelta(seconds=1), "last")
    assert pay_day_due(midnight, "last")
    assert not pay_day_due(midnight - timedelta(days=1), "last")  # the 27th, 28th or 29th before it is no pay day


@staff
async def test_pay_day_last_is_saved_shown_and_old_days_stay_valid(mall):
    owner = await mall.staff()
    saved = await mall.client.put("/admin/dividend", headers=owner, json={**PLAN, "pay_day": "last"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["pay_day"] == "last"
    assert (await mall.client.get("/admin/dividend", headers=owner)).json()["pay_day"] == "last"
    assert await rows(mall.runtime, "SELECT pay_day, pay_on_last_day FROM dividend_plans") == [(28, True)]
    ana = await join(mall, "ana", distributor=False)
    mine = await standing(mall, ana.who)  # January 2026: its pool is paid on 28 February
    assert (mine["pay_day"], mine["pay_date"]) == ("last", "2026-02-28")
    assert "次月最后一天（月末）按分红积分比例发放" in mine["rules"][0]

    await plan(mall, pay_day=28)
    assert (await mall.client.get("/admin/dividend", headers=owner)).json()["pay_day"] == 28
    assert await rows(mall.runtime, "SELECT pay_day, pay_on_last_day FROM dividend_plans") == [(28, False)]


@staff
@pytest.mark.parametrize("wrong", [0, 29, 31, "end", "31", None, True, -1])
async def test_a_pay_day_that_is_neither_1_to_28_nor_last_is_refused_on_the_field(mall, wrong: Any):
    await plan(mall, pay_day=3)
    refused = await mall.client.put("/admin/dividend", headers=await mall.staff(), json={**PLAN, "pay_day": wrong})
    body = problem(refused, 422, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["pay_day"], body
    assert (await mall.client.get("/admin/dividend", headers=await mall.staff())).json()["pay_day"] == 3


@staff
async def test_the_worker_pays_januarys_pool_on_the_28th_of_february_not_before(mall):
    """The clock starts on 1 January 2026: ana spends 6,000 in January; on 27 February (the 27th is a pay day of
    nothing) the worker waits; at midnight China time of the 28th it computes and credits January's pool."""
    await plan(mall, pay_day="last", threshold_points=0)
    ana = await join(mall, "ana", distributor=False)
    await buy(mall, ana, quantity=6)
    clock = mall.runtime.clock
    last_day = datetime(2026, 2, 28, tzinfo=CST).astimezone(UTC)
    clock.advance(seconds=(last_day - clock.now()).total_seconds() - 1)
    await mall.work()
    assert await rows(mall.runtime, "SELECT month FROM dividend_runs") == []

    clock.advance(seconds=1)
    await mall.work()
    assert await rows(mall.runtime, "SELECT month, pool_fen, status FROM dividend_runs") == [
        ("2026-01", 300, "credited")]
    assert (await standing(mall, ana.who))["shares"] == [
        {"month": "2026-01", "spend_fen": 6000, "points": 30, "amount_fen": 300, "credited": True}]
