"""Staff management (员工), for owners: every member with role and status; add a member, change a role, disable or
enable, reset a password, all through the merchant API (`/admin/staff`), which ends the member's sessions on any
change and logs it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fissionmall.core.deps import SessionDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants
from fissionmall.merchants.schemas import StaffIn
from fissionmall.web.console.session import ROLE_NAMES, Console, console_page, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
StaffManager = Annotated[Console, Depends(console_page("staff.write"))]

PASSWORD_MIN = StaffIn.model_fields["password"].metadata[0].min_length
"""The API's rule, said on the form."""


@router.get("/console/staff", response_class=HTMLResponse)
async def staff(request: Request, console: StaffManager, session: SessionDep) -> HTMLResponse:
    return render(request, "console/staff.html", console, {
        "section": "/console/staff", "members": await merchants.list_staff(session, console.staff.merchant_id),
        "role_names": ROLE_NAMES, "password_min": PASSWORD_MIN})
