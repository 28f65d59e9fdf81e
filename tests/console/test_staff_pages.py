"""Staff management for owners: the page lists members with Chinese role names and status, and every change (add,
role, disable / enable, password) goes through /admin/staff; others may not open it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.console.conftest import Desk, sign_in
from tests.support import Mall, problem

XSS = "<img src=x onerror=alert(1)>"


async def test_owner_sees_members_and_the_forms(desk: Callable[..., Awaitable[Desk]], mall: Mall,
                                               beta: Mall) -> None:
    owner = await desk("owner")
    page = await owner.page("/console/staff")
    assert page.status_code == 200, page.text
    for word in ("店主", "运营", "财务", "客服", "正常", "添加员工", "至少 10 位",
                 'data-api="POST /api/v1/admin/staff"'):
        assert word in page.text, word
    assert page.text.count("停用</button>") == 3  # every member but the owner themself
    assert "不能修改自己的角色" in page.text
    for role in ("operator", "finance", "support"):
        assert (await (await desk(role)).page("/console/staff")).status_code == 403
    theirs = (await (await desk("owner", slug="beta")).page("/console/staff")).text
    assert theirs.count("停用</button>") == 3


async def test_add_disable_enable_and_reset_through_the_api(desk: Callable[..., Awaitable[Desk]],
                                                            mall: Mall) -> None:
    owner = await desk("owner")
    problem(await owner.api("POST", "/admin/staff", json={"username": XSS, "password": "long-enough-1",
                                                          "role": "support"}), 422, "invalid_request")
    problem(await owner.api("POST", "/admin/staff", json={"username": "clerk", "password": "short",
                                                          "role": "support"}), 422, "invalid_request")
    made = await owner.api("POST", "/admin/staff", json={"username": "clerk", "password": "long-enough-1",
                                                         "role": "support"})
    assert made.status_code == 201, made.text
    clerk = made.json()["id"]
    page = (await owner.page("/console/staff")).text
    assert f'id="staff-{clerk}"' in page and "clerk" in page
    assert (await owner.api("PATCH", f"/admin/staff/{clerk}", json={"role": "operator"})).status_code == 200
    assert (await owner.api("PATCH", f"/admin/staff/{clerk}", json={"active": False})).status_code == 200
    page = (await owner.page("/console/staff")).text
    row = page.split(f'id="staff-{clerk}"', 1)[1].split("</tr>", 1)[0]
    assert "运营" in row and "已停用" in row and "启用</button>" in row
    async with owner.browser.__class__(transport=owner.browser._transport, base_url=owner.browser.base_url,
                                       headers={"Origin": str(owner.browser.base_url).rstrip("/")}) as other:
        assert (await sign_in(other, mall.slug, "clerk", "long-enough-1")).status_code == 401
    assert (await owner.api("PATCH", f"/admin/staff/{clerk}", json={"active": True,
                                                                     "password": "another-pass-2"})).status_code == 200
    problem(await owner.api("PATCH", f"/admin/staff/{clerk}", json={"password": "short"}), 422, "invalid_request")
    log = (await owner.api("GET", "/admin/audit-log", params={"action": "staff.update"})).json()["items"]
    assert len(log) == 3 and log[0]["detail"].get("password_changed") is True
