"""POST /admin/simulations: a campaign's forecast before it goes live (any staff may ask)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from fissionmall.core.audit import WRITES_NOTHING
from fissionmall.core.deps import OrdersReader, SessionDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.simulation import service
from fissionmall.simulation.schemas import DefaultsOut, SimulatedKind, SimulationIn, SimulationOut

admin = APIRouter(route_class=TransactionalRoute, tags=["admin: simulations"], prefix="/admin/simulations")


@admin.post("", response_model=SimulationOut, dependencies=[WRITES_NOTHING])
async def simulate(body: SimulationIn, staff: OrdersReader, session: SessionDep) -> SimulationOut:
    """Assumptions left out are taken from the merchant's past campaigns of the kind (standard values without)."""
    filled = await service.with_defaults(session, staff.merchant_id, body)
    return await anyio.to_thread.run_sync(service.simulate, filled)


@admin.get("/defaults", response_model=DefaultsOut)
async def defaults(kind: SimulatedKind, staff: OrdersReader, session: SessionDep) -> DefaultsOut:
    return await service.defaults(session, staff.merchant_id, kind)
