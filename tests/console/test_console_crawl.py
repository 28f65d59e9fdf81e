"""Every console page, opened by every role of merchant A and by merchant B's owner, over a mall with a shopper who
typed markup into everything they could:

- each role opens exactly the pages its permissions allow (403 for the rest) and its menu lists exactly those;
- each form a page shows a role posts to an API route that role may use, and each form the owner sees there but the
  role does not is one the API refuses the role (the page hides exactly what is refused);
- B's staff open none of A's records and see nothing of A's on their own pages;
- what a shopper typed is shown as text, never as markup.

The pages are found from the app's routes, so a new page is crawled without a change here (a new path parameter
needs a sample in `samples`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from fissionmall.core.auth import ROLE_PERMISSIONS, route_permission
from fissionmall.web.console.nav import NAV
from tests.campaigns.groupbuy.test_group_flow import group_campaign, group_order
from tests.console.conftest import Desk
from tests.support import ADDRESS, Mall

MARKUP = "<img src=x onerror=alert(1)>"
A_ONLY = "阿克米独家"
"""A word in A's own records, to look for on B's pages."""
FORM = re.compile(r'data-api="(GET|POST|PUT|PATCH|DELETE) ([^"]+)"')
ROLES = tuple(ROLE_PERMISSIONS)


def console_pages(app: FastAPI) -> list[tuple[str, str | None]]:
    """(path template, permission) of every console page a browser opens with GET."""
    return [(r.path, route_permission(r.route.dependant)) for r in iter_route_contexts(app.routes)
            if r.path.startswith("/console") and "GET" in (r.methods or ()) and r.path != "/console/login"]


def api_routes(app: FastAPI) -> list[tuple[str, re.Pattern[str], str | None]]:
    """(method, path pattern, permission) of every merchant API route a console form may post to."""
    found = []
    for r in iter_route_contexts(app.routes):
        if r.path.startswith("/api/v1/admin"):
            pattern = re.compile("^" + "[^/]+".join(map(re.escape, re.split(r"{\w+}", r.path))) + "$")
            found += [(method, pattern, route_permission(r.route.dependant)) for method in r.methods or ()]
    return found


def permission_of(routes: list[tuple[str, re.Pattern[str], str | None]], method: str, path: str) -> str | None:
    path = path.split("?")[0]
    for route_method, pattern, permission in routes:
        if route_method == method and pattern.match(path):
            return permission
    raise AssertionError(f"a console form posts to {method} {path}, which no merchant API route serves")


def allowed(role: str, permission: str | None) -> bool:
    return permission is None or permission in ROLE_PERMISSIONS[role]


@pytest.fixture
async def samples(mall: Mall) -> dict[str, int]:
    """One record of A's for each path parameter a console page takes, made by a shopper who typed markup."""
    owner = await mall.staff("owner")
    product = await mall.client.post("/admin/products", headers=owner, json={
        "title": f"{A_ONLY}好茶", "skus": [{"code": "acme-only", "name": "一罐", "price_fen": 1200, "stock": 5}]})
    assert product.status_code == 201, product.text
    shopper = await mall.shopper("markup", nickname=MARKUP)
    order = await mall.client.post("/orders", headers=shopper, json={
        "items": [{"sku_id": mall.sku_id, "quantity": 1}], "note": MARKUP,
        "address": {**ADDRESS, "name": MARKUP, "detail": MARKUP}})
    assert order.status_code == 201, order.text
    await mall.pay(shopper, order.json()["id"])
    campaign_id = await group_campaign(mall)
    await mall.pay(shopper, (await group_order(mall, shopper, campaign_id))["id"])
    customer = (await mall.client.get("/me", headers=shopper)).json()
    return {"product_id": product.json()["id"], "campaign_id": campaign_id, "order_id": order.json()["id"],
            "customer_id": customer["id"]}


