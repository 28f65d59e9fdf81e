"""Reviews moderation: the page lists a merchant's reviews with filters, escapes what shoppers typed, and hides /
shows through the API (with who, when and why); a hidden review leaves the shopper's lists and the rating."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.community.test_reviews import received, review
from tests.console.conftest import Desk
from tests.support import Mall, problem

XSS = "<img src=x onerror=alert(1)>"


async def reviewed(mall: Mall, openid: str, rating: int = 5, text: str = "香", nickname: str = "") -> int:
    who = await mall.shopper(openid, nickname=nickname or openid)
    order = await received(mall, who)
    made = await mall.client.post(f"/orders/{order['id']}/reviews", headers=who,
                                  json=review(mall, rating, text=text))
    assert made.status_code == 201, made.text
    review_id: int = made.json()["id"]
    return review_id


async def test_the_page_lists_filters_and_escapes(desk: Callable[..., Awaitable[Desk]], mall: Mall,
                                                 beta: Mall) -> None:
    await reviewed(mall, "eve", 1, text=XSS, nickname=XSS)
    await reviewed(mall, "bob", 5, text="很好喝")
    support = await desk("support")
    page = await support.page("/console/reviews")
    assert page.status_code == 200, page.text
    assert "很好喝" in page.text and "Tea" in page.text
    assert "<img src=x" not in page.text and page.text.count("&lt;img src=x onerror=alert(1)&gt;") == 2
    assert "很好喝" not in (await support.page("/console/reviews", rating="1")).text
    assert "很好喝" not in (await support.page("/console/reviews", status="hidden")).text
    assert "很好喝" not in (await (await desk("owner", slug="beta")).page("/console/reviews")).text
    assert (await (await desk("finance")).page("/console/reviews")).status_code == 403


async def test_hide_and_show_with_a_reason(desk: Callable[..., Awaitable[Desk]], client, mall: Mall,
                                           beta: Mall) -> None:
    kept, hidden = await reviewed(mall, "alice", 5, "好"), await reviewed(mall, "bob", 1, "广告 加微信")
    operator = await desk("operator")
    problem(await operator.api("POST", f"/admin/reviews/{hidden}/hide", json={"reason": ""}), 422, "invalid_request")
    made = await operator.api("POST", f"/admin/reviews/{hidden}/hide", json={"reason": "广告"})
    assert made.status_code == 200, made.text
    assert (made.json()["hidden"], made.json()["hidden_reason"]) == (True, "广告")
    listed = (await client.get(f"/products/{mall.product_id}/reviews", params={"merchant": mall.slug})).json()
    assert ([r["id"] for r in listed["reviews"]], listed["count"], listed["average_rating"]) == ([kept], 1, 5.0)
    page = (await operator.page("/console/reviews", status="hidden")).text
    assert "广告 加微信" in page and "原因：广告" in page and "operator" in page and "恢复显示" in page
    problem(await (await desk("owner", slug="beta")).api("POST", f"/admin/reviews/{hidden}/show"), 404,
            "review_not_found")
    problem(await (await desk("finance")).api("POST", f"/admin/reviews/{hidden}/show"), 403, "forbidden")
    shown = await operator.api("POST", f"/admin/reviews/{hidden}/show")
    assert shown.status_code == 200 and shown.json()["hidden"] is False and shown.json()["hidden_by"] is None
    listed = (await client.get(f"/products/{mall.product_id}/reviews", params={"merchant": mall.slug})).json()
    assert listed["count"] == 2
    by_operator = {"staff_id": made.json()["hidden_by"]}
    log = (await (await desk("owner")).api("GET", "/admin/audit-log", params=by_operator)).json()["items"]
    assert [(i["action_name"], i["subject"]) for i in log[:2]] == [("恢复显示评价", f"review:{hidden}"),
                                                                    ("隐藏评价", f"review:{hidden}")]
    assert log[1]["detail"] == {"before": {"hidden": False, "reason": None}, "after": {"reason": "广告"}}
    api_list = (await operator.api("GET", "/admin/reviews", params={"hidden": "false"})).json()
    assert {r["id"] for r in api_list["items"]} == {kept, hidden}
