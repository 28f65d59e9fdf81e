"""Community posts: 晒单 from a received order and plain posts with uploaded photos, likes once per customer, comments,
follows, the feed's tabs, reports, keyword holds and the one moderation queue, post points under a daily cap, post
tasks."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.community.test_reviews import POINTS, received, review
from tests.support import Mall, customer_id, problem, rows, snapshot_of, value

WATCHED = ("posts", "post_likes", "post_comments", "follows", "content_reports", "moderation_queue", "events",
           "outbox_jobs")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


async def photo(mall: Mall, who: dict[str, str]) -> str:
    uploaded = await mall.client.post("/community/media", headers=who, files={"file": ("a.png", png(), "image/png")})
    assert uploaded.status_code == 201, uploaded.text
    url: str = uploaded.json()["url"]
    return url


async def post(mall: Mall, who: dict[str, str], **body: Any) -> dict[str, Any]:
    made = await mall.client.post("/posts", headers=who, json={"text": "好看", **body})
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


async def feed(mall: Mall, who: dict[str, str] | None = None, **params: Any) -> list[int]:
    answer = await mall.client.get("/posts", headers=who or {}, params={"merchant": mall.slug, **params})
    assert answer.status_code == 200, answer.text
    return [p["id"] for p in answer.json()["items"]]


async def settings(mall: Mall, **values: Any) -> None:
    answer = await mall.client.put("/admin/community/settings", headers=await mall.staff(), json=values)
    assert answer.status_code == 200, answer.text


async def test_a_received_order_is_shown_off_with_its_product_and_photo(client, mall):
    """A 晒单 of a received order carries the product's card and the uploaded photo; a plain post has neither; the
    latest feed lists both newest first, the product's feed only the 晒单, and the product's reviews count it."""
    alice = await mall.shopper("alice")
    order = await received(mall, alice)
    url = await photo(mall, alice)
    assert url.startswith(f"/media/uploads/{mall.merchant_id}/")
    shown = await post(mall, alice, order_id=order["id"], images=[url])
    assert {k: shown[k] for k in ("kind", "order_id", "images", "nickname", "like_count", "status")} == {
        "kind": "show", "order_id": order["id"], "images": [url], "nickname": "alice", "like_count": 0,
        "status": "shown"}
    assert (shown["product"]["id"], shown["product"]["title"], shown["product"]["price_fen"]) == (
        mall.product_id, "Tea", 1000)
    plain = await post(mall, alice, text="今天天气好")
    assert (plain["kind"], plain["product"]) == ("plain", None)
    assert await feed(mall) == [plain["id"], shown["id"]]
    assert await feed(mall, product_id=mall.product_id) == [shown["id"]]
    reviews = (await client.get(f"/products/{mall.product_id}/reviews", params={"merchant": mall.slug})).json()
    assert reviews["posts"] == 1


async def test_refused_posts_change_nothing(client, mall):
    """Nothing to show (422 empty_post), a photo not uploaded here (422 image_not_uploaded), a product without its
    order (422 order_required), an order not received (409 not_showable) or someone else's (404), a product not in
    the order (422), too much text or ten photos (422 invalid_request), no sign-in (401), a file that is not an
    image (422 invalid_image): nothing is written."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    unpaid = await mall.order(alice)
    order = await received(mall, alice)
    url = await photo(mall, alice)
    before = await snapshot_of(mall.runtime, WATCHED)
    problem(await client.post("/posts", headers=alice, json={"text": "  "}), 422, "empty_post")
    problem(await client.post("/posts", headers=alice, json={"images": ["https://elsewhere.example/x.jpg"]}), 422,
            "image_not_uploaded")
    problem(await client.post("/posts", headers=alice, json={"text": "x", "product_id": mall.product_id}), 422,
            "order_required")
    problem(await client.post("/posts", headers=alice, json={"text": "x", "order_id": unpaid["id"]}), 409,
            "not_showable")
    problem(await client.post("/posts", headers=bob, json={"text": "x", "order_id": order["id"]}), 404,
            "order_not_found")
    problem(await client.post("/posts", headers=alice, json={"text": "x", "order_id": order["id"],
                                                             "product_id": 999_999}), 422, "product_not_in_order")
    for bad in ({"text": "长" * 1001}, {"images": [url] * 10}, {"images": ["not a url"]}, {"order_id": 0}):
        problem(await client.post("/posts", headers=alice, json={"text": "x", **bad}), 422, "invalid_request")
    problem(await client.post("/posts", json={"text": "x"}), 401, "unauthenticated")
    problem(await client.post("/community/media", headers=alice, files={"file": ("a.png", b"not an image")}), 422,
            "invalid_image")
    problem(await client.post("/community/media", files={"file": ("a.png", png())}), 401, "unauthenticated")
    assert await snapshot_of(mall.runtime, WATCHED) == before


