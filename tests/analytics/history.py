"""Event histories for the analytics tests: written straight into the event log, as the mechanics write them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.models import Campaign
from fissionmall.core.events import record_event
from fissionmall.core.runtime import Runtime
from fissionmall.customers.models import Customer
from fissionmall.sharing.models import Share

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@dataclass
class History:
    """One merchant's campaign and its people, and a writer of their events (all in one session)."""

    session: AsyncSession
    merchant_id: int
    campaign_id: int
    people: dict[str, int] = field(default_factory=dict)
    shares: dict[str, int] = field(default_factory=dict)

    @classmethod
    async def start(cls, session: AsyncSession, merchant_id: int, names: list[str], *, kind: str = "bargain",
                    name: str = "春季砍价") -> History:
        campaign = Campaign(merchant_id=merchant_id, kind=kind, name=name, status="active", settings={},
                            starts_at=T0 - timedelta(days=1), ends_at=T0 + timedelta(days=30), stock_cap=None,
                            created_at=T0 - timedelta(days=1))
        session.add(campaign)
        await session.flush()
        history = cls(session, merchant_id, campaign.id)
        await history.add_people(names)
        return history

    async def add_people(self, names: list[str]) -> None:
        rows = [Customer(merchant_id=self.merchant_id, openid=f"{self.campaign_id}-{n}", nickname=n, created_at=T0)
                for n in names]
        self.session.add_all(rows)
        await self.session.flush()
        self.people.update({n: c.id for n, c in zip(names, rows, strict=True)})

    async def event(self, kind: str, minutes: float, actor: str, inviter: str | None = None, *,
                    subject: tuple[str, int] | None = None, campaign: bool = True, **data: Any) -> None:
        await record_event(self.session, merchant_id=self.merchant_id, kind=kind, at=T0 + timedelta(minutes=minutes),
                           actor_id=self.people[actor], inviter_id=self.people[inviter] if inviter else None,
                           campaign_id=self.campaign_id if campaign else None, subject=subject, data=data)

    async def share(self, minutes: float, who: str, target: int) -> int:
        row = Share(merchant_id=self.merchant_id, sharer_id=self.people[who], target_type="bargain", target_id=target,
                    campaign_id=self.campaign_id, depth=0, created_at=T0 + timedelta(minutes=minutes))
        self.session.add(row)
        await self.session.flush()
        self.shares[who] = row.id
        await self.event("share", minutes, who, subject=("share", row.id))
        return row.id

    async def click(self, minutes: float, who: str, sharer: str) -> None:
        await self.event("click", minutes, who, sharer, subject=("share", self.shares[sharer]))

    async def help(self, minutes: float, who: str, sharer: str, target: int, reward_fen: int) -> None:
        await self.event("help", minutes, who, sharer, subject=("bargain", target), reward_fen=reward_fen)

    async def order(self, minutes: float, who: str, inviter: str | None, order_id: int, paid_fen: int, *,
                    first: bool) -> None:
        """Placed, then paid five minutes later (with the first purchase, when it is one)."""
        await self.event("order", minutes, who, inviter, subject=("order", order_id), total_fen=paid_fen)
        if first:
            await self.event("first_purchase", minutes + 5, who, inviter, subject=("order", order_id), campaign=False)
        await self.event("pay", minutes + 5, who, inviter, subject=("order", order_id), campaign=False,
                         amount_fen=paid_fen, stage="full")


async def draw_cascade(runtime: Runtime, merchant_id: int) -> History:
    """The ten-person cascade of test_hand_drawn_cascade (see its docstring), committed."""
    async with runtime.sessionmaker() as session:
        h = await History.start(session, merchant_id, list("ABCDEFGHIJ"))
        await h.share(0, "A", 499)
        await h.click(10, "B", "A")
        await h.click(10, "C", "A")
        await h.click(12, "B", "A")
        await h.help(20, "B", "A", 499, 100)
        await h.order(30, "C", "A", 9001, 5000, first=True)
        await h.share(40, "B", 500)
        for who in "DEF":
            await h.click(60, who, "B")
        await h.help(70, "D", "B", 500, 100)
        await h.order(75, "E", "B", 9002, 3000, first=True)
        await h.event("commission", 80, "B", "B", subject=("order", 9002), campaign=False, level=1, amount_fen=300)
        await h.order(85, "F", "B", 9003, 2000, first=False)
        await h.share(120, "E", 501)
        await h.click(180, "G", "E")
        await h.order(175 + 5, "G", "E", 9004, 4000, first=True)
        await h.event("refund_requested", 210, "G", "E", subject=("order", 9004), campaign=False, amount_fen=4000,
                      by="merchant")
        await h.share(240, "H", 502)
        await h.click(241, "H", "H")
        await h.order(242, "H", "H", 9005, 1000, first=True)
        await h.click(300, "I", "A")
        await h.click(300, "J", "B")
        await h.help(300, "J", "B", 500, 100)
        await session.commit()
        return h
