"""Refunds (DOMAIN.md, Orders; after-sale): requested by the shopper and decided by staff, issued by staff or owed
by a campaign's rules, and applied once when the provider confirms them.

Every amount is reserved on the order by one guarded statement before any refund row exists, so refunds never
exceed what was paid; an order paid in two parts is refunded through each payment, newest first. A refund is of one
line (up to that line's cash as priced) or of the order (spread over the lines by what each has left), and keeps its
part on every line, so the credit and points that paid for a line come back with its cash, share by share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput
from fissionmall.core.events import Happened, record_events
from fissionmall.core.outbox import enqueue, enqueue_many
from fissionmall.orders import errors, repository, rules
from fissionmall.orders import service as orders
from fissionmall.orders.hooks import HOOKS
from fissionmall.orders.models import Order, OrderItem, Refund
from fissionmall.orders.schemas import OrderOut, RefundIn
from fissionmall.orders.states import REFUNDABLE, OrderStatus, RefundStatus
from fissionmall.wallet import service as wallet

S = OrderStatus
R = RefundStatus
REFUND_JOB = "payments.refund"


async def refund_late_payment(session: AsyncSession, order_id: int, amount_fen: int, stage: rules.Stage,
                              at: datetime) -> None:
    """Money arrived for something no longer due (an order cancelled, a balance lapsed): give it all back."""
    order = await repository.order_by_id(session, order_id)
    if stage == "balance":
        late = await repository.take_late_payment(session, order.id, amount_fen, at, already_paid=order.deposit_fen,
                                                  statuses=[S.CANCELLED, S.REFUNDING, S.REFUNDED])
    else:
        late = await repository.take_late_payment(session, order.id, amount_fen, at, already_paid=0,
                                                  statuses=[S.CANCELLED])
    if not late:
        raise errors.order_changed()
    await _open_refunds(session, [(order, amount_fen)], "paid after it was no longer due", "system", R.PROCESSING, at,
                        parts=[(rules.trade_no(order.order_no, stage), amount_fen)])


@dataclass(frozen=True)
class _Refunded:
    """An order's lines and what its refunds not rejected took from each, in the order they were made."""

    lines: rules.OrderLines
    refunds: list[Refund]
    parts: list[list[int]]
    last_seq: int

    def left(self) -> list[int]:
        """What each line has left to refund: its cash less every refund's part on it."""
        return [cash - sum(column) for cash, *column in zip(self.lines.cash, *self.parts, strict=True)]

    def taken(self) -> dict[str, int]:
        """What the refunds claimed of each payment, by trade number."""
        taken: dict[str, int] = {}
        for refund in self.refunds:
            taken[refund.out_trade_no] = taken.get(refund.out_trade_no, 0) + refund.amount_fen
        return taken

    def part(self, refund_id: int) -> list[int]:
        """A refund's part on each line."""
        return next(parts for refund, parts in zip(self.refunds, self.parts, strict=True) if refund.id == refund_id)

    def succeeded(self, but: int) -> list[int]:
        """What the refunds that succeeded, other than refund `but`, gave back of each line's cash."""
        done = [0] * len(self.lines.cash)
        for refund, parts in zip(self.refunds, self.parts, strict=True):
            if refund.status == R.SUCCEEDED and refund.id != but:
                done = [total + part for total, part in zip(done, parts, strict=True)]
        return done


async def _refunded(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, _Refunded]:
    """For each order: its lines, and its refunds not rejected with their parts on each line."""
    items, adjustments, refunds = await repository.parts_of(session, order_ids)
    by_order: dict[int, tuple[list[OrderItem], list[dict[str, Any]], list[Refund]]] = {
        order_id: ([], [], []) for order_id in order_ids}
    for item in items:
        by_order[item.order_id][0].append(item)
    for adjustment in adjustments:
        by_order[adjustment.order_id][1].append({"kind": adjustment.kind, "amount_fen": adjustment.amount_fen,
                                                 "line_shares": adjustment.line_shares})
    for refund in refunds:
        by_order[refund.order_id][2].append(refund)
    found: dict[int, _Refunded] = {}
    for order_id, (order_items, order_adjustments, made) in by_order.items():
        lines = rules.order_lines(order_items, order_adjustments)
        kept = [refund for refund in made if refund.status != R.REJECTED]
        found[order_id] = _Refunded(lines, kept, rules.refunds_by_line(
            lines.cash, [(refund.amount_fen, refund.line_shares) for refund in kept]),
            max((refund.seq for refund in made), default=0))
    return found


