"""A campaign's stored forecast (/admin/campaigns/{id}/forecast): saved from the campaign's own settings and the
assumptions sent, replaced while the campaign is a draft or paused, refused once it is live, one merchant's only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fissionmall.campaigns.models import Campaign
from fissionmall.simulation import service
from fissionmall.simulation.schemas import SimulationIn
from tests.support import Mall, problem

SENT = {"audience": 2000, "seeds": 5, "share_rate": 0.5, "friends_per_share": 6, "conversion": 0.2,
        "order_rate": 0.5, "cycle_hours": 12, "runs": 200, "seed": 11,
        "kind": "group", "group_size": 99, "window_hours": 1}
"""The simulator's whole form: kind, group size and window are the campaign's own, not these."""
SETTINGS = {"slots": 4, "reward_fen": 300, "budget": {"total_fen": 6000}}


async def _campaign(mall: Mall, status: str = "draft", kind: str = "share_coupon") -> int:
    now = mall.runtime.clock.now()
    async with mall.runtime.sessionmaker() as session:
        campaign = Campaign(merchant_id=mall.merchant_id, kind=kind, name="春季红包", status=status,
                            settings=SETTINGS, starts_at=now + timedelta(days=1),
                            ends_at=now + timedelta(days=4), created_at=now)
        session.add(campaign)
        await session.commit()
        return campaign.id


async def _set_status(mall: Mall, campaign_id: int, status: str) -> None:
    async with mall.runtime.sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        campaign.status = status
        await session.commit()


async def test_stored_from_the_campaigns_settings_and_read_back(mall: Mall) -> None:
    campaign_id = await _campaign(mall)
    headers = await mall.staff("owner")
    assert problem(await mall.client.get(f"/admin/campaigns/{campaign_id}/forecast", headers=headers),
                   404, "forecast_not_found")
    response = await mall.client.post(f"/admin/campaigns/{campaign_id}/forecast", headers=headers, json=SENT)
    assert response.status_code == 200, response.text
    saved = response.json()
    wanted = SimulationIn(kind="share_coupon", claims=4, reward_fen=300, budget_fen=6000, window_hours=72,
                          **{k: v for k, v in SENT.items() if k not in ("kind", "group_size", "window_hours")})
    assert saved["forecast"] == service.simulate(wanted).model_dump(mode="json")
    assert saved["campaign_id"] == campaign_id and len(saved["forecast"]["by_day"]) == 3
    read = await mall.client.get(f"/admin/campaigns/{campaign_id}/forecast", headers=await mall.staff("support"))
    assert read.status_code == 200 and read.json() == saved


async def test_replaced_while_draft_or_paused_refused_once_live(mall: Mall) -> None:
    campaign_id = await _campaign(mall)
    headers = await mall.staff("owner")
    url = f"/admin/campaigns/{campaign_id}/forecast"
    first = (await mall.client.post(url, headers=headers, json=SENT)).json()
    await _set_status(mall, campaign_id, "paused")
    second = await mall.client.post(url, headers=headers, json={**SENT, "conversion": 0.01})
    assert second.status_code == 200, second.text
    assert second.json()["forecast"]["inputs"]["conversion"] == 0.01 != first["forecast"]["inputs"]["conversion"]
    assert (await mall.client.get(url, headers=headers)).json() == second.json()
    for status in ("active", "ended"):
        await _set_status(mall, campaign_id, status)
        body = problem(await mall.client.post(url, headers=headers, json=SENT), 409, "forecast_after_launch")
        assert body["message"] == "活动已上线，预测以上线前保存的为准，不能再修改"
    assert (await mall.client.get(url, headers=headers)).json() == second.json()


async def test_left_out_assumptions_come_from_the_history_and_staff_need_catalog_write(mall: Mall) -> None:
    campaign_id = await _campaign(mall)
    url = f"/admin/campaigns/{campaign_id}/forecast"
    problem(await mall.client.post(url, headers=await mall.staff("support"), json=SENT), 403, "forbidden")
    saved = await mall.client.post(url, headers=await mall.staff("operator"), json={"runs": 100})
    assert saved.status_code == 200, saved.text
    inputs = saved.json()["forecast"]["inputs"]
    assert (inputs["seeds"], inputs["conversion"], inputs["runs"]) == (20, 0.05, 100)  # standard: no history


async def test_one_merchants_campaigns_only(mall: Mall, beta: Mall) -> None:
    campaign_id = await _campaign(mall)
    await mall.client.post(f"/admin/campaigns/{campaign_id}/forecast", headers=await mall.staff("owner"), json=SENT)
    other = await beta.staff("owner")
    problem(await beta.client.post(f"/admin/campaigns/{campaign_id}/forecast", headers=other, json=SENT),
            404, "campaign_not_found")
    problem(await beta.client.get(f"/admin/campaigns/{campaign_id}/forecast", headers=other),
            404, "campaign_not_found")


@pytest.mark.parametrize(("field", "value", "hint"), [
    ("share_rate", 1.5, "不能大于 1"), ("runs", 50, "不能小于 100"), ("seeds", "many", "请填写整数")])
async def test_bad_assumptions_answer_422_naming_the_field(mall: Mall, field: str, value: object,
                                                           hint: str) -> None:
    campaign_id = await _campaign(mall)
    response = await mall.client.post(f"/admin/campaigns/{campaign_id}/forecast",
                                      headers=await mall.staff("owner"), json={**SENT, field: value})
    body = problem(response, 422, "invalid_request")
    assert [(e["field"], e["hint"]) for e in body["errors"]] == [(field, hint)]


async def test_campaigns_that_do_not_spread_are_refused(mall: Mall) -> None:
    campaign_id = await _campaign(mall, kind="gift_card")
    problem(await mall.client.post(f"/admin/campaigns/{campaign_id}/forecast", headers=await mall.staff("owner"),
                                   json=SENT), 422, "forecast_kind_not_simulated")
