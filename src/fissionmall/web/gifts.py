"""Shopper pages of what friends give each other: an order's coupon packets to share, gift vouchers (buy, send,
claim), the inviter's progress and the points mall. The packet and invite landings are the mechanics' own pages
(their descriptors' `Page`); every change goes through the JSON API from the pages' forms."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fissionmall.campaigns.giftcards import service as vouchers
from fissionmall.campaigns.invites import service as invites
from fissionmall.campaigns.packets import service as packets
from fissionmall.campaigns.pointsmall import service as points_mall
from fissionmall.core.deps import ClockDep, SessionDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.loyalty.points import service as points
from fissionmall.web.session import ShopperVisitorDep, VisitorDep, signed_in
from fissionmall.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@router.get("/m/{merchant}/orders/{order_id}/packets", response_class=HTMLResponse)
async def order_packets(request: Request, order_id: RowId, seen: ShopperVisitorDep, session: SessionDep,
                        clock: ClockDep) -> HTMLResponse:
    """分享红包给好友: the packets a paid order earned (the worker makes them just after payment)."""
    earned = await packets.packets_for_order(session, clock, signed_in(seen), order_id)
    return render(request, "gifts/order_packets.html", seen, {"order_id": order_id, "packets": earned,
                                                              "words": packets.WORDS, "tab": "orders"})


@router.get("/m/{merchant}/me/vouchers", response_class=HTMLResponse)
async def my_vouchers(request: Request, seen: ShopperVisitorDep, session: SessionDep,
                      clock: ClockDep) -> HTMLResponse:
    return render(request, "gifts/vouchers.html", seen, {
        "vouchers": await vouchers.mine(session, signed_in(seen)),
        "offers": await vouchers.offers(session, clock, seen.shop.id), "now": clock.now(), "tab": "me"})


@router.get("/m/{merchant}/vouchers/{voucher_id}/claim", response_class=HTMLResponse)
async def voucher_claim(request: Request, voucher_id: RowId, seen: VisitorDep, session: SessionDep,
                        clock: ClockDep, token: str = "") -> HTMLResponse:
    """A gift voucher's one-time claim link, opened by the friend: anyone may look; claiming signs in first."""
    gift = await vouchers.gift(session, clock, seen.shop.id, voucher_id, token)
    return render(request, "gifts/voucher_claim.html", seen, {"gift": gift, "token": token})


@router.get("/m/{merchant}/me/invites", response_class=HTMLResponse)
async def my_invites(request: Request, seen: ShopperVisitorDep, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    return render(request, "gifts/invites.html", seen, {
        "campaigns": await invites.my_live(session, clock, signed_in(seen)), "tab": "me"})


@router.get("/m/{merchant}/points-mall", response_class=HTMLResponse)
async def points_mall_page(request: Request, seen: VisitorDep, session: SessionDep, clock: ClockDep,
                           got: int | None = None) -> HTMLResponse:
    """积分商城: anyone may look; a coupon is issued at once, goods become an order to pay."""
    mine = await points.mine(session, clock.now(), seen.shopper) if seen.shopper else None
    return render(request, "gifts/points_mall.html", seen, {
        "items": await points_mall.items(session, clock, seen.shop.id), "points": mine, "got": got, "tab": "me"})
