"""效果预测: the campaign simulator's page. A form of the campaign's settings and the assumptions (defaults from the
merchant's past campaigns of the kind, or from a campaign's own settings when opened from it), posted as JSON to
POST /api/v1/admin/simulations by console.js, which draws the answer."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from fissionmall.campaigns import service as campaigns
from fissionmall.core.deps import SessionDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.simulation import service as simulation
from fissionmall.simulation.schemas import SimulatedKind, SimulationIn
from fissionmall.web.console.nav import KIND_NAMES
from fissionmall.web.console.session import ConsoleReader, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

KINDS = get_args(SimulatedKind)


@router.get("/console/campaigns/simulate", response_class=HTMLResponse)
async def simulator(request: Request, console: ConsoleReader, session: SessionDep,
                    kind: Annotated[str, Query()] = "group",
                    campaign: Annotated[RowId | None, Query()] = None) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    source = None
    values: dict[str, Any] = {}
    if campaign is not None:
        found = await campaigns.require(session, merchant_id, campaign)
        if found.kind in KINDS:
            kind, source = found.kind, campaigns.out(found)
            values = simulation.from_campaign(found)
    kind = kind if kind in KINDS else "group"
    known = await simulation.defaults(session, merchant_id, kind)
    inputs = SimulationIn(kind=kind, **known.assumptions.model_dump(), **values)  # type: ignore[arg-type]
    return render(request, "console/simulator.html", console, {
        "section": "/console/campaigns", "kind": kind, "kinds": [(k, KIND_NAMES[k]) for k in KINDS],
        "kind_name": KIND_NAMES[kind], "inputs": inputs, "defaults_from": known.defaults_from, "campaign": source})