async def _open_refunds(session: AsyncSession, claims: Sequence[tuple[Order, int]], reason: str, requested_by: str,
                        status: RefundStatus, at: datetime, parts: list[tuple[str, int]] | None = None,
                        sku_id: int | None = None) -> None:
    """For each (order, amount): one refund row per payment the money goes back through (usually one), each with a
    fixed number and its part on every line, and their provider jobs and events, written for a whole chunk of orders
    by one statement each. `parts` fixes the split of a single order's refund (money that arrived late); `sku_id`
    names the one line a single order's refund is for."""
    history = await _refunded(session, [order.id for order, _ in claims])
    rows: list[dict[str, Any]] = []
    for order, amount in claims:
        refunded = history[order.id]
        line = refunded.lines.sku_ids.index(sku_id) if sku_id is not None else None
        left = refunded.left()
        split = parts or rules.split_refund(amount, rules.payments_of(order.order_no, order.paid_fen,
                                                                      order.deposit_fen), refunded.taken())
        for seq, (out_trade_no, part) in enumerate(split, start=refunded.last_seq + 1):
            shares = rules.refund_parts(part, left, line)
            left = [rest - share for rest, share in zip(left, shares, strict=True)]
            rows.append(dict(merchant_id=order.merchant_id, order_id=order.id, seq=seq,
                             refund_no=f"{order.order_no}R{seq}", out_trade_no=out_trade_no, amount_fen=part,
                             reason=reason, status=status, requested_by=requested_by, created_at=at,
                             decided_at=at if status == R.PROCESSING else None, sku_id=sku_id, line_shares=shares))
    written = await repository.insert_refunds(session, rows)
    if status == R.PROCESSING:
        await enqueue_many(session, REFUND_JOB, [({"refund_id": refund_id}, f"refund:{refund_no}", merchant_id)
                                                 for refund_id, refund_no, merchant_id in written], now=at)
    await record_events(session, "refund_requested", at, [
        Happened(merchant_id=order.merchant_id, subject=("order", order.id), actor_id=order.customer_id,
                 inviter_id=order.inviter_id, data={"amount_fen": amount, "by": requested_by})
        for order, amount in claims])


async def open_refund(session: AsyncSession, clock: Clock, order: Order, body: RefundIn, *,
                      requested_by: str) -> None:
    """Reserve the amount and move the order to refunding in one guarded statement.

    A shopper's request waits for the merchant; a merchant's refund goes straight to the provider.
    """
    if order.status == S.REFUNDING:
        raise errors.refund_in_progress()
    if order.status not in REFUNDABLE:
        raise errors.invalid_transition(order.status, S.REFUNDING)
    if order.status == S.RECEIVED and order.due_at is not None and order.due_at <= clock.now():
        raise Conflict("after_sale_closed", "the after-sale window of this order has closed")
    if body.sku_id is not None:
        amount = await _line_amount(session, order, body.sku_id, body.amount_fen)
    elif order.paid_fen == 0:
        await _close_without_cash(session, clock, order, requested_by)
        return
    else:
        available = order.paid_fen - order.refund_reserved_fen
        amount = body.amount_fen if body.amount_fen is not None else available
        if not 0 < amount <= available:
            raise errors.refund_too_large(available)
    if not await _reserve_and_open(session, order, amount, body.reason, requested_by, clock.now(),
                                   sku_id=body.sku_id):
        raise errors.order_changed()


async def _line_amount(session: AsyncSession, order: Order, sku_id: int, amount_fen: int | None) -> int:
    """What a refund of one line is for: the amount asked, or all the line has left, checked against what is left
    of the line's cash as priced (and of the order's)."""
    refunded = (await _refunded(session, [order.id]))[order.id]
    if sku_id not in refunded.lines.sku_ids:
        raise errors.line_not_in_order(sku_id)
    available = min(refunded.left()[refunded.lines.sku_ids.index(sku_id)], order.paid_fen - order.refund_reserved_fen)
    if available <= 0:
        raise errors.line_refunded(sku_id)
    amount = amount_fen if amount_fen is not None else available
    if amount > available:
        raise errors.refund_exceeds_line(sku_id, available)
    return amount


