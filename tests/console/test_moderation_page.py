"""Community moderation in the console: the queue shows what a keyword held and what reports queued, escapes what
shoppers typed, offers hide and show through the API, lists each kind shown or hidden, and saves the rules; only
roles that moderate open it, and another merchant's staff see none of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.community.test_posts import post
from tests.console.conftest import Desk
from tests.support import Mall

XSS = "<img src=x onerror=alert(1)>"


async def test_the_queue_lists_held_and_reported_items_and_saves_the_rules(
        desk: Callable[..., Awaitable[Desk]], mall: Mall, beta: Mall) -> None:
    operator = await desk("operator")
    saved = await operator.api("PUT", "/admin/community/settings", json={"keywords": ["加微信"], "report_threshold": 1})
    assert saved.status_code == 200, saved.text
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    held = await post(mall, alice, text=f"{XSS} 加微信")
    reported = await post(mall, alice, text="普通的帖子")
    answer = await mall.client.post(f"/posts/{reported['id']}/reports", headers=bob, json={"reason": "广告"})
    assert answer.status_code == 201, answer.text

    page = await operator.page("/console/moderation")
    assert page.status_code == 200, page.text
    assert f'id="post-{held["id"]}"' in page.text and f'id="post-{reported["id"]}"' in page.text
    assert "关键词拦截" in page.text and "用户举报" in page.text and "待审核（2）" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert f'data-api="POST /api/v1/admin/moderation/posts/{held["id"]}/show"' in page.text
    assert f'data-api="POST /api/v1/admin/moderation/posts/{reported["id"]}/hide"' in page.text
    assert 'data-api="PUT /api/v1/admin/community/settings"' in page.text and "加微信</textarea>" in page.text

    hidden = await operator.api("POST", f"/admin/moderation/posts/{reported['id']}/hide", json={"reason": "广告"})
    assert hidden.status_code == 200, hidden.text
    listing = (await operator.page("/console/moderation", view="posts", status="hidden")).text
    assert f'id="post-{reported["id"]}"' in listing and "原因：广告" in listing
    assert f'id="post-{held["id"]}"' in listing  # held: hidden until shown
    assert "待审核（1）" in (await operator.page("/console/moderation")).text
    assert (await (await desk("owner", slug="beta")).page("/console/moderation")).text.count('id="post-') == 0
    assert (await (await desk("finance")).page("/console/moderation")).status_code == 403


async def test_the_points_rules_page_keeps_the_post_points(desk: Callable[..., Awaitable[Desk]], mall: Mall) -> None:
    """The points form sends the whole rules: the post points and their daily cap are in it (saving the page never
    resets them), and the tasks form offers post tasks."""
    owner = await desk("owner")
    rules = {"earn_per_yuan": 1, "fen_per_100_points": 100, "max_redeem_percent": 50, "validity_days": 365,
             "checkin_points": 5, "streak_bonus": 1, "streak_cap": 7, "review_points": 0, "post_points": 10,
             "post_daily_cap": 2}
    assert (await owner.api("PUT", "/admin/points", json=rules)).status_code == 200
    page = (await owner.page("/console/loyalty/points")).text
    assert 'name="post_points" type="text" value="10"' in page and 'name="post_daily_cap" type="text" value="2"' in page
    assert "10 积分，每天最多 2 篇" in page
    assert "社区发帖" in (await owner.page("/console/loyalty/tasks")).text
