"""The simulator's use cases: defaults from the merchant's past campaigns of a kind, and a forecast."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

import anyio
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns.models import Campaign
from fissionmall.core.errors import Conflict, InvalidInput, NotFound
from fissionmall.sharing import service as sharing
from fissionmall.simulation import repository, rules
from fissionmall.simulation.models import CampaignForecast
from fissionmall.simulation.schemas import (
    Assumptions,
    DefaultsFrom,
    DefaultsOut,
    ForecastIn,
    ForecastOut,
    SimulatedKind,
    SimulationIn,
    SimulationOut,
)

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


KINDS: tuple[str, ...] = get_args(SimulatedKind)
FORECAST_OPEN = ("draft", "paused")
"""A campaign's forecast may be saved (or replaced) only in these states: once live, the one made before launch is
what its results are compared with."""


def from_campaign(campaign: Campaign) -> dict[str, Any]:
    """The simulator's own settings read from a campaign's: its group size, helps, packet slots or friends per
    inviter, its reward and budget, its time window (starts_at to ends_at)."""
    settings = campaign.settings
    hours = int((campaign.ends_at - campaign.starts_at).total_seconds() // 3600)
    values: dict[str, Any] = {"window_hours": max(1, min(hours, rules.MAX_DAYS * 24))}
    if "group_size" in settings:
        values["group_size"] = settings["group_size"]
    for key in ("helps_needed", "helpers_needed"):
        if key in settings:
            values["helps_needed"] = settings[key]
    for key in ("slots", "max_friends"):
        if key in settings:
            values["claims"] = settings[key]
    if "reward_fen" in settings:
        values["reward_fen"] = settings["reward_fen"]
    budget = settings.get("budget") or settings.get("reward_budget")
    if isinstance(budget, dict) and budget.get("total_fen"):
        values["budget_fen"] = budget["total_fen"]
    return values


def _forecast_out(row: CampaignForecast) -> ForecastOut:
    return ForecastOut(campaign_id=row.campaign_id, made_at=row.made_at, made_by=row.made_by,
                       forecast=SimulationOut.model_validate(row.answer))


async def save_forecast(session: AsyncSession, merchant_id: int, campaign_id: int, staff_id: int, body: ForecastIn,
                        now: datetime) -> ForecastOut:
    """Run the simulator on the campaign's own settings and the posted assumptions (those left out from the
    merchant's history of the kind) and keep the answer as the campaign's forecast, in place of an earlier one."""
    campaign = await campaigns.require(session, merchant_id, campaign_id)
    if campaign.kind not in KINDS:
        raise InvalidInput("forecast_kind_not_simulated", f"campaigns of kind {campaign.kind} do not spread")
    if campaign.status not in FORECAST_OPEN:
        raise Conflict("forecast_after_launch", f"campaign {campaign_id} is {campaign.status}")
    posted = body.model_dump(include=body.model_fields_set)
    try:  # the assumptions left out stay unset, for with_defaults to fill
        wanted = SimulationIn(kind=campaign.kind, **from_campaign(campaign), **posted)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise InvalidInput("forecast_settings_out_of_range",
                           f"the campaign's settings are beyond the simulator's: {exc.errors()[0]['loc']}") from exc
    filled = await with_defaults(session, merchant_id, wanted)
    answer = await anyio.to_thread.run_sync(simulate, filled)
    row = await repository.store(session, merchant_id, campaign_id, now, staff_id,
                                 filled.model_dump(mode="json"), answer.model_dump(mode="json"))
    return _forecast_out(row)


async def forecast(session: AsyncSession, merchant_id: int, campaign_id: int) -> ForecastOut | None:
    row = await repository.forecast(session, merchant_id, campaign_id)
    return None if row is None else _forecast_out(row)


async def require_forecast(session: AsyncSession, merchant_id: int, campaign_id: int) -> ForecastOut:
    await campaigns.require(session, merchant_id, campaign_id)
    found = await forecast(session, merchant_id, campaign_id)
    if found is None:
        raise NotFound("forecast_not_found", f"campaign {campaign_id} has no forecast")
    return found
