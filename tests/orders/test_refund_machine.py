"""A stateful Hypothesis machine over money: an order paid with cash, shop credit and points, then random steps
through the API and the worker — a line refunded in part or in full, the order refunded, a shopper's request
approved or rejected, the provider carrying refunds out, its notifications delivered again (the same one, and the
same refund under a new notification id) — and after every step the money checked:

- the order's refunds never pass what was paid, reserved or refunded (refunded ≤ reserved ≤ paid), and its refund
  rows add up to both; no line gives back more than its cash as priced, and each refund's parts add up to it;
- the wallet and the points balances equal their ledgers, and what came back of the credit and the points is, to
  the fen and the point, each line's share of its refunded cash rounded down (all of it once the order's cash is
  all refunded), computed here independently of the code;
- the order and each refund only ever took a move their state tables allow (or a refund's return of the order to
  where it was);
- once the worker is idle, the provider refunded exactly the order's refunded_fen, and a notification delivered
  again changes nothing.

The order is the one of test_line_refunds: SKU A 3 × 1 000 and SKU B 1 × 2 500, shipping 801, 400 points and 300 fen
of credit; the lines cost [3 055, 2 546] in cash, of which credit [164, 136] and points [218, 182].
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio.from_thread
import anyio.to_thread
import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from fissionmall.core.outbox import OutboxJob
from fissionmall.core.runtime import Runtime
from fissionmall.orders.models import Order, Refund
from fissionmall.orders.states import ORDER_STATES, REFUND_STATES, OrderStatus, RefundStatus
from fissionmall.payments.providers.sandbox import DELIVER_JOB, deliver_notification
from tests.orders.test_line_refunds import two_line_order
from tests.support import Mall, Who, customer_id, rows, sign_staff_tokens, value, work_until_idle

T = TypeVar("T")

CASH = (3055, 2546)
CREDIT = (164, 136)
POINTS = (218, 182)
PAID = sum(CASH)
REFUSALS = {(409, "refund_in_progress"), (409, "line_refunded"), (409, "invalid_transition"),
            (422, "refund_exceeds_line"), (422, "refund_exceeds_paid"), (409, "refund_not_pending")}
"""What a step may be told instead of being done, depending on where the order is: nothing else."""
MALLS = itertools.count()
OVER = 101
PARTS = st.one_of(st.none(), st.integers(min_value=1, max_value=100), st.just(OVER))
"""How much a step asks for: all that is left (none), a percent of what is left (of the line, or of the order), or a
fen more than is left."""


def on_loop(call: Callable[[], Awaitable[T]]) -> T:
    """Run an async step on the test's event loop, from the thread the machine runs in."""
    async def run() -> T:
        return await call()

    return anyio.from_thread.run(run)


