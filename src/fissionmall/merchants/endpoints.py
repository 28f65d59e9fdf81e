from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request

from fissionmall.core.deps import AuditReader, ClockDep, MerchantWriter, SessionDep, StaffDep, StaffWriter
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import audit, service
from fissionmall.merchants.models import Merchant, Staff, Store
from fissionmall.merchants.schemas import (
    AuditPage,
    MerchantOut,
    MerchantSettings,
    StaffIn,
    StaffLogin,
    StaffOut,
    StaffPatch,
    StoreIn,
    StoreOut,
    TokenOut,
)

router = APIRouter(route_class=TransactionalRoute, tags=["admin: merchant"])


@router.post("/admin/auth/login", response_model=TokenOut)
async def staff_login(body: StaffLogin, request: Request, session: SessionDep, runtime: RuntimeDep) -> TokenOut:
    ip = request.client.host if request.client else None
    return await service.staff_login(session, runtime, body, ip)


@router.post("/admin/auth/logout", status_code=204)
async def staff_logout(staff: StaffDep, session: SessionDep, clock: ClockDep) -> None:
    """Ends every session of the signed-in staff member."""
    await service.staff_logout(session, clock.now(), staff)


@router.get("/admin/merchant", response_model=MerchantOut)
async def my_merchant(staff: StaffDep, session: SessionDep) -> Merchant:
    return await service.merchant_by_id(session, staff.merchant_id)


@router.patch("/admin/merchant", response_model=MerchantOut)
async def update_merchant(body: MerchantSettings, staff: MerchantWriter, session: SessionDep) -> Merchant:
    return await service.update_settings(session, staff, body)


@router.get("/admin/stores", response_model=list[StoreOut])
async def list_stores(staff: StaffDep, session: SessionDep) -> list[Store]:
    return await service.list_stores(session, staff.merchant_id)


@router.post("/admin/stores", response_model=StoreOut, status_code=201)
async def add_store(body: StoreIn, staff: MerchantWriter, session: SessionDep) -> Store:
    return await service.add_store(session, staff, body)


@router.put("/admin/stores/{store_id}", response_model=StoreOut)
async def update_store(store_id: RowId, body: StoreIn, staff: MerchantWriter, session: SessionDep) -> Store:
    return await service.update_store(session, staff, store_id, body)


@router.get("/admin/staff", response_model=list[StaffOut])
async def list_staff(staff: StaffWriter, session: SessionDep) -> list[Staff]:
    return await service.list_staff(session, staff.merchant_id)


@router.post("/admin/staff", response_model=StaffOut, status_code=201)
async def add_staff(body: StaffIn, staff: StaffWriter, session: SessionDep, clock: ClockDep) -> Staff:
    return await service.add_staff(session, clock.now(), staff, body)


@router.patch("/admin/staff/{staff_id}", response_model=StaffOut)
async def update_staff(staff_id: RowId, body: StaffPatch, staff: StaffWriter, session: SessionDep,
                       clock: ClockDep) -> Staff:
    return await service.update_staff(session, clock.now(), staff, staff_id, body)


@router.get("/admin/audit-log", response_model=AuditPage)
async def audit_log(staff: AuditReader, session: SessionDep, staff_id: int | None = Query(None, ge=1),
                    action: str | None = Query(None, max_length=120), since: date | None = None,
                    until: date | None = None, cursor: str | None = None,
                    limit: int = Query(20, ge=1, le=50)) -> AuditPage:
    """Who did what, when, from where, newest first: every staff write and sign-in (filter by staff member, action
    as listed, and days from `since` to `until`, China time)."""
    where = audit.AuditFilter.of_days(staff_id=staff_id, action=action, since=since, until=until)
    return await audit.audit_log(session, staff.merchant_id, where, cursor=cursor, limit=limit)
