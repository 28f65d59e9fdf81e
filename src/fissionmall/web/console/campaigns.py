"""营销活动: the merchant's campaigns of every kind — list, typed forms, the rules as the shopper will read them, the
linter's findings in Chinese before going live, activate / pause / end, and what happens inside a campaign (its
groups, bargains, packets). Pages read through the services; every change posts to /api/v1/admin/campaigns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from fissionmall.campaigns import errors as campaign_errors
from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns.assist import service as assist
from fissionmall.campaigns.bargain import service as bargain
from fissionmall.campaigns.groupbuy import service as groupbuy
from fissionmall.campaigns.mechanic import KINDS
from fissionmall.campaigns.packets import service as packets
from fissionmall.campaigns.states import EDITABLE
from fissionmall.catalog import service as catalog
from fissionmall.core.deps import ClockDep, SessionDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.coupons import service as coupons
from fissionmall.web.console.campaign_forms import FORMS, Setting, defaults, value_at
from fissionmall.web.console.lint_words import in_chinese
from fissionmall.web.console.nav import KIND_NAMES
from fissionmall.web.console.session import Console, ConsoleReader, render
from fissionmall.web.templating import BEIJING

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

SECTION = "/console/campaigns"
PAGE = 20
CHOICES = 500
"""How many SKUs of the newest products a form's selects offer (the campaign's own come on top)."""
STATUS_NAMES = {"draft": "草稿", "active": "进行中", "paused": "已暂停", "ended": "已结束"}


@dataclass(frozen=True)
class Inside:
    """What a kind's campaign holds (groups, bargains, packets): its list, drawn by its own template part."""

    title: str
    statuses: dict[str, str]
    read: Callable[..., Awaitable[BaseModel]]
    template: str


INSIDE: dict[str, Inside] = {
    "group": Inside("团", {"open": "拼团中", "succeeded": "已成团", "failed": "未成团"},
                    groupbuy.campaign_groups, "console/_campaign_groups.html"),
    "bargain": Inside("砍价", {"ongoing": "砍价中", "reached_floor": "已到底价", "purchased": "已购买",
                               "expired": "已过期"}, bargain.campaign_bargains, "console/_campaign_bargains.html"),
    "assist": Inside("红包", {"open": "助力中", "opened": "已拆开", "expired": "已过期"},
                     assist.campaign_packets, "console/_campaign_assists.html"),
    "share_coupon": Inside("券包", {"open": "领取中", "finished": "已领完", "expired": "已过期"},
                           packets.campaign_packets, "console/_campaign_packets.html"),
}
INSIDE["credit"] = INSIDE["share_coupon"]
"""The kinds whose campaigns hold records of their own; the others (vouchers, invites, the points mall) do not."""


def _query(**params: str | None) -> str:
    return urlencode({k: v for k, v in params.items() if v})


@router.get("/console/campaigns", response_class=HTMLResponse)
async def campaign_list(request: Request, console: ConsoleReader, session: SessionDep,
                        kind: Annotated[str | None, Query()] = None, status: Annotated[str | None, Query()] = None,
                        cursor: Annotated[str | None, Query()] = None) -> HTMLResponse:
    kind = kind if kind in KIND_NAMES else None
    status = status if status in STATUS_NAMES else None
    items, next_cursor = await campaigns.campaign_page(session, console.staff.merchant_id, kind, status, cursor, PAGE)
    return render(request, "console/campaigns.html", console, {
        "section": SECTION, "items": items, "next_cursor": next_cursor, "kind": kind or "", "status": status or "",
        "query": _query(kind=kind, status=status), "kinds": {k: KIND_NAMES[k] for k in FORMS},
        "status_names": STATUS_NAMES})


def _held(kind: str, settings: dict[str, Any]) -> dict[str, set[int]]:
    """The products, SKUs and coupons a campaign's settings name (by the type of each form field), so that the form
    offers them whatever else it offers: a select missing its value would save another one."""
    held: dict[str, set[int]] = {"product": set(), "sku": set(), "coupon": set()}

    def hold(s: Setting, value: Any) -> None:
        if s.type in held and isinstance(value, int):
            held[s.type].add(value)
        elif s.type == "rows" and isinstance(value, list):
            for row in value:
                for c in s.columns:
                    if isinstance(row, dict):
                        hold(c, row.get(c.name))

    for s in FORMS[kind]:
        hold(s, value_at(settings, s.name))
    return held


