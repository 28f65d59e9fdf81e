"""The audit log (操作日志): every successful staff write leaves one row, written by the API whichever client made the
request (the route list below comes from the app itself, so a new route is covered or this test fails); the log's API
pages and filters; the console page shows who, when, what and before → after; merchant beta sees nothing of acme."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts

from fissionmall.core.audit import declares_no_write
from fissionmall.core.transaction import TransactionalRoute, required_audience
from tests.console.conftest import Desk
from tests.console.test_campaign_pages import group_body
from tests.support import SHIPMENT, Mall, problem, rows

API = "/api/v1"
WRITES_NOTHING = {
    "POST /api/v1/admin/simulations",
    "POST /api/v1/admin/campaigns/{campaign_id}/lint",
    "POST /api/v1/admin/plans/lint",
}
"""The state-changing methods that change nothing (a forecast, a linter run) and so leave no row: declared on the route
(core.audit.WRITES_NOTHING) and listed here, so that a new exemption is reviewed."""


def staff_writes(app: FastAPI) -> list[tuple[str, str, APIRoute, Any]]:
    """Every state-changing route a staff member may call: (method, path as the API serves it, route, the route as
    included in the app)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and required_audience(route.dependant) == "staff":
            for method in sorted((context.methods or set()) - {"GET", "HEAD", "OPTIONS"}):
                found.append((method, context.path_format, route, context))
    return found


@contextmanager
def use_cases_stubbed(writes: list[tuple[str, str, APIRoute, Any]]) -> Iterator[None]:
    """Each route's use case replaced by one that answers success without touching anything, its body unchecked:
    the route's own class, authentication and role check still run, so what is left to prove is that the route
    itself writes the audit row."""
    dependants = {id(d): (d, route) for _, _, route, context in writes
                  for d in (route.dependant, getattr(context, "dependant", route.dependant))}
    kept = [(d, d.call, d.body_params) for d, _ in dependants.values()]

    def stub_for(route: APIRoute) -> Callable[..., Awaitable[JSONResponse]]:
        async def answered(**_: Any) -> JSONResponse:
            return JSONResponse({"id": 7}, status_code=route.status_code or 200)

        return answered

    try:
        for dependant, route in dependants.values():
            dependant.call = stub_for(route)
            dependant.body_params = []
        yield
    finally:
        for dependant, call, body_params in kept:
            dependant.call, dependant.body_params = call, body_params


async def audit_rows(mall: Mall) -> list[tuple[Any, ...]]:
    return await rows(mall.runtime, "SELECT action, subject, detail, staff_id, source_ip FROM audit_log "
                                    "WHERE merchant_id = :m ORDER BY id", m=mall.merchant_id)


