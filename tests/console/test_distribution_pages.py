"""The console's distribution section: settings with rates as percentages and the level-2 approval record, the
distributors (applications, grades, search), the commission ledger (and its API, a keyset page at a time), the
withdrawals finance approves and the sandbox pays, and the CSV exports; each role sees only what it may use, a
shopper's nickname is shown as text, and merchant beta sees nothing of acme."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.console.conftest import Desk
from tests.distribution.test_commissions import APPROVAL, Person, apply, configured
from tests.distribution.test_withdrawals import earn, identify, withdraw
from tests.support import LONG_TOKEN_TTL_SECONDS, Mall, problem, refused_unchanged

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

EVIL = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
DeskOf = Callable[..., Awaitable[Desk]]


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


async def join(mall: Mall, nickname: str, openid: str) -> Person:
    """A customer who typed `nickname`, applied to be a distributor."""
    answer = await mall.client.post("/auth/dev-login", json={"merchant_slug": mall.slug, "openid": openid,
                                                             "nickname": nickname})
    assert answer.status_code == 200, answer.text
    person = Person(openid, {"Authorization": f"Bearer {answer.json()['token']}"}, int(answer.json()["customer_id"]))
    await apply(mall, person)
    return person


async def payee(mall: Mall, nickname: str, openid: str, quantity: int) -> Person:
    """A distributor with quantity × 100 fen settled and a checked identity (张三)."""
    person = await join(mall, nickname, openid)
    await earn(mall, person, quantity)
    assert (await identify(mall, person)).status_code == 200
    return person


async def commissions(desk: Desk, **params: Any) -> dict[str, Any]:
    answer = await desk.api("GET", "/admin/commissions", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_settings_show_rates_as_percentages_and_the_approval_record(desk: DeskOf, mall: Mall) -> None:
    await configured(mall, level1_bp=1250, level2_bp=500)
    owner, finance = await desk("owner"), await desk("finance")
    page = (await owner.page("/console/distribution")).text
    assert "分销员：一级 12.50%，二级 5.00%" in page and APPROVAL in page and "二级分销" in page
    assert 'data-api="PUT /api/v1/admin/distribution"' in page and 'value="12.50" data-percent' in page
    seen = (await finance.page("/console/distribution")).text
    assert "12.50%" in seen and "保存设置" not in seen and "提现审核" in seen


async def test_level_two_without_the_record_is_said_by_its_field_in_chinese(desk: DeskOf, mall: Mall) -> None:
    owner = await desk("owner")
    body = {"enabled": True, "grades": [{"grade": 1, "name": "分销员", "level1_bp": 1000, "level2_bp": 500}]}
    answer = problem(await owner.api("PUT", "/admin/distribution", json=body), 409, "lint_blocked")
    assert answer["errors"][0]["field"] == "level2_approval" and "法律意见" in answer["errors"][0]["hint"]
    assert "二级佣金须先登记法律意见" in answer["findings"][0]["message"]


async def test_support_and_operator_see_no_withdrawals_and_no_settings_form(desk: DeskOf, mall: Mall) -> None:
    await configured(mall)
    for role in ("support", "operator"):
        clerk = await desk(role)
        page = (await clerk.page("/console/distribution")).text
        assert "提现审核" not in page and "保存设置" not in page
        assert (await clerk.page("/console/distribution/withdrawals")).status_code == 403
        assert (await clerk.page("/console/distribution/withdrawals.csv")).status_code == 403


async def test_applications_are_listed_escaped_searchable_and_decided_by_the_owner(desk: DeskOf, mall: Mall) -> None:
    await configured(mall, auto_approve=False)
    evil = await join(mall, EVIL, "evil")
    await join(mall, "阿花", "ahua")
    owner, finance = await desk("owner"), await desk("finance")
    page = (await owner.page("/console/distribution/distributors", status="pending")).text
    assert ESCAPED in page and EVIL not in page and "阿花" in page
    assert f"/api/v1/admin/distributors/{evil.id}/approve" in page
    found = (await owner.page("/console/distribution/distributors", q="阿")).text
    assert "阿花" in found and ESCAPED not in found
    assert "/approve" not in (await finance.page("/console/distribution/distributors")).text
    assert (await owner.api("POST", f"/admin/distributors/{evil.id}/approve")).status_code == 200
    approved = (await owner.page("/console/distribution/distributors", status="approved")).text
    assert ESCAPED in approved and f"PATCH /api/v1/admin/distributors/{evil.id}" in approved


async def test_the_commission_api_pages_by_keyset_and_filters(desk: DeskOf, mall: Mall) -> None:
    await configured(mall, level2_bp=0, approval=None)
    first, second = await join(mall, "甲", "jia"), await join(mall, "乙", "yi")
    for _ in range(3):
        await earn(mall, first, 1)
    await earn(mall, second, 2)
    finance = await desk("finance")
    whole = await commissions(finance)
    assert [(c["beneficiary_name"], c["amount_fen"], c["status"]) for c in whole["items"]] == [
        ("乙", 200, "settled"), ("甲", 100, "settled"), ("甲", 100, "settled"), ("甲", 100, "settled")]
    assert whole["next_cursor"] is None
    page1 = await commissions(finance, limit=2)
    page2 = await commissions(finance, limit=2, cursor=page1["next_cursor"])
    assert [c["id"] for c in page1["items"] + page2["items"]] == [c["id"] for c in whole["items"]]
    mine = await commissions(finance, distributor_id=first.id)
    assert {c["beneficiary_id"] for c in mine["items"]} == {first.id} and len(mine["items"]) == 3
    assert (await commissions(finance, status="frozen"))["items"] == []
    problem(await finance.api("GET", "/admin/commissions", params={"limit": 51}), 422, "invalid_request")
    problem(await finance.api("GET", "/admin/commissions", params={"cursor": "x"}), 422, "invalid_cursor")
    page = (await finance.page("/console/distribution/commissions", distributor=str(first.id))).text
    assert page.count("<td>一级</td>") == 3 and "乙" not in page


async def test_beta_sees_nothing_of_acme(desk: DeskOf, mall: Mall, beta: Mall) -> None:
    await configured(mall, level2_bp=0, approval=None)
    evil = await payee(mall, EVIL, "evil", 2)
    await withdraw(mall, evil, 150)
    stranger = await desk("owner", slug="beta")
    for path in ("/console/distribution", "/console/distribution/distributors", "/console/distribution/commissions",
                 "/console/distribution/withdrawals", "/console/distribution/commissions.csv",
                 "/console/distribution/withdrawals.csv"):
        answer = await stranger.page(path, status="all") if "withdrawals" in path else await stranger.page(path)
        assert answer.status_code == 200 and ESCAPED not in answer.text and "onerror" not in answer.text, path
    assert (await commissions(stranger))["items"] == []
    problem(await stranger.api("POST", f"/admin/withdrawals/{1}/approve"), 404, "withdrawal_not_found")


async def test_finance_approves_a_withdrawal_the_sandbox_pays_and_exports_both_lists(desk: DeskOf, mall: Mall) -> None:
    await configured(mall, level2_bp=0, approval=None)
    evil = await payee(mall, EVIL, "evil", 3)
    asked = await withdraw(mall, evil, 250)
    finance = await desk("finance")
    page = (await finance.page("/console/distribution/withdrawals")).text
    assert ESCAPED in page and EVIL not in page and "2.50" in page and "张三" in page
    assert f"/api/v1/admin/withdrawals/{asked['id']}/approve" in page and "拒绝原因" in page
    assert (await finance.api("POST", f"/admin/withdrawals/{asked['id']}/approve")).status_code == 200
    await mall.work()
    paid = (await finance.page("/console/distribution/withdrawals", status="paid")).text
    assert "已到账" in paid and f"sbx-{asked['withdrawal_no']}" in paid
    sheet = await finance.page("/console/distribution/withdrawals.csv", status="all")
    assert sheet.headers["content-type"].startswith("text/csv") and sheet.content.startswith(b"\xef\xbb\xbf")
    lines = sheet.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("编号,提现单号") and ",'" + EVIL + "," not in lines[1]
    assert ",2.50,已到账," in lines[1] and EVIL in lines[1]
    ledger = await finance.page("/console/distribution/commissions.csv")
    rows = ledger.content.decode("utf-8-sig").splitlines()
    assert ledger.content.startswith(b"\xef\xbb\xbf") and len(rows) == 2 and ",3.00,10.00%,30.00,已结算," in rows[1]


async def test_a_rejection_needs_a_real_reason_and_changes_nothing_otherwise(desk: DeskOf, mall: Mall) -> None:
    await configured(mall, level2_bp=0, approval=None)
    person = await payee(mall, "阿明", "aming", 2)
    asked = await withdraw(mall, person, 150)
    finance = await desk("finance")
    await refused_unchanged(mall, finance.api("POST", f"/admin/withdrawals/{asked['id']}/reject",
                                              json={"reason": "x"}), 422, "invalid_request",
                            tables=("withdrawals",))
    answer = await finance.api("POST", f"/admin/withdrawals/{asked['id']}/reject", json={"reason": "资料不符"})
    assert answer.status_code == 200 and answer.json()["status"] == "rejected"
    assert "资料不符" in (await finance.page("/console/distribution/withdrawals", status="rejected")).text
