"""POST /admin/simulations: bad inputs answer 422 naming the field (with Chinese hints), any staff may ask, the answer
on a small seeded case is the simulator's own, and left-out assumptions come from the merchant's past campaigns."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fissionmall.campaigns.models import Campaign
from fissionmall.customers.models import Customer
from fissionmall.sharing.models import Share
from fissionmall.simulation import service
from fissionmall.simulation.schemas import SimulationIn
from tests.support import Mall, problem

SMALL = {"kind": "invite", "audience": 2000, "seeds": 5, "share_rate": 0.5, "friends_per_share": 6,
         "conversion": 0.2, "order_rate": 0.5, "cycle_hours": 12, "claims": 10, "reward_fen": 500,
         "budget_fen": 5000, "window_hours": 72, "runs": 200, "seed": 11}


@pytest.mark.parametrize(("field", "value", "hint"), [
    ("share_rate", -0.1, "不能小于 0"), ("conversion", 1.5, "不能大于 1"), ("audience", 0, "不能小于 1"),
    ("runs", 50, "不能小于 100"), ("runs", 1_000_000, "不能大于 20000"), ("order_rate", "many", "请填写数字"),
    ("kind", "gift", "请从给出的选项中选择"), ("friends_per_share", 0, "必须大于 0")])
async def test_inputs_out_of_range_answer_422_naming_the_field(mall: Mall, field: str, value: object,
                                                               hint: str) -> None:
    response = await mall.client.post("/admin/simulations", headers=await mall.staff("support"),
                                      json={**SMALL, field: value})
    body = problem(response, 422, "invalid_request")
    assert [(e["field"], e["hint"]) for e in body["errors"]] == [(field, hint)]


async def test_any_staff_gets_the_seeded_answer(mall: Mall) -> None:
    response = await mall.client.post("/admin/simulations", headers=await mall.staff("support"), json=SMALL)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == service.simulate(SimulationIn(**SMALL)).model_dump(mode="json")
    assert answer["runs"] == 200 and len(answer["by_day"]) == 3
    # the budget buys 10 new customers at 5 yuan: no run spends more, and a run that ran out spent all of it
    assert answer["budget_spent_fen"]["p90"] <= 5000 and answer["new_customers"]["p90"] <= 10 + 0
    assert 0 <= answer["p_fizzle"] <= 1 and answer["cascade"]["q50"] <= answer["cascade"]["q99"]
    assert abs(sum(bar["share"] for bar in answer["cascade"]["histogram"]) - 1) < 1e-9
    again = await mall.client.post("/admin/simulations", headers=await mall.staff("owner"), json=SMALL)
    assert again.json() == answer
    assert (await mall.client.post("/admin/simulations", json=SMALL)).status_code == 401


async def test_left_out_assumptions_come_from_past_campaigns_of_the_kind(mall: Mall) -> None:
    headers = await mall.staff("owner")
    standard = (await mall.client.get("/admin/simulations/defaults?kind=invite", headers=headers)).json()
    assert standard["defaults_from"] == {"campaigns": 0, "shares": 0, "new_customers": 0, "used": []}
    now = mall.runtime.clock.now()
    async with mall.runtime.sessionmaker() as session:
        campaign = Campaign(merchant_id=mall.merchant_id, kind="invite", name="past", status="ended", settings={},
                            starts_at=now - timedelta(days=30), ends_at=now - timedelta(days=20),
                            created_at=now - timedelta(days=31))
        session.add(campaign)
        first = [Customer(merchant_id=mall.merchant_id, openid=f"first-{i}", created_at=now) for i in range(2)]
        session.add_all(first)
        await session.flush()
        shares = [Share(merchant_id=mall.merchant_id, sharer_id=c.id, target_type="invite", target_id=campaign.id,
                        campaign_id=campaign.id, depth=0, created_at=now) for c in first]
        session.add_all(shares)
        await session.flush()
        # 10 customers arrived through the two shares; 3 of them shared on (3 more shares, bringing nobody)
        brought = [Customer(merchant_id=mall.merchant_id, openid=f"brought-{i}", created_at=now, depth=1,
                            acquired_by_share_id=shares[i % 2].id) for i in range(10)]
        session.add_all(brought)
        await session.flush()
        session.add_all([Share(merchant_id=mall.merchant_id, sharer_id=c.id, target_type="invite",
                               target_id=campaign.id, campaign_id=campaign.id, depth=1, created_at=now)
                         for c in brought[:3]])
        await session.commit()
    known = (await mall.client.get("/admin/simulations/defaults?kind=invite", headers=headers)).json()
    assert known["defaults_from"] == {"campaigns": 1, "shares": 5, "new_customers": 10,
                                      "used": ["seeds", "share_rate", "conversion"]}
    # seeds: 5 sharers − 3 who arrived through a share = 2; share rate 3/10; conversion 10 / (5 shares × 8 friends)
    assumptions = known["assumptions"]
    assert (assumptions["seeds"], assumptions["share_rate"], assumptions["conversion"]) == (2, 0.3, 0.25)
    # a group campaign's history is not an invite's
    other = (await mall.client.get("/admin/simulations/defaults?kind=group", headers=headers)).json()
    assert other["defaults_from"]["campaigns"] == 0
    # the forecast takes them where the request leaves them out, and keeps what it was sent
    body = {k: v for k, v in SMALL.items() if k not in ("seeds", "share_rate", "conversion")}
    answer = (await mall.client.post("/admin/simulations", headers=headers, json={**body, "audience": 3000})).json()
    assert (answer["inputs"]["seeds"], answer["inputs"]["share_rate"], answer["inputs"]["conversion"],
            answer["inputs"]["audience"]) == (2, 0.3, 0.25, 3000)


@pytest.mark.backend_free
def test_many_seeds_make_fewer_runs_and_the_answer_says_so() -> None:
    """runs × seeds is bounded (rules.NODE_BUDGET // 4): 1,000 seeds allow 500 runs."""
    answer = service.simulate(SimulationIn(**{**SMALL, "seeds": 1000, "runs": 20_000}))
    assert (answer.runs, answer.caps.runs_asked, answer.caps.hit) == (500, 20_000, True)
    assert "模拟次数减为 500 次" in answer.caps.note
