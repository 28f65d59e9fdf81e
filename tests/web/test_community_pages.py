"""The community's shopper pages: the feed and its tabs, a post with its comments, the compose page from a received
order, the product page's reviews with photos and its link to the posts; what shoppers typed is escaped, and every
action is a form to the JSON API."""

from __future__ import annotations

import pytest

from tests.community.test_posts import photo, post
from tests.community.test_reviews import received, review
from tests.web.test_account_pages import looking, signed_in, text_of
from tests.web.test_pages import SITE

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")


async def test_the_community_pages_show_posts_comments_and_the_product_bought(client, mall):
    alice = await signed_in(mall, "alice", "阿丽")
    order = await received(mall, alice.who)
    url = await photo(mall, alice.who)
    made = await post(mall, alice.who, order_id=order["id"], images=[url], text="<b>好喝</b>")
    reviewed = await client.post(f"/orders/{order['id']}/reviews", headers=alice.who,
                                 json=review(mall, 4, images=[url]))
    assert reviewed.status_code == 201, reviewed.text
    bob = await signed_in(mall, "bob", "小波")
    commented = await client.post(f"/posts/{made['id']}/comments", headers=bob.who, json={"text": "想买"})
    assert commented.status_code == 201, commented.text

    feed = await client.get(f"{SITE}/m/acme/community")
    assert feed.status_code == 200
    words = text_of(feed.text)
    assert "<b>好喝</b>" in words and "&lt;b&gt;" in feed.text and "晒单" in words and "去购买" in words
    assert f'href="/m/acme/community/posts/{made["id"]}"' in feed.text

    detail = await client.get(f"{SITE}/m/acme/community/posts/{made['id']}")
    assert f'data-api="POST /api/v1/posts/{made["id"]}/likes"' in detail.text
    assert f'data-api="POST /api/v1/posts/{made["id"]}/comments"' in detail.text
    assert "小波：想买" in text_of(detail.text).replace(" ", "")
    assert f'<img src="{url}"' in detail.text

    product = await client.get(f"{SITE}/m/acme/products/{mall.product_id}")
    assert "查看 1 条买家晒单" in text_of(product.text)
    assert f'href="/m/acme/community?product_id={mall.product_id}"' in product.text
    assert product.text.count(f'<img src="{url}"') == 1  # the review's photo

    about = await client.get(f"{SITE}/m/acme/community", params={"product_id": str(mall.product_id)})
    assert f'data-post="{made["id"]}"' in about.text

    looking(mall, alice)
    order_page = await client.get(f"{SITE}/m/acme/orders/{order['id']}")
    assert f'href="/m/acme/community/new?order_id={order["id"]}"' in order_page.text
    compose = await client.get(f"{SITE}/m/acme/community/new", params={"order_id": str(order["id"])})
    assert 'data-api="POST /api/v1/posts"' in compose.text and 'data-photo-for="images"' in compose.text


async def test_the_personal_tabs_ask_a_signed_out_visitor_to_sign_in(client, mall):
    for tab in ("following", "friends"):
        page = await client.get(f"{SITE}/m/acme/community", params={"tab": tab})
        assert page.status_code == 200 and "登录后查看" in text_of(page.text)
    assert (await client.get(f"{SITE}/m/acme/community", params={"cursor": "nonsense"})).status_code == 200
    assert (await client.get(f"{SITE}/m/acme/community/new")).status_code == 303
    assert (await client.get(f"{SITE}/m/acme/community/posts/999999")).status_code == 404