class RefundMachine(RuleBasedStateMachine):
    client: httpx.AsyncClient
    runtime: Runtime

    def __init__(self) -> None:
        super().__init__()
        self.mall, self.shopper, self.order, self.skus, self.customer = on_loop(self._setup)
        self.status = OrderStatus.TO_SHIP.value
        self.resume: str | None = None
        self.refund_status: dict[int, str] = {}

    async def _setup(self) -> tuple[Mall, Who, dict[str, Any], tuple[int, int], int]:
        mall = await Mall.create(self.client, self.runtime, slug=f"machine{next(MALLS)}")
        await sign_staff_tokens(mall)
        shopper = await mall.shopper("alice")
        order, second = await two_line_order(mall, shopper)
        assert (order["paid_fen"], order["status"]) == (PAID, "to_ship")
        return mall, shopper, order, (mall.sku_id, second), await customer_id(mall, shopper)

    # --- steps ----------------------------------------------------------------------------------------------------

    def _answered(self, send: Callable[[], Awaitable[httpx.Response]]) -> None:
        """A refund request: done (201), or refused with one of the refusals its state explains, changing nothing."""
        before = on_loop(self._money)
        response = on_loop(send)
        if response.status_code != 201:
            assert (response.status_code, response.json().get("code")) in REFUSALS, response.text
            assert on_loop(self._money) == before

    def _refund(self, path: str, headers: Who, line: int | None, part: int | None) -> Callable[
            [], Awaitable[httpx.Response]]:
        body: dict[str, Any] = {"reason": "machine"}
        if line is not None:
            body["sku_id"] = self.skus[line]
        if part is not None:
            left = on_loop(lambda: self._left(line))
            body["amount_fen"] = left + 1 if part == OVER else max(1, left * part // 100)
        return lambda: self.mall.client.post(path, headers=headers, json=body)

    @rule(line=st.sampled_from([0, 1]), part=PARTS, then_work=st.booleans())
    def merchant_refunds_a_line(self, line: int, part: int | None, then_work: bool) -> None:
        """A line in part or in full: straight to the provider (whom the worker may ask at once)."""
        self._answered(self._refund(f"/admin/orders/{self.order['id']}/refunds", self._staff(), line, part))
        if then_work:
            self.only_moves_the_tables_allow()
            self.worker_runs()

    @rule(part=PARTS, then_work=st.booleans())
    def merchant_refunds_the_order(self, part: int | None, then_work: bool) -> None:
        self._answered(self._refund(f"/admin/orders/{self.order['id']}/refunds", self._staff(), None, part))
        if then_work:
            self.only_moves_the_tables_allow()
            self.worker_runs()

    @rule(line=st.sampled_from([0, 1, None]), part=PARTS)
    def shopper_asks(self, line: int | None, part: int | None) -> None:
        self._answered(self._refund(f"/orders/{self.order['id']}/refunds", self.shopper, line, part))

    @precondition(lambda self: RefundStatus.REQUESTED in self.refund_status.values())
    @rule(approve=st.booleans())
    def merchant_decides(self, approve: bool) -> None:
        refund_id = next(i for i, status in self.refund_status.items() if status == RefundStatus.REQUESTED)
        verdict, staff = "approve" if approve else "reject", self._staff()
        response = on_loop(lambda: self.mall.client.post(f"/admin/refunds/{refund_id}/{verdict}", headers=staff))
        assert response.status_code == 200, response.text

    @rule()
    def worker_runs(self) -> None:
        """The worker has the provider refund what is processing and delivers its notifications; once it is idle the
        provider has refunded exactly what the order counts as refunded."""
        on_loop(lambda: work_until_idle(self.mall))
        provided, refunded = on_loop(self._provided), on_loop(self._order_row).refunded_fen
        assert provided == refunded
        assert RefundStatus.PROCESSING not in on_loop(self._refund_statuses).values()

    @rule(fresh_id=st.booleans())
    def provider_notifies_again(self, fresh_id: bool) -> None:
        """Every refund notification already delivered, delivered again (as is, or under a new notification id):
        nothing changes."""
        before = on_loop(self._money)
        on_loop(lambda: self._notify_again(fresh_id))
        assert on_loop(self._money) == before

    def _staff(self) -> Who:
        return on_loop(lambda: self.mall.staff("finance"))

    # --- reading what is stored -------------------------------------------------------------------------------------

    async def _order_row(self) -> Order:
        async with self.runtime.sessionmaker() as session:
            return (await session.execute(select(Order).where(Order.id == self.order["id"]))).scalar_one()

    async def _refunds(self) -> list[Refund]:
        async with self.runtime.sessionmaker() as session:
            return list((await session.execute(select(Refund).where(Refund.order_id == self.order["id"])
                                               .order_by(Refund.id))).scalars())

    async def _left(self, line: int | None) -> int:
        """What is left to refund of a line (its cash less its parts of the refunds not rejected), or of the order."""
        kept = [r for r in await self._refunds() if r.status != RefundStatus.REJECTED]
        if line is None:
            return PAID - sum(r.amount_fen for r in kept)
        return CASH[line] - sum(r.line_shares[line] for r in kept)  # type: ignore[index]

    async def _refund_statuses(self) -> dict[int, str]:
        return {refund.id: refund.status for refund in await self._refunds()}

    async def _provided(self) -> int:
        """What the provider refunded on this order's payments."""
        found = await value(self.runtime, "SELECT coalesce(sum(amount_fen), 0) FROM sandbox_refunds "
                                          "WHERE out_trade_no = :no", no=self.order["order_no"])
        return int(found)

    async def _money(self) -> tuple[Any, ...]:
        """Everything a refund moves: the order's amounts and status, its refunds, the provider's refunds, the
        shopper's credit and points and their ledgers, and the order's events."""
        order = await self._order_row()
        refunds = [(r.id, r.status, r.amount_fen, r.line_shares) for r in await self._refunds()]
        ledgers = await rows(self.runtime, "SELECT (SELECT coalesce(sum(balance_fen), 0) FROM wallets WHERE "
                                           "customer_id = :c), (SELECT count(*) FROM wallet_entries WHERE "
                                           "customer_id = :c), (SELECT coalesce(sum(balance), 0) FROM points_balances "
                                           "WHERE customer_id = :c), (SELECT count(*) FROM points_entries WHERE "
                                           "customer_id = :c), (SELECT count(*) FROM events WHERE subject_type = "
                                           "'order' AND subject_id = :o)", c=self.customer, o=order.id)
        return (order.status, order.paid_fen, order.refund_reserved_fen, order.refunded_fen, order.resume_status,
                refunds, await self._provided(), ledgers)

    async def _notify_again(self, fresh_id: bool) -> None:
        async with self.runtime.sessionmaker() as session:
            payloads = (await session.execute(select(OutboxJob.payload).where(
                OutboxJob.kind == DELIVER_JOB, OutboxJob.status == "done"))).scalars().all()
        prefix = f"{self.order['order_no']}R"
        for payload in payloads:
            body = payload["body"]
            if str(body["resource"].get("out_refund_no", "")).startswith(prefix):
                again = {**body, "id": f"{body['id']}-again"} if fresh_id else body
                await deliver_notification(self.runtime, {"body": again})

    # --- invariants ---------------------------------------------------------------------------------------------------

    @invariant()
    def money_adds_up(self) -> None:
        order, refunds = on_loop(self._order_row), on_loop(self._refunds)
        assert 0 <= order.refunded_fen <= order.refund_reserved_fen <= order.paid_fen == PAID
        kept = [r for r in refunds if r.status != RefundStatus.REJECTED]
        succeeded = [r for r in refunds if r.status == RefundStatus.SUCCEEDED]
        assert sum(r.amount_fen for r in kept) == order.refund_reserved_fen
        assert sum(r.amount_fen for r in succeeded) == order.refunded_fen
        for refund in refunds:
            assert refund.line_shares is not None and sum(refund.line_shares) == refund.amount_fen
            assert all(part >= 0 for part in refund.line_shares)
            if refund.sku_id is not None:
                line = self.skus.index(refund.sku_id)
                assert refund.line_shares[line] == refund.amount_fen
        for line, cash in enumerate(CASH):
            assert sum(r.line_shares[line] for r in kept) <= cash  # type: ignore[index]
        assert on_loop(self._provided) >= order.refunded_fen

    @invariant()
    def credit_and_points_come_back_by_each_lines_share(self) -> None:
        order, refunds = on_loop(self._order_row), on_loop(self._refunds)
        done = [sum(r.line_shares[line] for r in refunds if r.status == RefundStatus.SUCCEEDED)  # type: ignore[index]
                for line in range(len(CASH))]

        def back(parts: tuple[int, ...]) -> int:
            if order.refunded_fen == order.paid_fen:
                return sum(parts)
            return sum(part * refunded // cash for part, refunded, cash in zip(parts, done, CASH, strict=True))

        wallet, wallet_ledger, points, points_ledger = on_loop(lambda: rows(
            self.runtime, "SELECT (SELECT coalesce(sum(balance_fen), 0) FROM wallets WHERE customer_id = :c), "
                          "(SELECT coalesce(sum(amount_fen), 0) FROM wallet_entries WHERE customer_id = :c), "
                          "(SELECT coalesce(sum(balance), 0) FROM points_balances WHERE customer_id = :c), "
                          "(SELECT coalesce(sum(points), 0) FROM points_entries WHERE customer_id = :c)",
            c=self.customer))[0]
        assert (wallet, points) == (wallet_ledger, points_ledger)
        assert (wallet, points) == (back(CREDIT), back(POINTS))

    @invariant()
    def only_moves_the_tables_allow(self) -> None:
        order = on_loop(self._order_row)
        if order.status != self.status:
            returned = self.status == OrderStatus.REFUNDING and order.status == self.resume
            assert ORDER_STATES.can_move(self.status, OrderStatus(order.status)) or returned, (self.status,
                                                                                              order.status)
        if order.status == OrderStatus.REFUNDING and self.status != OrderStatus.REFUNDING:
            self.resume = self.status
        self.status = order.status
        assert order.status in (OrderStatus.TO_SHIP, OrderStatus.REFUNDING, OrderStatus.REFUNDED)
        for refund_id, status in on_loop(self._refund_statuses).items():
            previous = self.refund_status.get(refund_id)
            if previous is None:
                assert status in (RefundStatus.REQUESTED, RefundStatus.PROCESSING, RefundStatus.SUCCEEDED)
            elif status != previous:
                assert REFUND_STATES.can_move(previous, RefundStatus(status)), (previous, status)
            self.refund_status[refund_id] = status


MACHINE = settings(max_examples=15, stateful_step_count=12, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))


async def test_random_refunds_keep_every_fen_and_point_accounted_for(client: httpx.AsyncClient,
                                                                     runtime: Runtime) -> None:
    RefundMachine.client, RefundMachine.runtime = client, runtime
    await anyio.to_thread.run_sync(lambda: run_state_machine_as_test(RefundMachine, settings=MACHINE))