async def _close_without_cash(session: AsyncSession, clock: Clock, order: Order, requested_by: str) -> None:
    """An order paid wholly with credit, points or a voucher has no money to send back: the merchant's refund closes
    it at once and returns in full what paid for it (a shopper asks the merchant, who decides)."""
    if requested_by == "customer":
        raise Conflict("refund_by_merchant", "nothing was paid in cash for this order: ask the merchant, who closes "
                                             "it and gives back your credit and points")
    now = clock.now()
    if not await repository.move(session, order.id, [order.status], S.REFUNDED, closed_at=now, due_at=None):
        raise errors.order_changed()
    if order.shipped_at is None:
        await orders.release(session, [order], now, refunded=True)
    else:
        await orders.return_benefits(session, [order], refunded=True)
    await orders.return_credit_and_points(session, [order], now)
    await orders.event(session, order, "refund", now, amount_fen=0)


async def _reserve_and_open(session: AsyncSession, order: Order, amount: int, reason: str, requested_by: str,
                            at: datetime, sku_id: int | None = None) -> bool:
    """Claim the amount and move the order to refunding in one statement guarded on the status and the reservations
    we read (what each line has left was read with them)."""
    if not await repository.reserve_refund(session, order.id, amount, [order.status], order.refund_reserved_fen,
                                           status=S.REFUNDING, resume_status=order.status):
        return False
    status = R.REQUESTED if requested_by == "customer" else R.PROCESSING
    await _open_refunds(session, [(order, amount)], reason, requested_by, status, at, sku_id=sku_id)
    return True


async def start_refund(session: AsyncSession, clock: Clock, order: Order, body: RefundIn, *,
                       requested_by: str) -> OrderOut:
    await open_refund(session, clock, order, body, requested_by=requested_by)
    return await orders.render_one(session, order.id)


async def request_refund(session: AsyncSession, clock: Clock, shopper: Shopper, order_id: int,
                         body: RefundIn) -> OrderOut:
    order = await orders.require_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    return await start_refund(session, clock, order, body, requested_by="customer")


async def merchant_refund(session: AsyncSession, clock: Clock, staff: StaffMember, order_id: int,
                          body: RefundIn) -> OrderOut:
    order = await orders.require_order(session, staff.merchant_id, order_id)
    return await start_refund(session, clock, order, body, requested_by="merchant")


async def decide_refund(session: AsyncSession, clock: Clock, staff: StaffMember, refund_id: int, *,
                        approve: bool) -> OrderOut:
    """Approve or reject a shopper's request: every part of it (one per payment) moves together."""
    refund = await repository.refund_of(session, staff.merchant_id, refund_id)
    if refund is None:
        raise errors.refund_not_found(refund_id)
    now = clock.now()
    target = R.PROCESSING if approve else R.REJECTED
    parts = await repository.decide_requested_refunds(session, refund.order_id, target, decided_at=now)
    if not parts:
        raise errors.refund_not_pending(refund.status)
    order = await repository.order_by_id(session, refund.order_id)
    if approve:
        for part in parts:
            await enqueue(session, REFUND_JOB, {"refund_id": part.id}, now=now, merchant_id=order.merchant_id,
                          dedupe_key=f"refund:{part.refund_no}")
    else:
        amount = sum(part.amount_fen for part in parts)
        await repository.release_refund_reservation(session, order.id, amount)
        await repository.move(session, order.id, [S.REFUNDING], order.resume_status or S.TO_SHIP,
                              resume_status=None)
        await orders.event(session, order, "refund_rejected", now, amount_fen=amount)
    return await orders.render_one(session, order.id)