async def test_a_retried_post_or_comment_with_its_idempotency_key_is_written_once(client, mall):
    """A post or comment sent again with the same Idempotency-Key (a phone retrying on a weak network) answers the
    first answer and writes nothing more; the same key with another body is refused."""
    alice = await mall.shopper("alice")
    key = {**alice, "Idempotency-Key": "post-1"}
    first = await client.post("/posts", headers=key, json={"text": "好看"})
    again = await client.post("/posts", headers=key, json={"text": "好看"})
    assert (first.status_code, again.status_code, again.json()["id"]) == (201, 201, first.json()["id"])
    problem(await client.post("/posts", headers=key, json={"text": "不一样"}), 422, "idempotency_key_reused")
    comments = f"/posts/{first.json()['id']}/comments"
    key = {**alice, "Idempotency-Key": "comment-1"}
    said = [await client.post(comments, headers=key, json={"text": "推荐"}) for _ in range(2)]
    assert [answer.status_code for answer in said] == [201, 201] and said[0].json() == said[1].json()
    assert await rows(mall.runtime, "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM post_comments)") == [
        (1, 1)]


async def test_a_like_counts_once_per_customer_and_can_be_taken_back(client, mall):
    """Liking twice counts once; another customer makes two; unliking (twice) takes one back; a post that does not
    exist (or another mall's) is 404 post_not_found."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    made = await post(mall, alice)
    likes = f"/posts/{made['id']}/likes"
    assert (await client.post(likes, headers=bob)).json() == {"liked": True, "like_count": 1}
    assert (await client.post(likes, headers=bob)).json() == {"liked": True, "like_count": 1}
    assert (await client.post(likes, headers=alice)).json() == {"liked": True, "like_count": 2}
    assert (await client.delete(likes, headers=bob)).json() == {"liked": False, "like_count": 1}
    assert (await client.delete(likes, headers=bob)).json() == {"liked": False, "like_count": 1}
    assert await value(mall.runtime, "SELECT count(*) FROM post_likes") == 1
    detail = (await client.get(f"/posts/{made['id']}", headers=alice)).json()
    assert (detail["post"]["liked"], detail["post"]["like_count"]) == (True, 1)
    problem(await client.post("/posts/999999/likes", headers=bob), 404, "post_not_found")
    problem(await client.post(likes), 401, "unauthenticated")


async def test_comments_show_at_once_or_wait_for_review_when_a_keyword_holds_them(client, mall):
    """A comment shows at once and counts; one with a keyword of the merchant is held: its author sees it marked
    held, nobody else, the post's count leaves it out, and it waits in the queue; staff show it (it counts), then
    hide it (it leaves the count and the list). A post with a keyword is held out of every feed, and published
    (its event written once) when staff show it."""
    await settings(mall, keywords=["加微信", " ", "加微信"], report_threshold=3)
    assert (await client.get("/admin/community/settings", headers=await mall.staff())).json() == {
        "keywords": ["加微信"], "report_threshold": 3}
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    made = await post(mall, alice)
    comments = f"/posts/{made['id']}/comments"
    first = await client.post(comments, headers=bob, json={"text": "真不错"})
    assert (first.status_code, first.json()["status"]) == (201, "shown")
    held = (await client.post(comments, headers=bob, json={"text": "便宜卖，加微信"})).json()
    assert held["status"] == "held"
    problem(await client.post(comments, headers=bob, json={"text": "   "}), 422, "empty_comment")
    problem(await client.post(comments, headers=bob, json={"text": "长" * 501}), 422, "invalid_request")
    listed = lambda who: client.get(comments, headers=who)  # noqa: E731
    assert [c["status"] for c in (await listed(bob)).json()["items"]] == ["shown", "held"]
    assert [c["id"] for c in (await listed(alice)).json()["items"]] == [first.json()["id"]]
    assert (await client.get(f"/posts/{made['id']}", headers=alice)).json()["post"]["comment_count"] == 1
    owner = await mall.staff()
    queue = (await client.get("/admin/moderation", headers=owner)).json()["items"]
    assert [(i["item_type"], i["item_id"], i["cause"], i["held"]) for i in queue] == [
        ("comment", held["id"], "keyword", True)]
    shown = await client.post(f"/admin/moderation/comments/{held['id']}/show", headers=owner)
    assert (shown.status_code, shown.json()["hidden"]) == (200, False)
    assert (await client.get("/admin/moderation", headers=owner)).json()["items"] == []
    assert (await client.get(f"/posts/{made['id']}", headers=alice)).json()["post"]["comment_count"] == 2
    hidden = await client.post(f"/admin/moderation/comments/{held['id']}/hide", headers=owner, json={"reason": "广告"})
    assert (hidden.json()["hidden"], hidden.json()["hidden_reason"], hidden.json()["held"]) == (True, "广告", False)
    assert (await client.get(f"/posts/{made['id']}", headers=alice)).json()["post"]["comment_count"] == 1
    assert len((await listed(bob)).json()["items"]) == 1

    kept = await post(mall, bob, text="加微信领红包")
    assert kept["status"] == "held"
    assert kept["id"] not in await feed(mall)
    problem(await client.get(f"/posts/{kept['id']}", headers=alice), 404, "post_not_found")
    assert (await client.get(f"/posts/{kept['id']}", headers=bob)).json()["post"]["status"] == "held"
    events = "SELECT count(*) FROM events WHERE kind = 'post' AND subject_id = :id"
    assert await value(mall.runtime, events, id=kept["id"]) == 0
    assert (await client.post(f"/admin/moderation/posts/{kept['id']}/show", headers=owner)).status_code == 200
    assert (await client.post(f"/admin/moderation/posts/{kept['id']}/hide", headers=owner,
                              json={"reason": "广告"})).status_code == 200
    assert (await client.post(f"/admin/moderation/posts/{kept['id']}/show", headers=owner)).status_code == 200
    assert kept["id"] in await feed(mall)
    assert await value(mall.runtime, events, id=kept["id"]) == 1


async def test_the_feed_tabs_following_friends_and_popular(client, mall):
    """关注 lists the posts of those followed (follow and unfollow; not oneself, not a stranger); 好友 the inviter's
    and the invitees' (the referral graph); 热门 orders by likes and comments; pages follow their cursors; the two
    personal tabs need a sign-in and a forged cursor is refused."""
    alice = await mall.shopper("alice")
    share = await client.post("/shares", headers=alice, json={"target_type": "product", "target_id": mall.product_id})
    bob = await mall.shopper("bob", share_code=share.json()["code"])
    carol = await mall.shopper("carol")
    alice_id, carol_id = await customer_id(mall, alice), await customer_id(mall, carol)
    by_alice, by_bob, by_carol = await post(mall, alice), await post(mall, bob), await post(mall, carol)

    assert await feed(mall, bob, tab="following") == []
    assert (await client.post(f"/follows/{carol_id}", headers=bob)).json() == {"following": True}
    assert (await client.post(f"/follows/{carol_id}", headers=bob)).json() == {"following": True}
    assert await feed(mall, bob, tab="following") == [by_carol["id"]]
    assert (await client.get(f"/posts/{by_carol['id']}", headers=bob)).json()["post"]["following"] is True
    assert (await client.delete(f"/follows/{carol_id}", headers=bob)).json() == {"following": False}
    assert await feed(mall, bob, tab="following") == []
    problem(await client.post(f"/follows/{await customer_id(mall, bob)}", headers=bob), 422, "cannot_follow_self")
    problem(await client.post("/follows/999999", headers=bob), 404, "customer_not_found")

    assert await feed(mall, bob, tab="friends") == [by_alice["id"]]
    assert await feed(mall, alice, tab="friends") == [by_bob["id"]]
    assert await feed(mall, carol, tab="friends") == []

    for who in (alice, bob, carol):
        assert (await client.post(f"/posts/{by_alice['id']}/likes", headers=who)).status_code == 200
    assert (await client.post(f"/posts/{by_bob['id']}/comments", headers=carol, json={"text": "赞"})).status_code == 201
    assert await feed(mall, tab="popular") == [by_alice["id"], by_bob["id"], by_carol["id"]]
    first = (await client.get("/posts", params={"merchant": mall.slug, "tab": "popular", "limit": 2})).json()
    rest = (await client.get("/posts", params={"merchant": mall.slug, "tab": "popular", "limit": 2,
                                               "cursor": first["next_cursor"]})).json()
    assert [p["id"] for p in first["items"] + rest["items"]] == [by_alice["id"], by_bob["id"], by_carol["id"]]
    page = (await client.get("/posts", params={"merchant": mall.slug, "limit": 1})).json()
    after = await feed(mall, cursor=page["next_cursor"], limit=1)
    assert [p["id"] for p in page["items"]] + after == [by_carol["id"], by_bob["id"]]
    problem(await client.get("/posts", params={"merchant": mall.slug, "tab": "friends"}), 401, "unauthenticated")
    for tab, cursor in (("latest", "x1"), ("popular", "12"), ("popular", "1_x")):
        problem(await client.get("/posts", params={"merchant": mall.slug, "tab": tab, "cursor": cursor}), 422,
                "invalid_cursor")
    assert alice_id != carol_id


async def test_reports_queue_an_item_and_hiding_it_takes_it_out_of_every_list_and_count(client, mall):
    """One report per customer per item (409 already_reported), never of one's own (409 own_item); the threshold-th
    queues it (reviews alike); staff hide it from the queue with a reason (who and when kept): the post leaves the
    feed and the product's count, the review the product's rating. A reason is required; a shopper cannot moderate."""
    await settings(mall, keywords=[], report_threshold=2)
    alice, bob, carol = await mall.shopper("alice"), await mall.shopper("bob"), await mall.shopper("carol")
    order = await received(mall, alice)
    shown = await post(mall, alice, order_id=order["id"])
    written = await client.post(f"/orders/{order['id']}/reviews", headers=alice, json=review(mall, 2))
    reports = f"/posts/{shown['id']}/reports"
    assert (await client.post(reports, headers=bob, json={"reason": "广告"})).json()["queued"] is False
    problem(await client.post(reports, headers=bob, json={"reason": "广告"}), 409, "already_reported")
    problem(await client.post(reports, headers=alice, json={"reason": "广告"}), 409, "own_item")
    problem(await client.post(reports, headers=carol, json={"reason": ""}), 422, "invalid_request")
    assert (await client.post(reports, headers=carol, json={"reason": "广告"})).json()["queued"] is True
    for who in (bob, carol):
        answer = await client.post(f"/reviews/{written.json()['id']}/reports", headers=who, json={"reason": "辱骂"})
        assert answer.status_code == 201, answer.text
    problem(await client.post("/comments/999999/reports", headers=bob, json={"reason": "x"}), 404,
            "comment_not_found")
    owner = await mall.staff()
    queue = (await client.get("/admin/moderation", headers=owner)).json()["items"]
    assert [(i["item_type"], i["cause"], i["report_count"]) for i in queue] == [("post", "reports", 2),
                                                                                 ("review", "reports", 2)]
    only_reviews = (await client.get("/admin/moderation", headers=owner, params={"item_type": "review"})).json()
    assert [i["item_type"] for i in only_reviews["items"]] == ["review"]
    problem(await client.post(f"/admin/moderation/posts/{shown['id']}/hide", headers=owner, json={}), 422,
            "invalid_request")
    problem(await client.post(f"/admin/moderation/posts/{shown['id']}/hide", headers=bob, json={"reason": "x"}),
            401, "unauthenticated")
    hidden = (await client.post(f"/admin/moderation/posts/{shown['id']}/hide", headers=owner,
                                json={"reason": "违规"})).json()
    assert (hidden["hidden"], hidden["hidden_reason"], hidden["hidden_by"] is not None, hidden["held"]) == (
        True, "违规", True, False)
    assert (await client.post(f"/admin/reviews/{written.json()['id']}/hide", headers=owner,
                              json={"reason": "辱骂"})).status_code == 200
    assert (await client.get("/admin/moderation", headers=owner)).json()["items"] == []
    assert await feed(mall) == []
    problem(await client.get(f"/posts/{shown['id']}", headers=alice), 404, "post_not_found")
    problem(await client.post(f"/posts/{shown['id']}/likes", headers=bob), 404, "post_not_found")
    page = (await client.get(f"/products/{mall.product_id}/reviews", params={"merchant": mall.slug})).json()
    assert (page["count"], page["posts"], page["reviews"]) == (0, 0, [])
    listing = (await client.get("/admin/moderation/posts", headers=owner, params={"hidden": True})).json()
    assert [i["item_id"] for i in listing["items"]] == [shown["id"]]


async def test_refused_settings_change_nothing(client, mall):
    """A threshold out of 1–100, a keyword over 20 characters or over 200 keywords: 422, nothing saved."""
    owner = await mall.staff()
    for bad in ({"report_threshold": 0}, {"report_threshold": 101}, {"keywords": ["长" * 21]},
                {"keywords": [str(n) for n in range(201)]}):
        problem(await client.put("/admin/community/settings", headers=owner, json=bad), 422, "invalid_request")
    assert await rows(mall.runtime, "SELECT * FROM community_settings") == []


async def test_posts_earn_points_up_to_the_daily_cap_once_each_and_advance_post_tasks(client, mall):
    """post_points 10, cap 2 a day: three posts earn 20 points (the worker running twice changes nothing); a held
    post earns nothing until shown; a post task of target 2 is rewarded."""
    owner = await mall.staff()
    assert (await client.put("/admin/points", headers=owner,
                             json={**POINTS, "post_points": 10, "post_daily_cap": 2})).status_code == 200
    task = await client.post("/admin/tasks", headers=owner, json={
        "name": "发两篇帖子", "kind": "post", "period": "once", "target": 2, "reward_points": 100})
    assert task.status_code == 201, task.text
    alice = await mall.shopper("alice")
    for text in ("一", "二", "三"):
        await post(mall, alice, text=text)
        await mall.work()
        await mall.work()
    earned = await rows(mall.runtime, "SELECT kind, points FROM points_entries")
    assert sorted(earned) == [("post", 10), ("post", 10), ("task", 100)]
    assert (await client.get("/points", headers=alice)).json()["balance"] == 120
