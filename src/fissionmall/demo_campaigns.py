"""Demo campaigns: a live campaign of every kind on the demo merchant, with fission already in it (an open group
missing one member, and one of several products whose members chose differently, a bargain and an assist packet
half helped on a ladder, share packets with claims), parcels the sandbox carrier follows (one signed for), and a
community with 晒单, likes, comments among friends and a post held for review, so a visitor sees it all at once.

Everything goes through the use cases a shopper or the merchant's staff would call: campaigns pass the linter
before they go live, orders are placed by checkout and paid in the sandbox, whose signed notifications the worker
delivers to this process's own notification use case. Running it again changes nothing, except that what time has
ended (a group, a bargain, a packet, a campaign's window) is replaced, so the demo stays alive on later days.
"""

from __future__ import annotations

import dataclasses
import io
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from fissionmall.analytics import service as analytics
from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns.assist import service as assist
from fissionmall.campaigns.assist.models import AssistPacket
from fissionmall.campaigns.assist.schemas import OpenPacket
from fissionmall.campaigns.assist.states import AssistStatus
from fissionmall.campaigns.bargain import service as bargain
from fissionmall.campaigns.bargain.models import Bargain
from fissionmall.campaigns.bargain.schemas import StartBargain
from fissionmall.campaigns.bargain.states import BargainStatus
from fissionmall.campaigns.groupbuy.models import BuyingGroup, GroupOrder
from fissionmall.campaigns.groupbuy.states import GroupStatus
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.packets import service as packets
from fissionmall.campaigns.packets.models import CouponPacket
from fissionmall.campaigns.packets.states import PacketStatus
from fissionmall.campaigns.schemas import CampaignIn
from fissionmall.campaigns.states import CampaignStatus
from fissionmall.catalog.media import store_image
from fissionmall.catalog.models import Product
from fissionmall.catalog.placeholder import draw_picture
from fissionmall.checkout import service as checkout
from fissionmall.checkout.schemas import LineIn, PlaceOrder
from fissionmall.community import moderation
from fissionmall.community import posts as community
from fissionmall.community.models import Post
from fissionmall.community.schemas import CommentIn, CommunitySettingsIn, PostIn
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.runtime import Runtime
from fissionmall.coupons import service as coupons
from fissionmall.coupons.schemas import TemplateIn
from fissionmall.customers import service as customers
from fissionmall.customers.schemas import ClientInfo, DevLogin
from fissionmall.distribution import service as distribution
from fissionmall.distribution.schemas import ConfigIn, GradeRates
from fissionmall.jobs.worker import tick
from fissionmall.logistics import service as logistics
from fissionmall.logistics.models import ShipmentEvent
from fissionmall.logistics.providers.sandbox import NOTIFY_PATH as PARCEL_PUSH_PATH
from fissionmall.loyalty.points import service as points
from fissionmall.loyalty.points.schemas import PointsConfigIn
from fissionmall.loyalty.tasks import service as tasks
from fissionmall.loyalty.tasks.schemas import TaskIn
from fissionmall.merchants import service as merchants
from fissionmall.orders import refunds
from fissionmall.orders import service as orders
from fissionmall.orders.schemas import Address, CampaignChoice, RefundIn, Ship
from fissionmall.payments import service as payments
from fissionmall.payments.providers.sandbox import NOTIFY_PATH
from fissionmall.recommend import service as recommend
from fissionmall.sharing import service as sharing
from fissionmall.sharing.models import Share
from fissionmall.sharing.schemas import ShareIn

CAMPAIGN_DAYS = 30
FRIENDS = [("demo-friend-1", "小张"), ("demo-friend-2", "小李"), ("demo-friend-3", "大伟"),
           ("demo-friend-4", "婷婷"), ("demo-friend-5", "阿杰"), ("demo-friend-6", "圆圆")]
ADDRESS = Address(name="陈女士", phone="13800138000", region="上海市静安区", detail="南京西路 1 号 8 楼")
GROUP_PRODUCT = "赣南脐橙 5 斤"
BARGAIN_PRODUCT = "丹东草莓 3 斤"
PACKET_PRODUCT = "每日坚果 30 包"
"""Bought by a demo customer for the share packets: above the packets' minimum order, which group orders are not."""
VOUCHER_PRODUCT = "西湖龙井 明前特级"
MULTI_GROUP = "零食饮品任选 3 人团"
MULTI_GROUP_PRODUCTS = ("手撕牛肉干", "海苔脆片", "冷萃咖啡液 12 杯装")
"""多产品拼团: each member picks one of these (group prices below the share packets' minimum order)."""
PARCELS = [(0, "云南小粒咖啡豆 中度烘焙", 4, 4), (1, "冷萃咖啡液 12 杯装", 4, 3), (2, "海苔脆片", 4, 3),
           (3, "赣南脐橙 5 斤", 3, 2), (0, "竹纤维抽纸 24 包", 2, 1)]