def concrete(pages: list[tuple[str, str | None]], samples: dict[str, int]) -> list[tuple[str, str | None]]:
    missing = {name for path, _ in pages for name in re.findall(r"{(\w+)}", path) if name not in samples}
    assert not missing, f"add a sample of A's for these console path parameters: {sorted(missing)}"
    return [(re.sub(r"{(\w+)}", lambda m: str(samples[m.group(1)]), path), permission) for path, permission in pages]


async def test_each_role_opens_exactly_its_pages_and_sees_exactly_its_menu(
        app: FastAPI, desk: Callable[..., Awaitable[Desk]], samples: dict[str, int]) -> None:
    pages = concrete(console_pages(app), samples)
    assert len(pages) >= 8
    for role in ROLES:
        member = await desk(role)
        wrong = []
        for path, permission in pages:
            answer = await member.page(path)
            expected = 200 if allowed(role, permission) else 403
            if answer.status_code != expected:
                wrong.append((path, answer.status_code, expected))
        assert wrong == [], f"{role}: (page, status, expected) {wrong}"
        menu = re.findall(r'<aside class="sidebar">.*?</aside>', (await member.page("/console")).text, re.S)[0]
        assert re.findall(r'href="([^"]+)"', menu) == [item.path for item in NAV if allowed(role, item.permission)]


async def test_each_role_is_shown_exactly_the_forms_the_api_lets_it_use(
        app: FastAPI, desk: Callable[..., Awaitable[Desk]], samples: dict[str, int]) -> None:
    pages, routes = concrete(console_pages(app), samples), api_routes(app)
    owner = await desk("owner")
    owners_forms = {path: set(FORM.findall((await owner.page(path)).text)) for path, _ in pages}
    assert sum(map(len, owners_forms.values())) >= 10, owners_forms
    for role in ROLES[1:]:
        member = await desk(role)
        for path, permission in pages:
            if not allowed(role, permission):
                continue
            shown = set(FORM.findall((await member.page(path)).text))
            refused_shown = [form for form in shown if not allowed(role, permission_of(routes, *form))]
            assert refused_shown == [], f"{role} on {path} is shown forms the API refuses it"
            for method, api in owners_forms[path] - shown:
                assert not allowed(role, permission_of(routes, method, api)), \
                    f"{role} on {path} is not shown {method} {api}, which the API lets it use"
                answer = await member.browser.request(method, api, json={}, headers={"X-CSRF-Token": member.csrf})
                assert answer.status_code == 403, (role, method, api, answer.status_code)


async def test_merchant_b_opens_none_of_a_s_records_and_sees_nothing_of_a_s(
        app: FastAPI, desk: Callable[..., Awaitable[Desk]], samples: dict[str, int], beta: Mall) -> None:
    b_owner = await desk("owner", slug="beta")
    for path, _ in concrete(console_pages(app), samples):
        answer = await b_owner.page(path)
        if re.search(r"/\d+(/|$)", path):
            assert answer.status_code == 404, (path, answer.status_code)
        else:
            assert answer.status_code == 200 and A_ONLY not in answer.text and "markup" not in answer.text, path


async def test_what_a_shopper_typed_is_shown_as_text_on_every_page(
        app: FastAPI, desk: Callable[..., Awaitable[Desk]], samples: dict[str, int]) -> None:
    owner = await desk("owner")
    shown: dict[str, Any] = {}
    for path, _ in concrete(console_pages(app), samples):
        answer = await owner.page(path)
        if not answer.headers["content-type"].startswith("text/html"):
            continue  # an export: a spreadsheet shows text as text (exports.cell keeps formulas out)
        text = answer.text
        assert MARKUP not in text, path
        shown[path] = "&lt;img src=x onerror=alert(1)&gt;" in text
    named_on = [f"/console/campaigns/{samples['campaign_id']}/records", "/console/orders", "/console/customers",
                f"/console/orders/{samples['order_id']}", f"/console/customers/{samples['customer_id']}"]
    assert [path for path in named_on if not shown[path]] == [], "the shopper is named on each of these pages"