async def refund_succeeded(session: AsyncSession, refund_no: str, amount_fen: int, at: datetime) -> bool:
    """Apply a confirmed refund once: False for a repeat. The order leaves refunding when no part is in
    flight any more; a full refund closes it."""
    refund = await repository.finish_refund(session, refund_no, at)
    if refund is None:
        return False
    if refund.amount_fen != amount_fen:
        raise InvalidInput("refund_amount_mismatch", f"refund {refund_no} is {refund.amount_fen} fen, "
                                                     f"the provider says {amount_fen}")
    order = await repository.add_refunded(session, refund.order_id, refund.amount_fen)
    await _return_credit_share(session, order, refund, at)
    if order.status == S.REFUNDING and order.refunded_fen == order.refund_reserved_fen:
        if order.refunded_fen == order.paid_fen:
            await repository.move(session, order.id, [S.REFUNDING], S.REFUNDED, closed_at=at, due_at=None,
                                  resume_status=None)
            if order.shipped_at is None:
                await orders.release(session, [order], at, refunded=True)
            else:  # the goods went out: no stock comes back, but the coupons and voucher do
                await orders.return_benefits(session, [order], refunded=True)
        else:
            await repository.move(session, order.id, [S.REFUNDING], order.resume_status or S.TO_SHIP,
                                  resume_status=None)
    await orders.event(session, order, "refund", at, amount_fen=refund.amount_fen)
    return True


async def _return_credit_share(session: AsyncSession, order: Order, refund: Refund, at: datetime) -> None:
    """A refund of part of the cash gives back, line by line, the same share of the credit and points that paid for
    each line as of its cash, and the refund completing the order's all the rest (none for money paid to an order
    already cancelled: they came back at the cancellation)."""
    if order.status == S.CANCELLED:
        return
    refunded = (await _refunded(session, [order.id]))[order.id]
    lines = refunded.lines
    before = refunded.succeeded(but=refund.id)
    after = [done + part for done, part in zip(before, refunded.part(refund.id), strict=True)]
    closing = order.refunded_fen == order.paid_fen

    def due(benefit: list[int]) -> int:
        return rules.benefit_due(benefit, lines.cash, before, after, closing=closing)

    points = HOOKS.points_ledger()
    points_spent = rules.points_by_line(await points.spent_on(session, order.id), lines.points_fen, lines.cash)
    await wallet.credit(session, order.merchant_id, order.customer_id, due(lines.credit), "returned",
                        ("refund", refund.id), at)
    await points.give_back(session, order.merchant_id, order.customer_id, due(points_spent), ("refund", refund.id),
                           at)


async def refund_known(session: AsyncSession, refund_no: str) -> bool:
    return await repository.refund_by_number(session, refund_no) is not None


async def refund_details(session: AsyncSession, refund_id: int) -> tuple[str, int, str, str]:
    """(out_trade_no, amount_fen, refund_no, reason) of a refund the provider must carry out."""
    refund = await repository.refund_by_id(session, refund_id)
    return refund.out_trade_no, refund.amount_fen, refund.refund_no, refund.reason


async def refund_for_campaign(session: AsyncSession, clock: Clock, order_id: int, amount_fen: int | None,
                              reason: str, *, when: OrderStatus) -> bool:
    """A refund the campaign's rules owe (failed group, tier difference, lapsed balance), straight to the
    provider, and only while the order is still `when`: False, with nothing done, if it moved on first (say its
    balance was paid a moment before the deadline sweep reached it). `amount_fen` None: all that is left."""
    if amount_fen is None:
        return bool(await refund_in_full(session, clock, [order_id], reason, when=when))
    order = await repository.order_by_id(session, order_id)
    return order.status == when and amount_fen > 0 and await _reserve_and_open(session, order, amount_fen, reason,
                                                                               "system", clock.now())


async def refund_in_full(session: AsyncSession, clock: Clock, order_ids: Sequence[int], reason: str, *,
                         when: OrderStatus) -> list[int]:
    """All that is left of each order's payments goes back, for a whole chunk of orders at once (a sweep's failed
    groups), to those still `when`: reserved and moved by one statement, their refunds, provider jobs and events
    written by one each. The orders refunded."""
    claims = await repository.reserve_all_left(session, order_ids, when, status=S.REFUNDING, resume_status=when)
    await _open_refunds(session, claims, reason, "system", R.PROCESSING, clock.now())
    return [order.id for order, _ in claims]