"""Orders the carrier follows: (demo customer, product, sandbox steps reached, days ago it was bought); four steps
is 已签收, which receives the order."""
NEIGHBOURS = [("demo-neighbour-1", "小雅"), ("demo-neighbour-2", "阿哲")]
"""Shoppers brought by the first demo customer's share link: her 好友 in the community."""
KEYWORDS = ["加微信", "代购"]
PHOTO_COLOURS = ("#b07d62", "#6d8b74")
"""The 晒单 photos' backgrounds: a wooden table, a green tablecloth."""
SHOWS = ["咖啡豆收到了，包装很严实，中度烘焙手冲很香，酸度刚好", "冷萃液冰水一冲就好，上班路上一杯，榛果味也想试试",
         "海苔脆片一包接一包停不下来，孩子也爱吃，烤的不油腻"]


@dataclasses.dataclass(frozen=True)
class Person:
    """A demo shopper acting from a device and an address of their own (the help rules look at both)."""

    shopper: Shopper
    client: ClientInfo


@dataclasses.dataclass(frozen=True)
class Showcase:
    """Where a visitor sees each mechanic: paths on the mall's own server."""

    product: str
    group: str
    bargain: str
    assist: str
    shares: dict[str, str]
    """What is shared (开团、砍价、助力、分享券、立减金) → its share link."""
    multi_group: str = ""
    """An open 多产品拼团 whose members chose different products."""
    community: str = ""
    order: str = ""
    """A received order whose 物流 timeline ends with the carrier's 已签收 (its buyer's page)."""