async def _choices(session: SessionDep, merchant_id: int, held: dict[str, set[int]]) -> dict[str, Any]:
    """What the form's product, SKU and coupon selects offer: the newest products and every one the campaign holds."""
    products: dict[int, dict[str, Any]] = {}
    for product_id, title, sku_id, sku_name, price_fen in await catalog.sku_choices(
            session, merchant_id, CHOICES, product_ids=sorted(held["product"]), sku_ids=sorted(held["sku"])):
        products.setdefault(product_id, {"id": product_id, "title": title, "skus": []})["skus"].append(
            {"id": sku_id, "name": sku_name, "price_fen": price_fen})
    templates = await coupons.templates(session, merchant_id, claimable_only=False)
    return {"products": list(products.values()), "coupons": [{"id": t.id, "name": t.name} for t in templates]}


async def _form(request: Request, console: Console, session: SessionDep, kind: str,
                campaign: dict[str, Any] | None) -> HTMLResponse:
    settings = campaign["settings"] if campaign else defaults(KINDS[kind].settings_model)
    times = {key: campaign[key].astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M") if campaign else ""
             for key in ("starts_at", "ends_at")}
    return render(request, "console/campaign_form.html", console, {
        "section": SECTION, "kind": kind, "kind_name": KIND_NAMES[kind], "fields": FORMS[kind],
        "values": {s.name: value_at(settings, s.name) for s in FORMS[kind]}, "times": times, "campaign": campaign,
        "kinds_menu": [(k, KIND_NAMES[k]) for k in FORMS],
        **await _choices(session, console.staff.merchant_id, _held(kind, settings))})


@router.get("/console/campaigns/new", response_class=HTMLResponse)
async def new_campaign(request: Request, console: ConsoleReader, session: SessionDep,
                       kind: Annotated[str, Query()] = "group") -> HTMLResponse:
    if kind not in FORMS:
        kind = "group"
    return await _form(request, console, session, kind, None)


@router.get("/console/campaigns/{campaign_id}/edit", response_class=HTMLResponse)
async def edit_campaign(request: Request, console: ConsoleReader, session: SessionDep,
                        campaign_id: RowId) -> HTMLResponse:
    campaign = await campaigns.require(session, console.staff.merchant_id, campaign_id)
    return await _form(request, console, session, campaign.kind, campaigns.out(campaign).model_dump())


@router.get("/console/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_page(request: Request, console: ConsoleReader, session: SessionDep,
                        campaign_id: RowId) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    campaign = await campaigns.require(session, merchant_id, campaign_id)
    report = await campaigns.lint(session, merchant_id, campaign_id)
    return render(request, "console/campaign.html", console, {
        "section": SECTION, "campaign": campaigns.out(campaign), "kind_name": KIND_NAMES.get(campaign.kind),
        "status_names": STATUS_NAMES, "editable": campaign.status in EDITABLE,
        "findings": [in_chinese(f) for f in report.findings], "lint_ok": report.ok,
        "rules": await campaigns.published_rules(session, merchant_id, campaign),
        "inside": INSIDE.get(campaign.kind)})


@router.get("/console/campaigns/{campaign_id}/records", response_class=HTMLResponse)
async def campaign_records(request: Request, console: ConsoleReader, session: SessionDep, clock: ClockDep,
                           campaign_id: RowId, status: Annotated[str | None, Query()] = None,
                           cursor: Annotated[str | None, Query()] = None) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    campaign = await campaigns.require(session, merchant_id, campaign_id)
    inside = INSIDE.get(campaign.kind)
    if inside is None:
        raise campaign_errors.campaign_not_found(campaign_id)
    status = status if status in inside.statuses else None
    page = await inside.read(session, clock, merchant_id, campaign.id, status, cursor, PAGE)
    return render(request, "console/campaign_records.html", console, {
        "section": SECTION, "campaign": campaigns.out(campaign), "kind_name": KIND_NAMES.get(campaign.kind),
        "inside": inside, "page": page, "status": status or "", "query": _query(status=status),
        "status_names": STATUS_NAMES})
