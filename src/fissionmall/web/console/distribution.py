"""The console's distribution section (分销): settings (levels, rates as percentages, the switch, the level-2 approval
record), distributors and their applications, the commission ledger and withdrawals, with CSV exports of both.

Pages read through the distribution service, a page at a time (keyset by id); every change is a form posting to
the merchant API, which checks the role (merchant.write for settings and distributors, payouts.decide for
withdrawals) and the linter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from fissionmall.core.deps import SessionDep
from fissionmall.core.money import yuan
from fissionmall.core.pagination import row_id_in
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.distribution import rules, service
from fissionmall.distribution.schemas import ConfigIn
from fissionmall.merchants import service as merchants
from fissionmall.web.console.exports import csv_download
from fissionmall.web.console.session import Console, ConsoleReader, console_page, render
from fissionmall.web.templating import BEIJING

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
PayoutsDesk = Annotated[Console, Depends(console_page("payouts.decide"))]

PAGE = 20
EXPORT_CHUNK = 500
SECTION = "/console/distribution"
DISTRIBUTOR_STATUS = {"pending": "待审核", "approved": "已通过", "rejected": "已拒绝"}
COMMISSION_STATUS = {"frozen": "冻结中", "settled": "已结算"}
WITHDRAWAL_STATUS = {"requested": "待审核", "approved": "打款中", "paid": "已到账", "rejected": "已拒绝"}
KIND = {"commission": "佣金", "reversal": "退款冲回"}
LEVEL = {0: "团长佣金", 1: "一级", 2: "二级"}


def tabs(console: Console) -> list[tuple[str, str]]:
    """The section's tabs the role may open (withdrawals: staff who decide payouts)."""
    shown = [(SECTION, "分销设置"), (f"{SECTION}/distributors", "分销员"), (f"{SECTION}/commissions", "佣金明细")]
    if console.can("payouts.decide"):
        shown.append((f"{SECTION}/withdrawals", "提现审核"))
    return shown


def _context(console: Console, tab: str, **extra: Any) -> dict[str, Any]:
    return {"section": SECTION, "tabs": tabs(console), "tab": tab, "statuses": {
        "distributor": DISTRIBUTOR_STATUS, "commission": COMMISSION_STATUS, "withdrawal": WITHDRAWAL_STATUS},
        "kinds": KIND, "levels": LEVEL, **extra}


def _cursor(cursor: str | None) -> int | None:
    return row_id_in(cursor)


def _next(rows: list[Any], id_of: Any) -> str | None:
    return str(id_of(rows[-1])) if len(rows) == PAGE else None


def _query(**params: Any) -> str:
    return urlencode({key: value for key, value in params.items() if value not in (None, "")})


@router.get(SECTION, response_class=HTMLResponse)
async def settings_page(request: Request, console: ConsoleReader, session: SessionDep) -> HTMLResponse:
    current = await service.config_of(session, console.staff.merchant_id)
    config = ConfigIn.model_validate(current, from_attributes=True) if current else None
    merchant = await merchants.merchant_by_id(session, console.staff.merchant_id)
    report = rules.lint(service.plan_of(config, merchant.after_sale_days)) if config else None
    return render(request, "console/distribution_settings.html", console, _context(
        console, SECTION, config=config, row=current, report=report,
        two_levels=bool(config and any(g.level2_bp for g in config.grades))))


@router.get(f"{SECTION}/distributors", response_class=HTMLResponse)
async def distributors_page(request: Request, console: ConsoleReader, session: SessionDep,
                            status: str | None = None, q: str = "", cursor: str | None = None) -> HTMLResponse:
    status = status if status in DISTRIBUTOR_STATUS else None
    found = await service.distributor_page(session, console.staff.merchant_id, status=status, search=q.strip(),
                                              before=_cursor(cursor), limit=PAGE)
    current = await service.config_of(session, console.staff.merchant_id)
    grades = {int(g["grade"]): str(g["name"]) for g in current.grades} if current else {}
    return render(request, "console/distribution_distributors.html", console, _context(
        console, f"{SECTION}/distributors", rows=found, grades=grades, status=status, q=q,
        next_cursor=_next(found, lambda row: row[0].id), query=_query(status=status, q=q)))


