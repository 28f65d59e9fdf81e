"""The expiry sweep in chunks: 250 groups whose time ran out, 3 paid members each (group size 5), swept 100 groups
a transaction (two full chunks and a short one).

The worker fails every one of them and refunds each member's own order in full, exactly once, through the outbox
and the provider's notification; running it again changes nothing.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from fissionmall.campaigns.groupbuy import service as groupbuy_service
from fissionmall.campaigns.groupbuy.models import BuyingGroup, GroupOrder
from fissionmall.campaigns.models import Campaign, CampaignQuota
from fissionmall.catalog.models import Sku
from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import SWEEPS
from fissionmall.customers.models import Customer
from fissionmall.jobs.worker import load_task_modules
from fissionmall.orders.models import Order, OrderAdjustment, OrderItem
from fissionmall.payments.models import Payment
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.support import ADDRESS, Mall, rows, snapshot_of, value

GROUPS, MEMBERS, SIZE, CHUNK = 250, 3, 5, 100
ORDERS = GROUPS * MEMBERS
LIST_PRICE, GROUP_PRICE, LEADER_PRICE = 1000, 800, 700
PAID_IN_ALL = GROUPS * LEADER_PRICE + GROUPS * (MEMBERS - 1) * GROUP_PRICE
WATCHED = ("orders", "order_items", "payments", "refunds", "sandbox_refunds", "payment_notifications",
           "buying_groups", "group_orders", "campaigns", "campaign_quotas", "skus", "customers", "events",
           "outbox_jobs")


snapshot = partial(snapshot_of, tables=WATCHED)


async def seed_expired_groups(mall: Mall, campaign_id: int) -> None:
    """What GROUPS groups look like an hour after their time ran out, written directly (executemany): members
    paid (seat 1 the leader, at the leader price), campaign stock, quotas and SKU stock claimed."""
    runtime, merchant_id = mall.runtime, mall.merchant_id
    now = runtime.clock.now()
    opened, expired = now - timedelta(hours=2), now - timedelta(hours=1)
    async with runtime.sessionmaker() as session:
        customer_ids = list((await session.execute(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [dict(merchant_id=merchant_id, openid=f"member-{i}", unionid=None, nickname=f"member {i}", avatar_url="",
                  inviter_id=None, acquired_by_share_id=None, depth=0, first_paid_at=opened, created_at=opened)
             for i in range(ORDERS)])).scalars())
        group_ids = list((await session.execute(
            insert(BuyingGroup).returning(BuyingGroup.id, sort_by_parameter_order=True),
            [dict(merchant_id=merchant_id, campaign_id=campaign_id, leader_id=customer_ids[g * MEMBERS], size=SIZE,
                  paid_count=MEMBERS, status="open", opened_at=opened, expires_at=expired, closed_at=None)
             for g in range(GROUPS)])).scalars())
        seats = [(group_ids[i // MEMBERS], customer_ids[i], i % MEMBERS + 1) for i in range(ORDERS)]
        prices = [LEADER_PRICE if seat == 1 else GROUP_PRICE for _, _, seat in seats]
        order_ids = list((await session.execute(
            insert(Order).returning(Order.id, sort_by_parameter_order=True),
            [dict(merchant_id=merchant_id, store_id=None, customer_id=customer_id, order_no=f"SEED{i:010d}",
                  kind="group", campaign_id=campaign_id, status="paid", resume_status=None, items_fen=LIST_PRICE,
                  total_fen=price, paid_fen=price, refund_reserved_fen=0, refunded_fen=0, address=ADDRESS, note="",
                  inviter_id=None, share_id=None, due_at=None, created_at=opened, paid_at=opened,
                  payment_started_at=opened)
             for i, ((_, customer_id, _), price) in enumerate(zip(seats, prices, strict=True))])).scalars())
        await session.execute(insert(OrderItem), [
            dict(merchant_id=merchant_id, order_id=order_id, product_id=mall.product_id, sku_id=mall.sku_id,
                 title="Tea · 100g", unit_price_fen=LIST_PRICE, quantity=1) for order_id in order_ids])
        await session.execute(insert(OrderAdjustment), [
            dict(merchant_id=merchant_id, order_id=order_id, kind="group_price", name="拼团价",
                 amount_fen=price - LIST_PRICE, source_id=campaign_id, created_by=None)
            for order_id, price in zip(order_ids, prices, strict=True)])
        await session.execute(insert(Payment), [
            dict(merchant_id=merchant_id, order_id=order_id, provider="sandbox", out_trade_no=f"SEED{i:010d}",
                 amount_fen=price, status="succeeded", transaction_id=f"sbx-SEED{i:010d}", created_at=opened,
                 paid_at=opened)
            for i, (order_id, price) in enumerate(zip(order_ids, prices, strict=True))])
        await session.execute(insert(GroupOrder), [
            dict(order_id=order_id, merchant_id=merchant_id, campaign_id=campaign_id, group_id=group_id,
                 customer_id=customer_id, is_leader=seat == 1, unit_price_fen=price, quantity=1, seat_no=seat,
                 active=True)
            for order_id, (group_id, customer_id, seat), price in zip(order_ids, seats, prices, strict=True)])
        await session.execute(insert(CampaignQuota), [
            dict(merchant_id=merchant_id, campaign_id=campaign_id, customer_id=customer_id, used=1)
            for customer_id in customer_ids])
        await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(sold=ORDERS))
        await session.execute(update(Sku).where(Sku.id == mall.sku_id).values(stock=0))
        await session.commit()


@pytest.mark.postgres
async def test_worker_fails_expired_groups_in_chunks_and_refunds_every_member_once(client, mall, clock, monkeypatch):
    """Every member order of a failed group is refunded in full, exactly once, on its own order; every group
    fails once with one event; a second worker run changes nothing."""
    campaign_id = await group_campaign(mall, group_size=SIZE, fill_minutes=60,
                                       leader_discount_fen=GROUP_PRICE - LEADER_PRICE)
    await seed_expired_groups(mall, campaign_id)
    runtime = mall.runtime
    assert await rows(runtime, "SELECT count(*), sum(paid_fen) FROM orders") == [(ORDERS, PAID_IN_ALL)]

    load_task_modules()
    monkeypatch.setattr(groupbuy_service, "CHUNK", CHUNK)
    sweep, timings = SWEEPS["groupbuy.settle_expired"], []

    async def timed_sweep(runtime: Runtime, now: Any) -> int:
        started = time.perf_counter()
        handled = await sweep(runtime, now)
        timings.append(time.perf_counter() - started)
        return handled

    monkeypatch.setitem(SWEEPS, "groupbuy.settle_expired", timed_sweep)
    reports = [await mall.work()]
    while reports[-1]["jobs"]:
        assert len(reports) < 10, reports
        reports.append(await mall.work())
    assert [r["groupbuy.settle_expired"] for r in reports] == [GROUPS] + [0] * (len(reports) - 1)
    assert sum(r["jobs"] for r in reports) == 2 * ORDERS  # a refund job, then its notification, per member
    print(f"\nexpiry sweep: {GROUPS} groups, {ORDERS} member orders in {timings[0]:.2f}s "
          f"({ORDERS / timings[0]:,.0f} orders/s); worker passes: {len(reports)}")

    # every member order refunded in full, once
    assert await rows(runtime, "SELECT status, count(*), sum(paid_fen), sum(refund_reserved_fen), sum(refunded_fen) "
                               "FROM orders GROUP BY status") == [("refunded", ORDERS, PAID_IN_ALL, PAID_IN_ALL,
                                                                   PAID_IN_ALL)]
    assert await value(runtime, "SELECT count(*) FROM orders WHERE refunded_fen <> paid_fen OR closed_at IS NULL "
                                "OR resume_status IS NOT NULL") == 0
    assert await value(runtime, "SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM refunds r "
                                "WHERE r.order_id = o.id AND r.status = 'succeeded' AND r.amount_fen = o.paid_fen "
                                "AND r.refund_no = o.order_no || 'R1' AND r.requested_by = 'system') <> 1") == 0
    assert await value(runtime, "SELECT count(*) FROM refunds") == ORDERS
    assert await value(runtime, "SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM sandbox_refunds s "
                                "WHERE s.out_trade_no = o.order_no AND s.out_refund_no = o.order_no || 'R1' "
                                "AND s.amount_fen = o.paid_fen) <> 1") == 0
    assert await rows(runtime, "SELECT count(*), sum(amount_fen) FROM sandbox_refunds") == [(ORDERS, PAID_IN_ALL)]
    assert await rows(runtime, "SELECT kind, count(*) FROM payment_notifications GROUP BY kind") == [
        ("refund", ORDERS)]
    assert await rows(runtime, "SELECT kind, status, count(*) FROM outbox_jobs GROUP BY kind, status "
                               "ORDER BY kind") == [("payments.refund", "done", ORDERS),
                                                    ("sandbox.deliver_notification", "done", ORDERS)]

    # every group failed once, with one event; seats, claims and stock given back
    assert await rows(runtime, "SELECT status, paid_count, count(*) FROM buying_groups GROUP BY status, paid_count") \
        == [("failed", MEMBERS, GROUPS)]
    assert await value(runtime, "SELECT count(*) FROM buying_groups WHERE closed_at IS NULL") == 0
    assert await value(runtime, "SELECT count(*) FROM buying_groups g WHERE (SELECT count(*) FROM events e "
                                "WHERE e.kind = 'group_failed' AND e.subject_type = 'group' "
                                "AND e.subject_id = g.id) <> 1") == 0
    async with runtime.sessionmaker() as session:
        failed = (await session.execute(select(Event.data).where(Event.kind == "group_failed"))).scalars().all()
    assert failed == [{"members": MEMBERS}] * GROUPS
    assert await value(runtime, "SELECT count(*) FROM events WHERE kind = 'refund'") == ORDERS
    assert await value(runtime, "SELECT count(*) FROM group_orders WHERE active") == 0
    assert await value(runtime, "SELECT sold FROM campaigns WHERE id = :id", id=campaign_id) == 0
    assert await rows(runtime, "SELECT count(*), sum(used) FROM campaign_quotas") == [(ORDERS, 0)]
    assert await mall.sku_stock() == ORDERS

    # the worker again: nothing to do, nothing changes
    before = await snapshot(runtime)
    again = await mall.work()
    assert not any(again.values()), again
    assert await snapshot(runtime) == before