def rows_of_table(page: str) -> str:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def detail_of(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else json.loads(raw)


async def test_every_staff_write_route_leaves_one_audit_row(app: FastAPI, client, mall: Mall) -> None:
    writes = staff_writes(app)
    assert len(writes) >= 38, writes
    assert all(isinstance(route, TransactionalRoute) for _, _, route, _ in writes)
    owner = await mall.staff("owner")
    declared = {f"{method} {path}" for method, path, route, _ in writes if declares_no_write(route.dependant)}
    assert declared == WRITES_NOTHING
    missing, extra, logged = [], [], []
    with use_cases_stubbed(writes):
        for method, path, route, _ in writes:
            url = re.sub(r"{(\w+)}", lambda m: "approve" if m.group(1) == "decision" else "5", path)
            before = len(await audit_rows(mall))
            answer = await client.request(method, url.removeprefix(API), headers=owner,
                                          json={"note": "x", "password": "hunter2-hunter2"})
            assert answer.status_code < 400, (method, path, answer.text)
            written = (await audit_rows(mall))[before:]
            action = f"{method} {route.path}"
            if f"{method} {path}" in WRITES_NOTHING:
                if written:
                    logged.append((action, written))
                continue
            if len(written) != 1:
                (missing if not written else extra).append((action, written))
                continue
            row_action, subject, detail, staff_id, _ = written[0]
            assert row_action == action
            assert subject == (" ".join(f"{name.removesuffix('_id')}:{'approve' if name == 'decision' else 5}"
                                        for name in re.findall(r"{(\w+)}", path)) or
                               ("new:7" if answer.status_code == 201 else ""))
            assert detail_of(detail)["after"] == {"note": "x", "password": "***"}
    assert not missing, f"no audit row: {missing}"
    assert not extra, f"more than one audit row: {extra}"
    assert not logged, f"a row for a route that writes nothing: {logged}"


async def test_a_write_records_who_when_where_and_before_after(client, mall: Mall) -> None:
    owner = await mall.staff("owner")
    changed = await client.patch("/admin/merchant", headers=owner, json={"name": "新名字", "shipping_fee_fen": 800,
                                                                          "wechat_secret": "a" * 32})
    assert changed.status_code == 200, changed.text
    action, subject, detail, staff_id, ip = (await audit_rows(mall))[-1]
    assert (action, subject) == ("PATCH /admin/merchant", "")
    assert detail_of(detail) == {
        "before": {"name": "acme mall", "shipping_fee_fen": 0, "wechat_secret": None},
        "after": {"name": "新名字", "shipping_fee_fen": 800, "wechat_secret": "***"}}
    owner_id = (await rows(mall.runtime, "SELECT id FROM staff WHERE merchant_id = :m AND role = 'owner'",
                           m=mall.merchant_id))[0][0]
    assert staff_id == owner_id and ip


async def test_refused_writes_leave_no_row_and_service_rows_are_not_doubled(client, mall: Mall) -> None:
    owner, support = await mall.staff("owner"), await mall.staff("support")
    start = len(await audit_rows(mall))
    problem(await client.patch("/admin/merchant", headers=support, json={"name": "x"}), 403, "forbidden")
    problem(await client.post("/admin/orders/999999/ship", headers=owner, json=SHIPMENT), 404, "order_not_found")
    assert len(await audit_rows(mall)) == start
    made = await client.post("/admin/staff", headers=owner, json={"username": "clerk", "password": "long-enough-1",
                                                                    "role": "support"})
    assert made.status_code == 201, made.text
    disabled = await client.patch(f"/admin/staff/{made.json()['id']}", headers=owner, json={"active": False})
    assert disabled.status_code == 200, disabled.text
    written = (await audit_rows(mall))[start:]
    assert [row[0] for row in written] == ["staff.create", "staff.update"]
    assert "password" not in json.dumps([detail_of(row[2]) for row in written])


async def test_an_order_shipped_is_logged_with_its_id(client, mall: Mall) -> None:
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    await mall.pay(alice, order["id"])
    shipped = await client.post(f"/admin/orders/{order['id']}/ship", headers=await mall.staff("support"),
                                json=SHIPMENT)
    assert shipped.status_code == 200, shipped.text
    action, subject, detail, _, _ = (await audit_rows(mall))[-1]
    assert (action, subject, detail_of(detail)) == ("POST /admin/orders/{order_id}/ship", f"order:{order['id']}",
                                                    {"after": SHIPMENT})


async def test_the_log_api_pages_and_filters_and_is_refused_without_audit_read(client, mall: Mall,
                                                                               beta: Mall) -> None:
    owner, finance = await mall.staff("owner"), await mall.staff("finance")
    for name in ("一号店", "二号店", "三号店"):
        assert (await client.post("/admin/stores", headers=owner, json={"name": name})).status_code == 201
    first = await client.get("/admin/audit-log", headers=finance, params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["action_name"] for item in page["items"]][:2] == ["添加门店", "添加门店"]
    assert page["items"][0]["detail"]["after"] == {"name": "三号店"} and page["items"][0]["username"] == "owner"
    rest = (await client.get("/admin/audit-log", headers=finance,
                             params={"limit": 50, "cursor": page["next_cursor"]})).json()
    assert rest["next_cursor"] is None
    assert [i["detail"].get("after", {}).get("name") for i in rest["items"] if i["action"] == "POST /admin/stores"] \
        == ["一号店"]
    only = (await client.get("/admin/audit-log", headers=finance, params={"action": "staff.login"})).json()
    assert only["items"] and {i["action"] for i in only["items"]} == {"staff.login"}
    owner_id = page["items"][0]["staff_id"]
    by_owner = (await client.get("/admin/audit-log", headers=finance, params={"staff_id": owner_id})).json()
    assert {i["staff_id"] for i in by_owner["items"]} == {owner_id}
    today = mall.runtime.clock.now().date().isoformat()
    none_yet = (await client.get("/admin/audit-log", headers=finance, params={"until": "2000-01-01"})).json()
    assert none_yet["items"] == []
    assert (await client.get("/admin/audit-log", headers=finance, params={"since": today})).json()["items"]
    problem(await client.get("/admin/audit-log", headers=await mall.staff("operator")), 403, "forbidden")
    problem(await client.get("/admin/audit-log", headers=finance, params={"cursor": "x"}), 422, "invalid_cursor")
    theirs = (await client.get("/admin/audit-log", headers=await beta.staff("owner"))).json()
    assert all("店" not in json.dumps(i, ensure_ascii=False) for i in theirs["items"])
    assert {i["action"] for i in theirs["items"]} == {"staff.login"}


async def test_the_audit_page_shows_changes_readably(desk: Callable[..., Awaitable[Desk]], mall: Mall,
                                                    beta: Mall) -> None:
    finance, owner = await desk("finance"), await desk("owner")
    changed = await owner.api("PATCH", "/admin/merchant", json={"name": "<img src=x onerror=alert(1)>",
                                                                  "shipping_fee_fen": 800})
    assert changed.status_code == 200, changed.text
    page = await finance.page("/console/audit")
    assert page.status_code == 200, page.text
    text = page.text
    assert "修改店铺设置" in text and "owner" in text
    assert "<del>0</del>" in text and "<ins>800</ins>" in text
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    filtered = rows_of_table((await finance.page("/console/audit", action="staff.login")).text)
    assert "修改店铺设置" not in filtered and "登录" in filtered
    beta_page = await desk("owner", slug="beta")
    seen = (await beta_page.page("/console/audit")).text
    assert "修改店铺设置" not in rows_of_table(seen) and "onerror" not in seen
    refused = await (await desk("operator")).page("/console/audit")
    assert refused.status_code == 403


async def test_a_forecast_and_the_linters_leave_no_row(client, mall: Mall) -> None:
    owner = await mall.staff("owner")
    campaign = await client.post("/admin/campaigns", headers=owner, json=group_body(mall))
    assert campaign.status_code == 201, campaign.text
    start = len(await audit_rows(mall))
    linted = await client.post(f"/admin/campaigns/{campaign.json()['id']}/lint", headers=owner)
    assert linted.status_code == 200, linted.text
    preset = (await client.get("/admin/plans/presets/3+9", headers=owner)).json()
    assert (await client.post("/admin/plans/lint", headers=owner, json=preset["plan"])).status_code == 200
    assert (await client.post("/admin/simulations", headers=owner, json={"runs": 100})).status_code == 200
    assert len(await audit_rows(mall)) == start
