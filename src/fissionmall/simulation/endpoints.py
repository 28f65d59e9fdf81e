"""POST /admin/simulations: a campaign's forecast before it goes live (any staff may ask); a campaign's stored
forecast at /admin/campaigns/{id}/forecast (saved by staff who may edit campaigns)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from fissionmall.core.audit import WRITES_NOTHING
from fissionmall.core.deps import CatalogWriter, ClockDep, OrdersReader, SessionDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.simulation import service
from fissionmall.simulation.schemas import (
    DefaultsOut,
    ForecastIn,
    ForecastOut,
    SimulatedKind,
    SimulationIn,
    SimulationOut,
)

admin = APIRouter(route_class=TransactionalRoute, tags=["admin: simulations"], prefix="/admin/simulations")


@admin.post("", response_model=SimulationOut, dependencies=[WRITES_NOTHING])
async def simulate(body: SimulationIn, staff: OrdersReader, session: SessionDep) -> SimulationOut:
    """Assumptions left out are taken from the merchant's past campaigns of the kind (standard values without)."""
    filled = await service.with_defaults(session, staff.merchant_id, body)
    return await anyio.to_thread.run_sync(service.simulate, filled)


@admin.get("/defaults", response_model=DefaultsOut)
async def defaults(kind: SimulatedKind, staff: OrdersReader, session: SessionDep) -> DefaultsOut:
    return await service.defaults(session, staff.merchant_id, kind)


forecasts = APIRouter(route_class=TransactionalRoute, tags=["admin: simulations"], prefix="/admin/campaigns")


@forecasts.post("/{campaign_id}/forecast", response_model=ForecastOut)
async def save_forecast(campaign_id: int, body: ForecastIn, staff: CatalogWriter, session: SessionDep,
                        clock: ClockDep) -> ForecastOut:
    """The campaign's forecast, from its own settings and the assumptions sent; replaces an earlier one while the
    campaign is a draft or paused, refused (409 forecast_after_launch) once it has gone live."""
    return await service.save_forecast(session, staff.merchant_id, campaign_id, staff.staff_id, body, clock.now())


@forecasts.get("/{campaign_id}/forecast", response_model=ForecastOut)
async def forecast(campaign_id: int, staff: OrdersReader, session: SessionDep) -> ForecastOut:
    return await service.require_forecast(session, staff.merchant_id, campaign_id)
