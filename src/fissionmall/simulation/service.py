"""The simulator's use cases: defaults from the merchant's past campaigns of a kind, and a forecast."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import service as campaigns
from fissionmall.sharing import service as sharing
from fissionmall.simulation import rules
from fissionmall.simulation.schemas import Assumptions, DefaultsFrom, DefaultsOut, SimulationIn, SimulationOut

STANDARD = Assumptions()
MIN_HISTORY = 5
"""New customers a history needs before its rates replace the standard ones."""
ASSUMPTIONS = tuple(Assumptions.model_fields)


async def defaults(session: AsyncSession, merchant_id: int, kind: str) -> DefaultsOut:
    """The merchant's past campaigns of the kind, read as simple counts of their shares and of the customers who
    arrived through them (customers.acquired_by_share_id): seeds = first sharers per campaign (those who did not
    arrive through a share); share rate = brought customers who shared on / brought customers; conversion =
    brought customers / (shares × friends per share). The rest stays standard."""
    past = [c for c in await campaigns.list_campaigns(session, merchant_id, kind) if c.status != "draft"]
    made, sharers, brought, passed_on = await sharing.reach_of(session, merchant_id, [c.id for c in past])
    values: dict[str, Any] = STANDARD.model_dump()
    used: list[str] = []
    if past and sharers:
        values["seeds"] = max(1, min(rules.MAX_SEEDS, round((sharers - passed_on) / len(past))))
        used.append("seeds")
    if brought >= MIN_HISTORY:
        values["share_rate"] = round(passed_on / brought, 3)
        values["conversion"] = round(min(1.0, brought / (made * STANDARD.friends_per_share)), 4)
        used += ["share_rate", "conversion"]
    return DefaultsOut(assumptions=Assumptions(**values),
                       defaults_from=DefaultsFrom(campaigns=len(past), shares=made, new_customers=brought, used=used))


async def with_defaults(session: AsyncSession, merchant_id: int, body: SimulationIn) -> SimulationIn:
    """The assumptions the request left out, from the merchant's history of the kind."""
    missing = [name for name in ASSUMPTIONS if name not in body.model_fields_set]
    if not missing:
        return body
    known = (await defaults(session, merchant_id, body.kind)).assumptions
    return body.model_copy(update={name: getattr(known, name) for name in missing})


def model_of(body: SimulationIn) -> rules.Model:
    shape = rules.kind_shape(body.kind, body.group_size, body.helps_needed, body.claims)
    return rules.Model(
        runs=rules.runs_within_budget(body.runs, body.seeds), seed=body.seed, seeds=body.seeds,
        share_rate=body.share_rate,
        friends_mean=body.friends_per_share, conversion=body.conversion, audience=body.audience,
        per_share_cap=shape.per_share_cap, goal=shape.goal, orders_on_goal=shape.orders_on_goal,
        order_rate=body.order_rate if shape.orders_by_friends else 0.0, reward_fen=body.reward_fen,
        budget_fen=body.budget_fen, cycle_hours=body.cycle_hours, window_hours=body.window_hours)


def simulate(body: SimulationIn, progress: rules.Progress | None = None) -> SimulationOut:
    """CPU only (about a second at the caps): callers on the event loop run it in a worker thread."""
    model = model_of(body)
    answer = rules.summary(rules.simulate(model, progress))
    caps = answer["caps"]
    caps["runs_asked"], caps["note"] = body.runs, ""
    if model.runs < body.runs:
        caps["hit"] = True
        caps["note"] = f"首批参与人数较多，模拟次数减为 {model.runs} 次。"
    if caps["hit"] and (caps["runs_capped_by_cascade"] or caps["runs_capped_by_generations"]):
        caps["note"] += (f"{caps['runs_capped_by_cascade']} 次模拟达到每次 {caps['cascade_cap']} 人的上限，"
                         f"{caps['runs_capped_by_generations']} 次达到 {caps['generation_cap']} 代的上限：结果是下限")
    elif caps["supercritical"]:
        caps["note"] += "R ≥ 1：传播可能不会自行停止，结果受受众规模、时间窗口和上限约束"
    return SimulationOut(inputs=body, **answer)
