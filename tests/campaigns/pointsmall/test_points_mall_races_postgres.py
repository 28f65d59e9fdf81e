"""The points mall under real concurrency (PostgreSQL): many HTTP redemptions at the same moment, each request on
its own connection, for goods (an order) and for a coupon.

Forty customers, each with points enough, race for an item of 10 units: exactly 10 redeem it, the other 30 get
409 campaign_sold_out and keep every point, and the ledger still sums to the balances. One customer fires 10
redemptions at once with points for 3: exactly 3 go through, the balance never goes below zero, and the unit,
quota and reward of every refused one are rolled back with it.
"""

from __future__ import annotations

from typing import Any

import pytest

from fissionmall.loyalty.points import service as points
from tests.campaigns.pointsmall.test_points_mall import (  # noqa: F401  (configured: points set up)
    configured,
    coupon,
    goods,
    live,
    redeem,
    standing,
    template,
)
from tests.loyalty.test_points import entries, ledger, moves, settings_overrides  # noqa: F401  (settings_overrides: long-lived shopper tokens)
from tests.support import Mall, Who, customer_id, problem, rows, together, value

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("configured", "signed_staff_tokens")]

REWARDS = pytest.mark.parametrize("reward", ["goods", "coupon"])
IN_FLIGHT = 20
"""Requests inside the app at a time, each holding a connection: the PostgreSQL server (100 connections) is shared
with other runs. Twenty transactions at once still contend for every unit and every point."""


async def item_settings(mall: Mall, reward: str, **settings: Any) -> dict[str, Any]:
    """The tea (300 fen + the points) or a coupon of a new template, with these settings."""
    if reward == "goods":
        return goods(mall, **settings)
    return coupon(await template(mall), **settings)


async def crowd(mall: Mall, size: int, each: int) -> list[tuple[Who, int]]:
    """`size` shoppers signed in at once, each given a bucket of `each` points: (headers, customer id)."""
    shoppers = await together((mall.shopper(f"shopper-{i}") for i in range(size)), IN_FLIGHT)
    ids = await together((customer_id(mall, who) for who in shoppers), IN_FLIGHT)
    async with mall.runtime.sessionmaker() as session:
        for me in ids:
            assert await points.earn(session, mall.merchant_id, me, each, "earned", ("grant", me),
                                     mall.runtime.clock.now(), 365)
        await session.commit()
    return list(zip(shoppers, ids, strict=True))


def reward_of(answer: dict[str, Any]) -> tuple[str, int]:
    """The points' source for a redemption: its order or its coupon."""
    return ("order", answer["order"]["id"]) if answer["order"] else ("coupon", answer["coupon"]["id"])


async def assert_rewards(mall: Mall, reward: str, holders: list[int]) -> None:
    """Exactly one order or coupon per successful redemption, held by who redeemed."""
    table = "orders" if reward == "goods" else "coupons"
    assert sorted(c for (c,) in await rows(mall.runtime, f"SELECT customer_id FROM {table}")) == sorted(holders)
    other = "coupons" if reward == "goods" else "orders"
    assert await value(mall.runtime, f"SELECT count(*) FROM {other}") == 0
    if reward == "coupon":
        assert await value(mall.runtime, "SELECT issued FROM coupon_templates") == len(holders)
    assert await value(mall.runtime, "SELECT stock FROM skus") == 100 - (len(holders) if reward == "goods" else 0)


@REWARDS
async def test_forty_customers_race_for_ten_units(client, mall, reward):
    """stock_cap 10, 40 customers with 1 000 points each redeem the 800-point item at once: exactly 10 × 201 and
    30 × 409 campaign_sold_out; 800 points spent by each winner only (sourced to their order or coupon), losers
    keep 1 000; 10 units sold, one quota use per winner, one reward each; for everyone the ledger entries sum to
    the balance."""
    item = await live(mall, await item_settings(mall, reward, points=800), stock_cap=10)
    shoppers = await crowd(mall, 40, 1000)

    answers = await together((redeem(mall, who, item) for who, _ in shoppers), IN_FLIGHT)
    assert sorted(a.status_code for a in answers) == [201] * 10 + [409] * 30
    for lost in (a for a in answers if a.status_code != 201):
        problem(lost, 409, "campaign_sold_out")
    won = {me: reward_of(a.json()) for (_, me), a in zip(shoppers, answers, strict=True) if a.status_code == 201}

    for _, me in shoppers:
        spent = [m for m in moves(await entries(mall.runtime, me)) if m[0] == "spent"]
        assert spent == ([("spent", -800, *won[me])] if me in won else [])
        assert await ledger(mall.runtime, me) == (200 if me in won else 1000)
    assert await value(mall.runtime, "SELECT sum(points) FROM points_entries") == await value(
        mall.runtime, "SELECT sum(balance) FROM points_balances") == 40 * 1000 - 10 * 800
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :i", i=item) == 10
    assert sorted(await rows(mall.runtime, "SELECT customer_id, used FROM campaign_quotas")) == sorted(
        (me, 1) for me in won)
    await assert_rewards(mall, reward, list(won))


@REWARDS
async def test_one_customer_racing_ten_redemptions_with_points_for_three(client, mall, reward):
    """1 000 points, 10 redemptions of a 300-point item at once (limit 100, no cap): exactly 3 × 201 and 7 × 409
    insufficient_points (each reporting a balance under 300); the balance ends at 100, never below zero; 3 units
    sold, 3 quota uses, 3 rewards, 3 'spent' entries of 300: the refused ones took nothing."""
    item = await live(mall, await item_settings(mall, reward, points=300, per_customer_limit=100))
    [(alice, me)] = await crowd(mall, 1, 1000)

    answers = await together((redeem(mall, alice, item) for _ in range(10)), IN_FLIGHT)
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 7
    for refused in (a for a in answers if a.status_code != 201):
        assert problem(refused, 409, "insufficient_points")["balance"] in range(0, 300)
    won = [reward_of(a.json()) for a in answers if a.status_code == 201]

    assert sorted(m for m in moves(await entries(mall.runtime, me)) if m[0] == "spent") == sorted(
        ("spent", -300, *source) for source in won)
    assert await ledger(mall.runtime, me) == 100
    assert await standing(mall.runtime, item, me) == {
        "balance": 100, "sold": 3, "quota": 3, "coupons": 3 if reward == "coupon" else 0,
        "orders": 3 if reward == "goods" else 0, "stock": 97 if reward == "goods" else 100}
    await assert_rewards(mall, reward, [me] * 3)
