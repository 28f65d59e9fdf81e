"""The shopper's own pages ("我的"): account, wallet, coupons, check-in and points, tasks, membership and dividend, the
distribution centre. They read through the domains' services; every change goes through the JSON API from the page's
forms."""

from __future__ import annotations

import calendar
from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fissionmall.catalog import service as catalog
from fissionmall.core.deps import ClockDep, SessionDep
from fissionmall.core.errors import NotFound
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.coupons import service as coupons
from fissionmall.customers import service as customers
from fissionmall.distribution import service as distribution
from fissionmall.distribution import withdrawals
from fissionmall.loyalty.dividend import service as dividend
from fissionmall.loyalty.levels import service as levels
from fissionmall.loyalty.points import service as points
from fissionmall.loyalty.rules import CST
from fissionmall.loyalty.tasks import service as tasks
from fissionmall.wallet import service as wallet
from fissionmall.web.session import ShopperVisitorDep, signed_in
from fissionmall.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
T = TypeVar("T")

ORDER_SHORTCUTS = (("pending_payment", "待付款"), ("to_ship", "待发货"), ("shipped", "待收货"),
                   ("received", "待评价"), ("refunding", "退款/售后"))
COUPON_GROUPS = (("available", "可使用"), ("used", "已使用"), ("expired", "已过期"))
"""A coupon locked by an unpaid order shows among the usable ones: it comes back if the order is not paid."""


WALLET_WORDS = {
    ("spent", "order"): "购物抵扣", ("returned", "order"): "订单取消退回", ("returned", "refund"): "退款退回",
    ("assist_prize", "assist"): "助力红包奖励", ("invite_reward", "invite"): "邀请好友奖励",
    ("sharer_reward", "packet"): "分享红包奖励", ("helper_reward", "help"): "助力好友奖励",
    ("dividend", "dividend_run"): "月度分红"}
"""Each wallet line in the shopper's words, by (kind, source)."""
POINTS_WORDS = {"checkin": "每日签到", "earned": "购物获得", "task": "任务奖励", "review": "评价奖励",
                "post": "发帖奖励", "spent": "积分使用", "returned": "退回积分", "expired": "积分过期"}
COMMISSION_STATUS = {"frozen": "冻结中", "settled": "已结算", "reversed": "已退回"}
WITHDRAWAL_STATUS = {"requested": "审核中", "approved": "打款中", "paid": "已到账", "rejected": "未通过"}
TASK_PERIODS = {"once": "", "daily": "每日", "weekly": "每周"}
TASK_KINDS = {"invite_registered": "好友通过你的分享注册即计 1 次",
              "friend_first_purchase": "好友通过你的分享首次下单付款即计 1 次",
              "share_click": "好友打开你分享的商品即计 1 次", "checkin_streak": "连续签到的天数",
              "review": "收货后发表评价即计 1 次", "post": "在社区发布帖子或晒单即计 1 次"}
WORDS = {"wallet": WALLET_WORDS, "points": POINTS_WORDS, "commission": COMMISSION_STATUS,
         "withdrawal": WITHDRAWAL_STATUS, "period": TASK_PERIODS,
         "task_kind": TASK_KINDS}


async def _if_offered(call: Awaitable[T]) -> T | None:
    """A feature the merchant has not set up (no levels, no points, no dividend pool) is left off the page."""
    try:
        return await call
    except NotFound:
        return None


