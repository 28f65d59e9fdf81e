"""What a person may type into a console address or filter: digits that are not ASCII ("②", "²" are digits to
str.isdigit, not to int), numbers too long for a BIGINT, the last day the calendar has, and plain wrong values. The
console answers its own pages (a filter ignored, or its error page in Chinese), never a 500 and never raw JSON; the
API keeps its problem+json. Searches by nickname ignore case on every database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from fissionmall.core.pagination import row_id_in
from tests.console.conftest import Desk
from tests.console.test_distribution_pages import join
from tests.distribution.test_commissions import configured
from tests.support import Mall, problem

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

DeskOf = Callable[..., Awaitable[Desk]]
CIRCLED, SUPERSCRIPT, LONG = "②", "²", "9" * 30
ODD = (CIRCLED, SUPERSCRIPT, LONG)


def test_a_typed_row_id_is_ascii_digits_that_fit_a_bigint() -> None:
    assert [row_id_in(text) for text in ("12", " 12 ", "", None, CIRCLED, SUPERSCRIPT, "①2", LONG, "9" * 18,
                                         "-3", "1e3")] == [12, 12, None, None, None, None, None, None, 10**18 - 1,
                                                           None, None]


@pytest.mark.parametrize("odd", ODD)
async def test_filters_with_odd_digits_are_ignored_not_a_crash(desk: DeskOf, mall: Mall, odd: str) -> None:
    owner = await desk("owner")
    for path, params in (("/console/customers", {"q": odd}),
                         ("/console/distribution/distributors", {"q": odd}),
                         ("/console/distribution/commissions", {"distributor": odd, "cursor": odd}),
                         ("/console/distribution/commissions.csv", {"distributor": odd}),
                         ("/console/distribution/withdrawals", {"cursor": odd}),
                         ("/console/audit", {"staff_id": odd}),
                         ("/console/reviews", {"rating": odd, "product_id": odd}),
                         ("/console/orders", {"customer": odd})):
        answer = await owner.page(path, **params)
        assert answer.status_code == 200, (path, params, answer.text[:300])


@pytest.mark.parametrize("odd", ODD)
async def test_an_odd_id_in_a_console_address_answers_the_error_page_in_chinese(desk: DeskOf, mall: Mall,
                                                                              odd: str) -> None:
    owner = await desk("owner")
    for path in (f"/console/campaigns/{odd}", f"/console/campaigns/{odd}/edit", f"/console/campaigns/{odd}/records",
                 f"/console/campaigns/simulate?campaign={odd}", f"/console/customers/{odd}",
                 f"/console/orders/{odd}", f"/console/products/{odd}"):
        answer = await owner.browser.get(path)
        assert answer.status_code == 422, (path, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "页面地址中的参数有误" in answer.text and 'data-code="invalid_page_link"' in answer.text


async def test_the_api_keeps_problem_json_for_the_same_mistakes(desk: DeskOf, mall: Mall) -> None:
    owner = await desk("owner")
    problem(await owner.api("GET", "/admin/campaigns/abc"), 422, "invalid_request")
    problem(await owner.api("GET", "/admin/commissions", params={"cursor": CIRCLED}), 422, "invalid_cursor")
    problem(await owner.api("GET", "/admin/commissions", params={"cursor": LONG}), 422, "invalid_cursor")
    for odd in ODD:
        assert (await owner.api("GET", "/admin/customers", params={"q": odd})).status_code == 200


@pytest.mark.parametrize("path", ["/console/orders", "/console/audit"])
async def test_the_last_day_of_the_calendar_as_a_date_filter_bounds_nothing(desk: DeskOf, mall: Mall,
                                                                            path: str) -> None:
    owner = await desk("owner")
    answer = await owner.page(path, since="0001-01-01", until="9999-12-31")
    assert answer.status_code == 200, answer.text[:300]
    assert (await owner.api("GET", "/admin/audit-log", params={"since": "0001-01-01", "until": "9999-12-31"})
            ).status_code == 200


async def test_customer_and_distributor_searches_ignore_case(desk: DeskOf, mall: Mall) -> None:
    await configured(mall)
    await join(mall, "TeaLover", "tealover")
    owner = await desk("owner")
    assert "TeaLover" in (await owner.page("/console/customers", q="tealover")).text
    assert "TeaLover" in (await owner.page("/console/distribution/distributors", q="TEALOVER")).text
