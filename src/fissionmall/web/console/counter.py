"""The store counter (门店核销): staff type the holder's gift voucher code, or scan its QR code with the device's camera
where the browser can, choose their store, and redeem it through POST /admin/vouchers/redeem (the redemption is
attributed to that store). The page then shows what was redeemed and for whom (name masked), and the vouchers
redeemed in the merchant's stores lately."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fissionmall.campaigns.giftcards import service as vouchers
from fissionmall.core.deps import SessionDep
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.distribution.rules import masked_name
from fissionmall.merchants import service as merchants
from fissionmall.web.console.session import Console, console_page, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

PAGE = 20
CounterStaff = Annotated[Console, Depends(console_page("orders.ship"))]


@router.get("/console/counter", response_class=HTMLResponse)
async def counter(request: Request, console: CounterStaff, session: SessionDep, store: str = "", redeemed: str = "",
                  cursor: str | None = None) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    stores = [s for s in await merchants.list_stores(session, merchant_id) if s.active]
    chosen = parse_cursor(store) if store else None
    before = None
    if (before_id := parse_cursor(cursor)) is not None:
        last = await vouchers.voucher_of(session, merchant_id, before_id)
        before = (last.redeemed_at, last.id) if last is not None and last.redeemed_at is not None else None
    rows = await vouchers.store_redemptions(session, merchant_id, before=before, limit=PAGE)
    just = None
    if redeemed and (found := await vouchers.store_redemptions(session, merchant_id, before=None, limit=1,
                                                                voucher_id=parse_cursor(redeemed))):
        just = found[0]
    return render(request, "console/counter.html", console, {
        "section": "/console/counter", "stores": stores, "chosen": chosen or (stores[0].id if stores else None),
        "rows": rows, "just": just, "masked": masked_name,
        "next_cursor": str(rows[-1][0].id) if len(rows) == PAGE else None,
        "query": f"store={chosen or ''}"})