@router.get(f"{SECTION}/commissions", response_class=HTMLResponse)
async def commissions_page(request: Request, console: ConsoleReader, session: SessionDep,
                           status: str | None = None, distributor: str = "",
                           cursor: str | None = None) -> HTMLResponse:
    status = status if status in COMMISSION_STATUS else None
    who = row_id_in(distributor)
    found = await service.commission_rows(session, console.staff.merchant_id, status=status, beneficiary_id=who,
                                             before=_cursor(cursor), limit=PAGE)
    return render(request, "console/distribution_commissions.html", console, _context(
        console, f"{SECTION}/commissions", rows=found, status=status, distributor=distributor,
        next_cursor=_next(found, lambda row: row[0].id), query=_query(status=status, distributor=who)))


@router.get(f"{SECTION}/withdrawals", response_class=HTMLResponse)
async def withdrawals_page(request: Request, console: PayoutsDesk, session: SessionDep,
                           status: str | None = Query(default="requested"),
                           cursor: str | None = None) -> HTMLResponse:
    status = status if status in WITHDRAWAL_STATUS else None
    found = await service.withdrawal_page(session, console.staff.merchant_id, status=status,
                                             before=_cursor(cursor), limit=PAGE)
    return render(request, "console/distribution_withdrawals.html", console, _context(
        console, f"{SECTION}/withdrawals", rows=found, status=status or "",
        next_cursor=_next(found, lambda row: row[0].id), query=_query(status=status or "all")))


def _when(moment: Any) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@router.get(f"{SECTION}/commissions.csv")
async def commissions_csv(console: ConsoleReader, runtime: RuntimeDep, status: str | None = None,
                          distributor: str = "") -> StreamingResponse:
    """The ledger as the list filters it, every page, amounts in yuan. The rows are read while the answer streams,
    after the request's own session has closed: each chunk in a short session of its own."""
    merchant_id = console.staff.merchant_id
    status = status if status in COMMISSION_STATUS else None
    who = row_id_in(distributor)

    async def rows() -> AsyncIterator[Iterable[Any]]:
        before: int | None = None
        while True:
            async with runtime.sessionmaker() as session:
                chunk = await service.commission_rows(session, merchant_id, status=status, beneficiary_id=who,
                                                         before=before, limit=EXPORT_CHUNK)
            for entry, nickname in chunk:
                yield (entry.id, entry.beneficiary_id, nickname, entry.order_id, entry.buyer_id,
                       LEVEL.get(entry.level, entry.level), KIND.get(entry.kind, entry.kind), yuan(entry.amount_fen),
                       f"{entry.rate_bp / 100:.2f}%", yuan(entry.base_fen), COMMISSION_STATUS.get(entry.status),
                       _when(entry.created_at), _when(entry.settled_at))
            if len(chunk) < EXPORT_CHUNK:
                return
            before = chunk[-1][0].id

    return csv_download("佣金明细.csv", ("编号", "分销员编号", "分销员", "订单编号", "买家编号", "层级", "类型",
                                     "金额（元）", "比例", "计佣金额（元）", "状态", "时间", "结算时间"), rows())


@router.get(f"{SECTION}/withdrawals.csv")
async def withdrawals_csv(console: PayoutsDesk, runtime: RuntimeDep, status: str | None = None) -> StreamingResponse:
    merchant_id = console.staff.merchant_id
    status = status if status in WITHDRAWAL_STATUS else None

    async def rows() -> AsyncIterator[Iterable[Any]]:
        before: int | None = None
        while True:
            async with runtime.sessionmaker() as session:
                chunk = await service.withdrawal_page(session, merchant_id, status=status, before=before,
                                                         limit=EXPORT_CHUNK)
            for found, nickname, real_name in chunk:
                yield (found.id, found.withdrawal_no, found.customer_id, nickname, real_name or "",
                       yuan(found.amount_fen), WITHDRAWAL_STATUS.get(found.status), found.reason or "",
                       found.bill_no or "", _when(found.requested_at), _when(found.decided_at), _when(found.paid_at))
            if len(chunk) < EXPORT_CHUNK:
                return
            before = chunk[-1][0].id

    return csv_download("提现记录.csv", ("编号", "提现单号", "客户编号", "昵称", "实名", "金额（元）", "状态", "原因",
                                     "转账单号", "申请时间", "审核时间", "到账时间"), rows())
