"""A move decided on a stale read is refused by the record's table: the sweep that read a group as open and due
does nothing to a group that another request completed meanwhile — no status change, no refund, no event."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from fissionmall.campaigns.groupbuy import repository
from fissionmall.campaigns.groupbuy import service as groupbuy
from fissionmall.campaigns.groupbuy.models import BuyingGroup
from fissionmall.campaigns.groupbuy.states import GroupStatus
from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.support import Mall, customer_id


async def test_a_sweep_does_not_fail_a_group_completed_after_it_read_it(mall: Mall, runtime: Runtime) -> None:
    campaign_id = await group_campaign(mall)
    leader = await customer_id(mall, await mall.shopper("leader"))
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session, session.begin():
        group_id = (await session.execute(insert(BuyingGroup).returning(BuyingGroup.id), dict(
            merchant_id=mall.merchant_id, campaign_id=campaign_id, leader_id=leader, size=2, paid_count=2,
            status=GroupStatus.OPEN, opened_at=now - timedelta(hours=2), expires_at=now - timedelta(minutes=1),
            closed_at=None))).scalar_one()
    async with runtime.sessionmaker() as session, session.begin():
        [due] = await repository.due_groups(session, now, 10)
        # the last seat is paid between the sweep's read and its write
        assert await repository.close_groups(session, [group_id], GroupStatus.SUCCEEDED, now) == [group_id]
        await groupbuy._fail(session, runtime.clock, [due])
    async with runtime.sessionmaker() as session:
        status = (await session.execute(select(BuyingGroup.status).where(BuyingGroup.id == group_id))).scalar_one()
        failed = (await session.execute(select(func.count()).select_from(Event).where(
            Event.kind == "group_failed"))).scalar_one()
    assert (status, failed) == (GroupStatus.SUCCEEDED, 0)