class NotificationsInProcess(httpx.AsyncBaseTransport):
    """The sandbox's signed notifications, delivered by the worker, reach this process's notification use case as
    they would reach the server: verified on the raw body, then applied once. Any other outgoing call is answered
    404, so its job waits for the server's worker."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == PARCEL_PUSH_PATH:  # the sandbox carrier's pushes, likewise
            async with self.runtime.sessionmaker() as session:
                outcome = await logistics.receive_push(session, self.runtime, "sandbox",
                                                       logistics.read_form(await request.aread()))
                await session.commit()
            return httpx.Response(200, json={"result": True, "returnCode": "200", "message": outcome})
        provider = request.url.path.removeprefix(NOTIFY_PATH.rsplit("/", 1)[0] + "/")
        if provider not in self.runtime.providers:
            return httpx.Response(404)
        async with self.runtime.sessionmaker() as session:
            outcome = await payments.receive_notification(session, self.runtime, provider, request.headers,
                                                          await request.aread())
            await session.commit()
        return httpx.Response(200, json={"code": "SUCCESS", "message": outcome})


async def load_demo_campaigns(runtime: Runtime, slug: str, shoppers: Sequence[tuple[str, str]],
                              progress: Callable[[str], None] = lambda _: None) -> Showcase:
    """Make every demo campaign live and every showcase current; `shoppers` are the demo customers (openid,
    nickname) who start things, friends help them."""
    runtime = dataclasses.replace(runtime, http_transport=None)
    runtime.http_transport = NotificationsInProcess(runtime)
    demo = _Demo(runtime, slug)
    await demo.work()  # what time has ended is settled first (expired groups fail and are refunded …)
    progress("demo campaigns")
    await demo.start(shoppers)
    showcase = await demo.showcase(progress)
    await fold_everything(runtime)
    return showcase


async def fold_everything(runtime: Runtime) -> None:
    """The analytics tables and the recommender's model caught up with every event the demo wrote. The worker's fold
    leaves the last seconds' events for its next pass (a transaction still open might commit a smaller id); nothing
    else writes while the demo loads, so it may fold to the end, and the console's charts and the shop's 为你推荐 are
    whole at once."""
    for catch_up in (analytics.catch_up, recommend.catch_up):
        while True:
            async with runtime.sessionmaker() as session:
                folded = await catch_up(session, runtime.clock.now(), settle=timedelta(0))
                await session.commit()
            if not folded:
                break


class _Demo:
    """One run of the loader: the merchant's owner, the demo customers and their friends, the live campaigns."""

    def __init__(self, runtime: Runtime, slug: str) -> None:
        self.runtime, self.slug = runtime, slug
        self.people: list[Person] = []
        self.friends: list[Person] = []
        self.campaign: dict[str, Campaign] = {}

    async def start(self, shoppers: Sequence[tuple[str, str]]) -> None:
        async with self.runtime.sessionmaker() as session:
            merchant = await merchants.merchant_by_slug(session, self.slug)
            self.merchant_id = merchant.id
            self.staff = await self._owner_at_work(session)
            everyone = [await self._sign_in(session, openid, nickname, n) for n, (openid, nickname)
                        in enumerate([*shoppers, *FRIENDS])]
            self.people, self.friends = everyone[:len(shoppers)], everyone[len(shoppers):]
            self.skus = await self._first_skus(session)
            await self._loyalty(session)
            templates = await self._coupon_templates(session)
            for kind, name, settings in self._campaigns(templates):
                self.campaign[kind] = await self._live(session, kind, name, settings)
            self.campaign["multi_group"] = await self._live(session, "group", MULTI_GROUP, self._multi_group())
            await session.commit()

    async def _sign_in(self, session: AsyncSession, openid: str, nickname: str, n: int,
                       share_code: str | None = None) -> Person:
        client = ClientInfo(device_id=f"{openid}-phone", ip=f"10.{n % 250 + 1}.0.8")
        token = await customers.dev_login(session, self.runtime, DevLogin(
            merchant_slug=self.slug, openid=openid, nickname=nickname, share_code=share_code), client)
        return Person(Shopper(customer_id=token.customer_id, merchant_id=self.merchant_id), client)

    async def know_the_shop(self) -> None:
        """The merchant, its owner and the first SKU of each product (what start() learns, for a loader that only
        buys and sells)."""
        async with self.runtime.sessionmaker() as session:
            self.merchant_id = (await merchants.merchant_by_slug(session, self.slug)).id
            self.staff = await self._owner_at_work(session)
            self.skus = await self._first_skus(session)

    async def _owner_at_work(self, session: AsyncSession) -> StaffMember:
        owner = next(s for s in await merchants.list_staff(session, self.merchant_id) if s.role == "owner")
        return StaffMember(staff_id=owner.id, merchant_id=self.merchant_id, role="owner")

    async def _first_skus(self, session: AsyncSession) -> dict[str, tuple[int, int, int]]:
        return {product.title: (product.id, sku.id, sku.price_fen) for product in (await session.execute(
            select(Product).where(Product.merchant_id == self.merchant_id).options(selectinload(Product.skus))
        )).scalars() for sku in sorted(product.skus, key=lambda s: s.id)[:1]}

    async def after_sale(self, order_id: int, luck: float) -> None:
        """What the shop does with a paid order: most ship the same day, one in eight is short of stock and part of
        it is refunded (the refund reaches the buyer through the worker)."""
        async with self.runtime.sessionmaker() as session:
            if luck < 0.125:
                order = await orders.get_order(session, self.merchant_id, order_id)
                await refunds.merchant_refund(session, self.runtime.clock, self.staff, order_id, RefundIn(
                    amount_fen=max(1, order.paid_fen // 3), reason="部分缺货，退还差价"))
            elif luck < 0.8:
                await orders.ship(session, self.runtime.clock, self.staff, order_id, Ship(
                    carrier="顺丰速运", tracking_no=f"SF{order_id:010d}"))
            await session.commit()
        await self.work()

    async def open_distribution(self, promoters: Sequence[tuple[str, str]]) -> None:
        """One level of commission, 8% of what the friends a promoter brings pay, and the shop's first customers as
        its promoters (approved at once): the friends they bring in the month that follows earn them commission."""
        async with self.runtime.sessionmaker() as session:
            await distribution.configure(session, self.runtime.clock, self.staff, ConfigIn(
                enabled=True, grades=[GradeRates(grade=1, name="推广员", level1_bp=800)]))
            await session.commit()
        for openid, nickname in promoters:
            promoter = await self.person(openid, nickname)
            async with self.runtime.sessionmaker() as session:
                await distribution.apply(session, self.runtime.clock, promoter.shopper)
                await session.commit()

    async def person(self, openid: str, nickname: str, share_code: str | None = None) -> Person:
        """A shopper signed in (signed up the first time, attributed to `share_code`'s sharer)."""
        async with self.runtime.sessionmaker() as session:
            someone = await self._sign_in(session, openid, nickname, sum(map(ord, openid)), share_code)
            await session.commit()
        return someone

    async def product_link(self, sharer: Person, title: str) -> str:
        """The code of the sharer's link to a product."""
        async with self.runtime.sessionmaker() as session:
            link = await self._share(session, sharer, "product", self.skus[title][0])
            await session.commit()
        return link.removeprefix("/s/")

    async def _loyalty(self, session: AsyncSession) -> None:
        """Check-in points rules and a few tasks, as the owner sets them in the console."""
        if await points.config_of(session, self.merchant_id) is None:
            await points.configure(session, self.runtime.clock.now(), self.staff, PointsConfigIn(
                earn_per_yuan=1, fen_per_100_points=100, max_redeem_percent=20, checkin_points=5, streak_bonus=2,
                streak_cap=7))
        have = {task.name for task in await tasks.for_merchant(session, self.staff)}
        for task in [TaskIn(name="邀请 1 位好友注册", kind="invite_registered", period="daily", reward_points=20),
                     TaskIn(name="好友首单得积分", kind="friend_first_purchase", reward_points=200),
                     TaskIn(name="连续签到 7 天", kind="checkin_streak", target=7, period="weekly", reward_points=50),
                     TaskIn(name="晒单评价", kind="review", period="daily", reward_points=10)]:
            if task.name not in have:
                await tasks.create(session, self.runtime.clock.now(), self.staff, task)

    async def _coupon_templates(self, session: AsyncSession) -> dict[str, int]:
        have = {t.name: t.id for t in await coupons.templates(session, self.merchant_id, claimable_only=False)}
        for template in [
            TemplateIn(name="好友分享券", kind="amount", amount_fen=500, threshold_fen=3000, valid_days=7,
                       claimable=False),
            TemplateIn(name="社交立减金", kind="amount", amount_fen=300, threshold_fen=2000, valid_days=7,
                       claimable=False),
            TemplateIn(name="积分兑换 5 元券", kind="amount", amount_fen=500, threshold_fen=3900, valid_days=30,
                       claimable=False),
        ]:
            if template.name not in have:
                have[template.name] = (await coupons.create_template(session, self.staff, template,
                                                                     self.runtime.clock.now())).id
        return have

    def _sku(self, title: str) -> tuple[int, int, int]:
        """(product id, its first SKU's id, that SKU's price)."""
        return self.skus[title]

    def _campaigns(self, templates: dict[str, int]) -> list[tuple[str, str, dict[str, Any]]]:
        group_product, group_sku, group_price = self._sku(GROUP_PRODUCT)
        bargain_product, bargain_sku, bargain_price = self._sku(BARGAIN_PRODUCT)
        voucher_product, voucher_sku, voucher_price = self._sku(VOUCHER_PRODUCT)
        return [
            ("group", "脐橙 3 人团", dict(product_id=group_product, group_size=3, fill_minutes=24 * 60,
                                        skus=[dict(sku_id=group_sku, group_price_fen=group_price - 1000)],
                                        leader_discount_fen=200)),
            ("bargain", "草莓砍到 9.9 元", dict(product_id=bargain_product, sku_id=bargain_sku,
                                           start_price_fen=bargain_price, floor_price_fen=990, helps_needed=5,
                                           self_cut_percent=10, duration_minutes=24 * 60, buy_at="floor",
                                           per_customer_limit=10)),
            ("assist", "好友助力拆红包", dict(helpers_needed=4, pool_fen=50_000, winners=100, min_prize_fen=100,
                                        split="line_segment", duration_minutes=3 * 24 * 60, per_customer_limit=10,
                                        ladder=[dict(min_fen=100, max_fen=200), dict(min_fen=200, max_fen=400),
                                                dict(min_fen=500, max_fen=500)])),
            ("share_coupon", "下单分享好友券", dict(template_id=templates["好友分享券"], slots=5, total_fen=2000,
                                             min_fen=200, max_fen=800, min_order_fen=5000,
                                             duration_hours=7 * 24)),
            ("credit", "社交立减金", dict(template_id=templates["社交立减金"], slots=3, total_fen=900, split=None,
                                     min_fen=300, min_order_fen=5000, duration_hours=7 * 24)),
            ("gift", "龙井礼券", dict(product_id=voucher_product, sku_id=voucher_sku, price_fen=voucher_price,
                                  value_fen=voucher_price)),
            ("invite", "邀请好友首单得 5 元", dict(reward_on="first_purchase", reward_fen=500, max_friends=20,
                                            budget=dict(total_fen=100_000, daily_fen=10_000))),
            ("points_mall", "500 积分兑 5 元券", dict(reward="coupon", points=500,
                                                coupon_template_id=templates["积分兑换 5 元券"])),
        ]

    def _multi_group(self) -> dict[str, Any]:
        products = []
        for title in MULTI_GROUP_PRODUCTS:
            product_id, sku_id, price = self._sku(title)
            products.append(dict(product_id=product_id, skus=[dict(sku_id=sku_id, group_price_fen=price * 8 // 10)]))
        return dict(products=products, group_size=3, fill_minutes=24 * 60, leader_discount_fen=100)

    async def _live(self, session: AsyncSession, kind: str, name: str, settings: dict[str, Any]) -> Campaign:
        """The demo's campaign of this kind while its window lasts; else a new one, live only if the linter
        lets it."""
        now = self.runtime.clock.now()
        for found in await campaigns.live_of_kind(session, self.merchant_id, kind, self.runtime.clock):
            if found.name == name and found.status == CampaignStatus.ACTIVE:
                return found
        created = await campaigns.create(session, self.merchant_id, CampaignIn(
            kind=kind, name=name, starts_at=now, ends_at=now + timedelta(days=CAMPAIGN_DAYS), settings=settings,
            stock_cap=1000 if kind == "points_mall" else None), self.runtime.clock)
        await campaigns.activate(session, self.merchant_id, created.id)
        return await campaigns.require(session, self.merchant_id, created.id)

    # --- the showcases: each made once, made again when time has ended it -------------------------------------

    async def showcase(self, progress: Callable[[str], None]) -> Showcase:
        alice, bob, _, dave = self.people[:4]
        progress("groups")
        await self._succeeded_group(dave, self.friends[:2])
        group_id = await self._open_group(alice, bob)
        carol = self.people[2]
        multi_group_id = await self._open_group(carol, alice, "multi_group", MULTI_GROUP_PRODUCTS[:2])
        progress("bargain")
        bargain_id = await self._bargain(self.friends[2:4])
        progress("assist packet")
        assist_id = await self._assist(self.friends[3:6])
        progress("share packets")
        share_packet, credit_packet = await self._packets(dave, self.friends[2:5])
        progress("parcels")
        received = await self._parcels()
        progress("community")
        await self._community(received)
        async with self.runtime.sessionmaker() as session:
            shares = {
                "开团": await self._share(session, alice, "group", group_id),
                "砍价": await self._share(session, await self._owner(session, Bargain, bargain_id), "bargain",
                                        bargain_id),
                "助力": await self._share(session, await self._owner(session, AssistPacket, assist_id), "assist",
                                        assist_id),
                "分享券": await self._share(session, dave, "packet", share_packet),
                "立减金": await self._share(session, dave, "packet", credit_packet),
            }
            await session.commit()
        group_product, _, _ = self._sku(GROUP_PRODUCT)
        return Showcase(product=f"/m/{self.slug}/products/{group_product}", group=f"/m/{self.slug}/groups/{group_id}",
                        bargain=f"/m/{self.slug}/bargains/{bargain_id}", assist=f"/m/{self.slug}/assists/{assist_id}",
                        shares=shares, multi_group=f"/m/{self.slug}/groups/{multi_group_id}",
                        community=f"/m/{self.slug}/community",
                        order=f"/m/{self.slug}/orders/{received[0]}" if received else "")

    async def _succeeded_group(self, leader: Person, members: Sequence[Person]) -> None:
        campaign = self.campaign["group"]
        async with self.runtime.sessionmaker() as session:
            if await session.scalar(select(BuyingGroup.id).where(
                    BuyingGroup.campaign_id == campaign.id, BuyingGroup.status == GroupStatus.SUCCEEDED).limit(1)):
                return
        group_id = await self._lead_group(leader)
        for member in members:
            await self._buy(member, self._group_choice(group_id), GROUP_PRODUCT)

    async def _open_group(self, leader: Person, member: Person, key: str = "group",
                          choices: Sequence[str] = (GROUP_PRODUCT, GROUP_PRODUCT)) -> int:
        """An open group of the live campaign with one place left, or a new one (the leader and the member buy the
        products `choices` names)."""
        campaign, now = self.campaign[key], self.runtime.clock.now()
        async with self.runtime.sessionmaker() as session:
            found = await session.scalar(select(BuyingGroup.id).where(
                BuyingGroup.campaign_id == campaign.id, BuyingGroup.status == GroupStatus.OPEN,
                BuyingGroup.expires_at > now, BuyingGroup.paid_count == BuyingGroup.size - 1).limit(1))
        if found:
            return int(found)
        group_id = await self._lead_group(leader, key, choices[0])
        await self._buy(member, self._group_choice(group_id, key), choices[1])
        return group_id

    def _group_choice(self, group_id: int | None, key: str = "group") -> CampaignChoice:
        return CampaignChoice(kind="group", campaign_id=self.campaign[key].id, target_id=group_id)

    async def _lead_group(self, leader: Person, key: str = "group", title: str = GROUP_PRODUCT) -> int:
        order_id = await self._buy(leader, self._group_choice(None, key), title)
        async with self.runtime.sessionmaker() as session:
            group_id = await session.scalar(select(GroupOrder.group_id).where(GroupOrder.order_id == order_id))
        assert group_id is not None, f"the paid order {order_id} opened no group"
        return int(group_id)

    async def _bargain(self, helpers: Sequence[Person]) -> int:
        """An ongoing bargain with two friends' cuts, or a new one (started by the demo customers in turn: each may
        start a few)."""
        campaign, now = self.campaign["bargain"], self.runtime.clock.now()
        async with self.runtime.sessionmaker() as session:
            found = await session.scalar(select(Bargain.id).where(
                Bargain.campaign_id == campaign.id, Bargain.status == BargainStatus.ONGOING, Bargain.expires_at > now,
                Bargain.helps_done > 0).limit(1))
            if found:
                return int(found)
            starter = self.people[await self._count(session, Bargain, campaign.id) % len(self.people)]
            started = await bargain.start(session, self.runtime, starter.shopper, StartBargain(campaign_id=campaign.id))
            await session.commit()
        for helper in helpers:
            async with self.runtime.sessionmaker() as session:
                await bargain.help_cut(session, self.runtime, helper.shopper, started.id, helper.client)
                await session.commit()
        return started.id

    async def _assist(self, helpers: Sequence[Person]) -> int:
        """An open assist packet with some helps, or a new one."""
        campaign, now = self.campaign["assist"], self.runtime.clock.now()
        async with self.runtime.sessionmaker() as session:
            found = await session.scalar(select(AssistPacket.id).where(
                AssistPacket.campaign_id == campaign.id, AssistPacket.status == AssistStatus.OPEN,
                AssistPacket.expires_at > now, AssistPacket.helps_done > 0).limit(1))
            if found:
                return int(found)
            opener = self.people[await self._count(session, AssistPacket, campaign.id) % len(self.people)]
            opened = await assist.open_packet(session, self.runtime, opener.shopper,
                                              OpenPacket(campaign_id=campaign.id), opener.client)
            await session.commit()
        for helper in helpers:
            async with self.runtime.sessionmaker() as session:
                await assist.help_open(session, self.runtime, helper.shopper, opened.id, helper.client)
                await session.commit()
        return opened.id

    async def _packets(self, buyer: Person, friends: Sequence[Person]) -> tuple[int, int]:
        """The share-coupon and credit packets of the buyer's paid order, claimed by friends; made again from a new
        order once they have expired."""
        share, credit = self.campaign["share_coupon"], self.campaign["credit"]
        found = await self._open_packets(buyer, (share.id, credit.id))
        if len(found) < 2:
            await self._buy(buyer, None, PACKET_PRODUCT)
            found = await self._open_packets(buyer, (share.id, credit.id))
            for friend in friends[:2]:
                await self._claim(friend, found[share.id])
            await self._claim(friends[2], found[credit.id])
        return found[share.id], found[credit.id]

    async def _open_packets(self, buyer: Person, campaign_ids: tuple[int, int]) -> dict[int, int]:
        """campaign id → the buyer's newest open packet of it."""
        now = self.runtime.clock.now()
        async with self.runtime.sessionmaker() as session:
            rows = await session.execute(select(CouponPacket.campaign_id, func.max(CouponPacket.id)).where(
                CouponPacket.campaign_id.in_(campaign_ids), CouponPacket.owner_id == buyer.shopper.customer_id,
                CouponPacket.status == PacketStatus.OPEN, CouponPacket.expires_at > now,
            ).group_by(CouponPacket.campaign_id))
            return {campaign_id: packet_id for campaign_id, packet_id in rows}

    async def _claim(self, friend: Person, packet_id: int) -> None:
        async with self.runtime.sessionmaker() as session:
            await packets.claim(session, self.runtime, friend.shopper, packet_id, friend.client)
            await session.commit()

    async def _parcels(self) -> list[int]:
        """A few of the demo customers' orders bought in the last days, shipped and followed by the sandbox carrier,
        each some steps along (已揽收 → 运输中 → 派送中 → 已签收; the last receives the order); made once. Returns the
        received orders, oldest first."""
        async with self.runtime.sessionmaker() as session:
            done = await session.scalar(select(ShipmentEvent.id).where(
                ShipmentEvent.merchant_id == self.merchant_id).limit(1))
        if not done and "sandbox" in self.runtime.carriers:
            clock = self.runtime.clock
            try:
                for who, title, steps, days_ago in PARCELS:
                    if isinstance(clock, DemoClock):  # a real journey: bought days ago, a step every few hours
                        clock.behind = timedelta(days=days_ago, hours=2)
                    buyer = self.people[who]
                    order_id = await self._buy(buyer, None, title)
                    await self._ship(order_id, clock, hours=2)
                    for _ in range(steps):
                        await self._ship(order_id, clock, hours=5, buyer=buyer)
            finally:
                if isinstance(clock, DemoClock):
                    clock.behind = timedelta(0)
            await self.work()
        async with self.runtime.sessionmaker() as session:
            return [int(order_id) for order_id in (await session.scalars(select(ShipmentEvent.order_id).where(
                ShipmentEvent.merchant_id == self.merchant_id, ShipmentEvent.status == "signed",
            ).order_by(ShipmentEvent.order_id)))]

    async def _ship(self, order_id: int, clock: Any, hours: int, buyer: Person | None = None) -> None:
        """Some hours later: the shop ships the order, or (with its buyer) the carrier takes it one step further."""
        if isinstance(clock, DemoClock):
            clock.behind -= timedelta(hours=hours)
        async with self.runtime.sessionmaker() as session:
            if buyer is None:
                await orders.ship(session, self.runtime.clock, self.staff, order_id, Ship(
                    carrier="顺丰速运", tracking_no=f"SF{order_id:010d}"))
            else:  # its push waits for the next worker pass; it carries the whole journey, stamped
                await logistics.sandbox_advance(session, self.runtime, buyer.shopper, order_id)
            await session.commit()
        if buyer is None:
            await self.work()  # the carrier follows the parcel before it moves

    async def _community(self, received: Sequence[int]) -> None:
        """社区 with something in every tab, made once: 晒单 with photos of the received orders, plain posts, likes,
        comments and follows among friends (two newcomers brought by the first customer's share link), and a post a
        keyword holds in the moderation queue."""
        async with self.runtime.sessionmaker() as session:
            if await session.scalar(select(Post.id).where(Post.merchant_id == self.merchant_id).limit(1)):
                return
        alice, bob, carol, dave = self.people[:4]
        link = await self.product_link(alice, GROUP_PRODUCT)
        first, second = [await self.person(openid, nickname, share_code=link) for openid, nickname in NEIGHBOURS]
        clock, media = self.runtime.clock, self.runtime.settings.media_dir
        async with self.runtime.sessionmaker() as session:
            if not (await moderation.settings_of(session, self.merchant_id)).keywords:
                await moderation.configure(session, clock.now(), self.staff, CommunitySettingsIn(keywords=KEYWORDS))
            shown = []
            for order_id, author, text, (title, photos) in zip(received, (alice, bob, carol), SHOWS, (
                    (PARCELS[0][1], 2), (PARCELS[1][1], 1), (PARCELS[2][1], 1)), strict=False):
                images = [await anyio.to_thread.run_sync(_photo, media, self.merchant_id, f"{title} 开箱",
                                                         PHOTO_COLOURS[n]) for n in range(photos)]
                shown.append(await community.create(session, clock, author.shopper, PostIn(
                    text=text, images=images, order_id=order_id)))
            shown.append(await community.create(session, clock, dave.shopper, PostIn(
                text="零食饮品任选 3 人团还差一人，牛肉干、海苔、冷萃随便挑，有一起的吗？")))
            shown.append(await community.create(session, clock, first.shopper, PostIn(
                text="小红推荐的店，第一次下单买了脐橙，坐等收货～")))
            await community.create(session, clock, second.shopper, PostIn(text="要代购的加微信 fm2026，价格更低"))
            for post, fans in zip(shown, ([first, second, bob, carol, dave], [alice, first], [alice, second],
                                          [alice, bob, first], [alice]), strict=False):
                for fan in fans:
                    await community.like(session, clock, fan.shopper, post.id)
            for post_at, author, text in [(0, first, "看起来好香，求链接！"), (0, alice, "点帖子里的商品卡片就能买～"),
                                          (3, bob, "我也想拼，带我一个"), (4, alice, "欢迎欢迎，脐橙很甜的")]:
                if post_at < len(shown):
                    await community.comment(session, clock, author.shopper, shown[post_at].id, CommentIn(text=text))
            for fan, idol in [(first, alice), (second, alice), (bob, alice), (alice, carol)]:
                await community.follow(session, clock, fan.shopper, idol.shopper.customer_id)
            await session.commit()
        await self.work()

    async def _buy(self, buyer: Person, choice: CampaignChoice | None, title: str) -> int:
        """Place the order, pay it in the sandbox, and let the worker deliver the payment's notification."""
        _, sku_id, _ = self._sku(title)
        async with self.runtime.sessionmaker() as session:
            order = await checkout.place_order(session, self.runtime, buyer.shopper, PlaceOrder(
                items=[LineIn(sku_id=sku_id, quantity=1)], address=ADDRESS, campaign=choice))
            payment = await payments.pay(session, self.runtime, buyer.shopper, order.id)
            assert payment.payment_id is not None
            await payments.sandbox_complete(session, self.runtime.providers, buyer.shopper, payment.payment_id)
            await session.commit()
        await self.work()
        return order.id

    async def work(self) -> None:
        """Worker passes until no job is left: notifications, the packets after a payment, refunds …"""
        for _ in range(20):
            if (await tick(self.runtime))["jobs"] == 0:
                return
        raise RuntimeError("the worker still had jobs after 20 passes")

    async def _count(self, session: AsyncSession, record: type[Bargain] | type[AssistPacket], campaign_id: int) -> int:
        return int(await session.scalar(select(func.count()).where(record.campaign_id == campaign_id)) or 0)

    async def _owner(self, session: AsyncSession, record: type[Bargain] | type[AssistPacket], record_id: int) -> Person:
        owner_id = await session.scalar(select(record.customer_id).where(record.id == record_id))
        return next(p for p in self.people if p.shopper.customer_id == owner_id)

    async def _share(self, session: AsyncSession, sharer: Person, target_type: str, target_id: int) -> str:
        """The sharer's link to the record: the one they made before, or a new one."""
        share = await session.scalar(select(Share).where(
            Share.sharer_id == sharer.shopper.customer_id, Share.target_type == target_type,
            Share.target_id == target_id))
        described = sharing.describe(self.runtime.settings, share) if share else await sharing.create_share(
            session, self.runtime, sharer.shopper, ShareIn(target_type=target_type, target_id=target_id))
        return f"/s/{described.code}"


def _photo(media_dir: Any, merchant_id: int, title: str, colour: str) -> str:
    """A shopper's photo, drawn, then stored as an upload is (normalised, named by its hash): its /media/ URL."""
    buffer = io.BytesIO()
    draw_picture(title, colour).save(buffer, "PNG")
    return store_image(Path(media_dir), merchant_id, buffer.getvalue())


HISTORY_DAYS = 29
NEWCOMERS = ("晓雯", "老周", "阿宁", "小鱼", "大鹏", "佳佳", "思思", "阿强", "文文", "小北", "安安", "乐乐",
             "果果", "明明", "小夏", "蓝蓝", "豆豆", "阿飞", "米粒", "小雨", "阿梅", "小石", "可可", "老王", "糖糖",
             "阿伦", "七七", "小满", "大熊", "柚子")


class DemoClock:
    """The system's time, set back by `behind` while the loader draws the demo's past (the payment provider and the
    worker read the same clock, so a past day's order is paid that day)."""

    def __init__(self) -> None:
        self.behind = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) - self.behind


async def load_demo_history(runtime: Runtime, slug: str, shoppers: Sequence[tuple[str, str]],
                            progress: Callable[[str], None] = lambda _: None) -> None:
    """A month of trade behind a new demo merchant, so the console's charts have something to draw: each past day,
    a few newcomers sign up (most through a customer's share link, as fission brings them) and customers buy and
    pay, all through the same use cases, on a clock set back to that day (the runtime's clock must be a DemoClock).
    Seeded: every run draws the same month."""
    clock = runtime.clock
    assert isinstance(clock, DemoClock), "the demo's past is drawn on a clock the loader can set back"
    draw = random.Random(2026)
    runtime = dataclasses.replace(runtime, http_transport=None)
    runtime.http_transport = NotificationsInProcess(runtime)
    demo = _Demo(runtime, slug)
    await demo.know_the_shop()
    buyers: list[tuple[str, str]] = list(shoppers)
    clock.behind = timedelta(days=HISTORY_DAYS + 1)
    await demo.open_distribution(buyers[:2])
    newcomers = iter(enumerate(NEWCOMERS))
    today = datetime.now(UTC)
    try:
        for days_ago in range(HISTORY_DAYS, 0, -1):
            progress(f"history {HISTORY_DAYS - days_ago + 1}/{HISTORY_DAYS}")
            clock.behind = timedelta(days=days_ago, hours=today.hour - 2)
            for _ in range(draw.choice((0, 0, 1, 1, 2))):
                n, name = next(newcomers, (None, ""))
                if n is None:
                    break
                clock.behind -= timedelta(minutes=draw.randint(10, 90))
                inviter = await demo.person(*draw.choice(buyers)) if draw.random() < 0.7 else None
                link = await demo.product_link(inviter, draw.choice(list(demo.skus))) if inviter else None
                buyers.append((f"demo-history-{n}", name))
                await demo.person(*buyers[-1], share_code=link)
            for _ in range(draw.randint(1, 4)):
                clock.behind -= timedelta(minutes=draw.randint(5, 60))
                order_id = await demo._buy(await demo.person(*draw.choice(buyers)), None, draw.choice(list(demo.skus)))
                await demo.after_sale(order_id, draw.random())
    finally:
        clock.behind = timedelta(0)