@router.get("/m/{merchant}/me", response_class=HTMLResponse)
async def me(request: Request, seen: ShopperVisitorDep, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    shopper = signed_in(seen)
    customer = await customers.get_customer(session, shopper.merchant_id, shopper.customer_id)
    usable = await coupons.my_coupons(session, clock, shopper, "available")
    mine = await distribution.mine(session, shopper)
    return render(request, "me/index.html", seen, {
        "tab": "me", "customer": customer, "membership": await _if_offered(levels.mine(session, shopper)),
        "dividend": await _if_offered(dividend.mine(session, clock.now(), shopper)),
        "points": await points.mine(session, clock.now(), shopper), "wallet": await wallet.wallet_of(session, shopper),
        "coupons": len(usable), "distributor": mine.distributor, "shortcuts": ORDER_SHORTCUTS})


@router.get("/m/{merchant}/me/wallet", response_class=HTMLResponse)
async def wallet_page(request: Request, seen: ShopperVisitorDep, session: SessionDep) -> HTMLResponse:
    return render(request, "me/wallet.html", seen, {"tab": "me", "words": WORDS,
                                                   "wallet": await wallet.wallet_of(session, signed_in(seen))})


@router.get("/m/{merchant}/me/coupons", response_class=HTMLResponse)
async def coupons_page(request: Request, seen: ShopperVisitorDep, session: SessionDep,
                       clock: ClockDep) -> HTMLResponse:
    held = await coupons.my_coupons(session, clock, signed_in(seen), None)
    groups = [(label, [c for c in held if c.status == status or (status == "available" and c.status == "locked")])
              for status, label in COUPON_GROUPS]
    return render(request, "me/coupons.html", seen, {"tab": "me", "groups": groups})


@router.get("/m/{merchant}/me/checkin", response_class=HTMLResponse)
async def checkin_page(request: Request, seen: ShopperVisitorDep, session: SessionDep,
                       clock: ClockDep) -> HTMLResponse:
    now = clock.now()
    mine = await points.mine(session, now, signed_in(seen))
    local = now.astimezone(CST)
    return render(request, "me/checkin.html", seen, {
        "tab": "me", "points": mine, "words": WORDS, "month": local.month, "today": local.day,
        "calendar": _calendar(local.year, local.month, mine.checkin_days)})


@router.get("/m/{merchant}/me/tasks", response_class=HTMLResponse)
async def tasks_page(request: Request, seen: ShopperVisitorDep, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    return render(request, "me/tasks.html", seen, {"tab": "me", "words": WORDS,
                                                  "tasks": await tasks.mine(session, clock.now(), signed_in(seen))})


@router.get("/m/{merchant}/me/level", response_class=HTMLResponse)
async def level_page(request: Request, seen: ShopperVisitorDep, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    shopper = signed_in(seen)
    return render(request, "me/level.html", seen, {
        "tab": "me", "membership": await _if_offered(levels.mine(session, shopper)),
        "dividend": await _if_offered(dividend.mine(session, clock.now(), shopper))})


@router.get("/m/{merchant}/me/dividend", response_class=HTMLResponse)
async def dividend_page(request: Request, seen: ShopperVisitorDep, session: SessionDep,
                        clock: ClockDep) -> HTMLResponse:
    """我的分红: this month's activity level from the member's own spend, their dividend points against the threshold,
    the pool's rules and pay day, and past payouts; where the mall has no dividend pool, it says so."""
    return render(request, "me/dividend.html", seen, {
        "tab": "me", "dividend": await _if_offered(dividend.mine(session, clock.now(), signed_in(seen)))})


@router.get("/m/{merchant}/me/distribution", response_class=HTMLResponse)
async def distribution_page(request: Request, seen: ShopperVisitorDep, session: SessionDep) -> HTMLResponse:
    shopper = signed_in(seen)
    mine = await distribution.mine(session, shopper)
    context: dict[str, Any] = {"tab": "me", "mine": mine, "words": WORDS}
    if mine.distributor is not None and mine.distributor.status == "approved":
        products = await catalog.list_products(session, shopper.merchant_id, cursor=None, limit=20, category_id=None)
        context |= {"team": await distribution.team(session, shopper), "products": products.items,
                    "withdrawals": await withdrawals.mine(session, shopper)}
    return render(request, "me/distribution.html", seen, context)


def _calendar(year: int, month: int, checked: list[int]) -> list[list[tuple[int, bool] | None]]:
    """This month as weeks starting on Monday: (day, checked in) or None for the blanks around it."""
    days = set(checked)
    return [[(day, day in days) if day else None for day in week]
            for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month)]
