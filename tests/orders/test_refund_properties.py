"""Properties of refunding an order line by line (orders/rules.py), over the random carts and benefits of the pricing
properties: refunding every line, in any order and in parts (and refunds of the order between them), gives back
exactly the order's cash, the shop credit and the points it used, never a fen or a point more at any step, never a
negative share, and never more of a line than its cash as priced."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from fissionmall.checkout.pricing import Benefits, Line, Priced, PricingRefused, Rules, price
from fissionmall.orders.rules import (
    benefit_due,
    order_lines,
    points_by_line,
    refund_parts,
    refunds_by_line,
)
from fissionmall.orders.states import REFUND_STATES, RefundStatus
from tests.checkout.test_pricing_properties import cases

pytestmark = pytest.mark.backend_free

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def priced_or_skip(lines: list[Line], benefits: Benefits, rules: Rules) -> Priced:
    try:
        priced = price(lines, benefits, rules)
    except PricingRefused:
        reject()
    assume(priced.total_fen > 0)  # nothing paid in cash: the merchant closes the order, no refund goes out
    return priced


def refund_all(case: tuple[list[Line], Benefits, Rules], data: st.DataObject, *, order_refunds: bool) -> None:
    lines, benefits, rules = case
    priced = priced_or_skip(lines, benefits, rules)
    order = order_lines(lines, priced.adjustments)
    spent = data.draw(st.integers(min_value=0, max_value=10**6), label="points spent")
    points = points_by_line(spent, order.points_fen, order.cash)
    credit_used = -sum(int(a["amount_fen"]) for a in priced.adjustments if a["kind"] == "wallet")
    assert sum(order.cash) == priced.total_fen
    assert sum(order.credit) == credit_used and sum(points) == spent
    assert all(cash >= 0 for cash in order.cash)

    paid = priced.total_fen
    refunded = [0] * len(lines)
    cash_back = credit_back = points_back = 0
    while sum(refunded) < paid:
        left = [cash - done for cash, done in zip(order.cash, refunded, strict=True)]
        open_lines = [i for i, rest in enumerate(left) if rest > 0]
        line = data.draw(st.sampled_from([*open_lines, None] if order_refunds else open_lines), label="line")
        most = left[line] if line is not None else sum(left)
        amount = data.draw(st.one_of(st.just(most), st.integers(min_value=1, max_value=most)), label="amount")
        parts = refund_parts(amount, left, line)
        assert sum(parts) == amount
        assert all(0 <= part <= rest for part, rest in zip(parts, left, strict=True))
        after = [done + part for done, part in zip(refunded, parts, strict=True)]
        closing = sum(after) == paid
        credit = benefit_due(order.credit, order.cash, refunded, after, closing=closing)
        points_now = benefit_due(points, order.cash, refunded, after, closing=closing)
        assert credit >= 0 and points_now >= 0
        cash_back, credit_back, points_back = cash_back + amount, credit_back + credit, points_back + points_now
        assert cash_back <= paid and credit_back <= credit_used and points_back <= spent
        refunded = after
    assert refunded == order.cash
    assert (cash_back, credit_back, points_back) == (paid, credit_used, spent)


@PROPERTY
@given(case=cases(), data=st.data())
def test_refunding_every_line_in_parts_gives_back_exactly_the_cash_and_each_benefit(case, data):
    refund_all(case, data, order_refunds=False)


@PROPERTY
@given(case=cases(), data=st.data())
def test_refunds_of_the_order_between_line_refunds_keep_every_line_and_benefit_exact(case, data):
    refund_all(case, data, order_refunds=True)


@PROPERTY
@given(cash=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=5).filter(any), data=st.data())
def test_refunds_kept_without_parts_are_split_as_refunds_of_the_order_were(cash, data):
    """A refund made before parts were kept reads back as the same split a refund of the order gets today."""
    left, made, stored = list(cash), [], []
    while sum(left) and len(made) < 4:
        amount = data.draw(st.integers(min_value=1, max_value=sum(left)))
        parts = refund_parts(amount, left, None)
        made.append(amount)
        stored.append(parts)
        left = [rest - part for rest, part in zip(left, parts, strict=True)]
    assert refunds_by_line(cash, [(amount, None) for amount in made]) == stored
    assert refunds_by_line(cash, list(zip(made, stored, strict=True))) == stored


def test_a_refund_is_decided_once_and_completed_once():
    """The refunds' table: a request is approved or rejected, only an approved (or issued) refund completes, and a
    completed or rejected refund never moves again."""
    R = RefundStatus
    assert REFUND_STATES.sources(R.PROCESSING) == REFUND_STATES.sources(R.REJECTED) == {R.REQUESTED}
    assert REFUND_STATES.sources(R.SUCCEEDED) == {R.PROCESSING}
    assert REFUND_STATES.final() == {R.SUCCEEDED, R.REJECTED}
    assert not REFUND_STATES.can_move("rejected", R.PROCESSING) and not REFUND_STATES.can_move("requested", R.SUCCEEDED)
