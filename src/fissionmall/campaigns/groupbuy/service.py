"""Group buying (拼团): open a group by paying, join through a share link or the open list, succeed when the
last seat is paid, fail (and refund everyone) when time runs out. DOMAIN.md § Group buying."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import errors as campaign_errors
from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns.groupbuy import errors, repository, rules
from fissionmall.campaigns.groupbuy.models import BuyingGroup, GroupOrder
from fissionmall.campaigns.groupbuy.schemas import (
    GroupBuySettings,
    GroupCampaignOut,
    GroupMemberOut,
    GroupOut,
    GroupPage,
    Offer,
)
from fissionmall.campaigns.groupbuy.states import GroupStatus
from fissionmall.campaigns.mechanic import Mechanic, Page
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.schemas import Finding
from fissionmall.campaigns.states import CampaignStatus
from fissionmall.catalog import service as catalog
from fissionmall.catalog.schemas import ProductDetail
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.errors import NotFound
from fissionmall.core.events import Happened, record_event, record_events
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.runtime import Runtime
from fissionmall.customers import service as customers
from fissionmall.distribution import service as distribution
from fissionmall.orders import refunds
from fissionmall.orders import service as orders
from fissionmall.orders.hooks import CampaignPart
from fissionmall.orders.models import Order
from fissionmall.orders.schemas import CampaignChoice
from fissionmall.orders.states import OrderStatus
from fissionmall.sharing.targets import PosterFacts, ShareTarget

KIND = "group"


def settings_of(campaign: Campaign) -> GroupBuySettings:
    return GroupBuySettings.model_validate(campaign.settings)


class GroupBuyOrders:
    """Group buying's part in the order flow (registered under the order kind "group")."""

    async def prepare(self, session: AsyncSession, runtime: Runtime, shopper: Shopper, choice: CampaignChoice,
                      lines: Sequence[dict[str, Any]]) -> CampaignPart:
        if len(lines) != 1:
            raise errors.one_item()
        line = lines[0]
        campaign = await campaigns.require(session, shopper.merchant_id, choice.campaign_id, kind=KIND)
        settings = settings_of(campaign)
        joining = choice.target_id is not None
        price = rules.unit_price(settings, line["sku_id"], leader=not joining)
        if price is None:
            if line["product_id"] not in {offer.product_id for offer in settings.offers()}:
                raise errors.product_not_in_campaign(line["product_id"])
            raise errors.sku_not_in_campaign(line["sku_id"])
        if choice.target_id is not None:
            await _check_joinable(session, runtime.clock, shopper, campaign, settings, choice.target_id)
        payment = rules.payment_of(settings, choice.payment)
        if payment is None:
            raise errors.payment_not_offered(choice.payment or "")
        claims = await campaigns.claims(session, campaign, shopper.customer_id, line["quantity"],
                                        settings.per_customer_limit, runtime)
        discount = (price - line["unit_price_fen"]) * line["quantity"]
        deposit = rules.deposit(price * line["quantity"], settings.deposit_percent) if payment == "deposit" else None
        return CampaignPart(
            kind=KIND, campaign_id=campaign.id, deposit_fen=deposit,
            payment_choices=rules.payment_choices(settings, price * line["quantity"], payment),
            adjustments=[{"kind": "group_price", "name": "拼团价" if joining else "开团价", "amount_fen": discount,
                          "source_id": campaign.id}],
            context={"group_id": choice.target_id, "is_leader": not joining, "unit_price_fen": price,
                     "quantity": line["quantity"], "customer_id": shopper.customer_id,
                     "merchant_id": shopper.merchant_id, "payment": "full" if deposit is None else "deposit"},
            claims=claims,
        )

    async def placed(self, session: AsyncSession, clock: Clock, order_id: int, part: CampaignPart) -> None:
        context = part.context
        if not await repository.add_group_order(
                session, order_id=order_id, merchant_id=context["merchant_id"], campaign_id=part.campaign_id,
                group_id=context["group_id"], customer_id=context["customer_id"], is_leader=context["is_leader"],
                unit_price_fen=context["unit_price_fen"], quantity=context["quantity"], payment=context["payment"],
                seat_no=None, active=True):
            raise errors.already_in_group()

    async def paid(self, session: AsyncSession, runtime: Runtime, order: Order) -> None:
        """Take a seat with one guarded statement; the payment that fills the last seat succeeds the group."""
        entry = await repository.group_order(session, order.id)
        now = runtime.clock.now()
        if entry.group_id is None:
            await _open_group(session, now, entry, order)
            return
        seat = await repository.take_seat(session, entry.group_id, now)
        if seat is None:
            await _lost_the_race(session, runtime.clock, entry, order)
            return
        seat_no, size = seat
        await repository.set_seat(session, order.id, seat_no)
        await _event(session, order, "group_join", now, entry.group_id, seat=seat_no, payment=entry.payment)
        if seat_no == size:
            await _succeed(session, runtime, entry.group_id, order.merchant_id)

    async def released(self, session: AsyncSession, released_orders: Sequence[Order]) -> None:
        entries = await repository.group_orders(session, [o.id for o in released_orders])
        await repository.deactivate(session, [e.order_id for e in entries])
        for entry in entries:
            await campaigns.unclaim(session, entry.campaign_id, entry.customer_id, entry.quantity)

    async def balance_lapsed(self, session: AsyncSession, clock: Clock, lapsed: Sequence[Order]) -> None:
        """The deposit rule the campaign published: keep the deposit (定金) or return it in full."""
        now = clock.now()
        rule: dict[int, str] = {}
        for order in lapsed:
            campaign_id = order.campaign_id or 0
            if campaign_id not in rule:
                campaign = await campaigns.require(session, order.merchant_id, campaign_id, kind=KIND)
                rule[campaign_id] = settings_of(campaign).deposit_on_lapse
            if rule[campaign_id] == "forfeit":
                await orders.forfeit_deposit(session, order, now)
            else:
                await refunds.refund_for_campaign(session, clock, order.id, None, "尾款逾期未付，定金全额退还",
                                                 when=OrderStatus.BALANCE_DUE)


async def _check_joinable(session: AsyncSession, clock: Clock, shopper: Shopper, campaign: Campaign,
                          settings: GroupBuySettings, group_id: int) -> None:
    group = await repository.group_of(session, shopper.merchant_id, group_id)
    if group is None or group.campaign_id != campaign.id:
        raise errors.group_not_found(group_id)
    if group.paid_count >= group.size:
        raise errors.group_full()
    if group.status != GroupStatus.OPEN or group.expires_at <= clock.now():
        raise errors.group_closed("closed" if group.status == GroupStatus.OPEN else group.status)
    if group.leader_id == shopper.customer_id:
        raise errors.already_in_group()
    if settings.new_customers_only:
        customer = await customers.get_customer(session, shopper.merchant_id, shopper.customer_id)
        if customer.first_paid_at is not None:
            raise errors.new_customers_only()


async def _open_group(session: AsyncSession, now: datetime, entry: GroupOrder, order: Order) -> None:
    campaign = await campaigns.require(session, order.merchant_id, entry.campaign_id, kind=KIND)
    settings = settings_of(campaign)
    group_id = await repository.open_group(
        session, merchant_id=order.merchant_id, campaign_id=campaign.id, leader_id=order.customer_id,
        size=settings.group_size, paid_count=1, status=GroupStatus.OPEN, opened_at=now,
        expires_at=now + timedelta(minutes=settings.fill_minutes))
    await repository.lead(session, order.id, group_id)
    await _event(session, order, "group_open", now, group_id, size=settings.group_size, payment=entry.payment)


async def _lost_the_race(session: AsyncSession, clock: Clock, entry: GroupOrder, order: Order) -> None:
    """The group filled or closed before this payment arrived: the campaign's setting decides."""
    campaign = await campaigns.require(session, order.merchant_id, entry.campaign_id, kind=KIND)
    if settings_of(campaign).race_loser == "new_group":
        await _open_group(session, clock.now(), entry, order)
    else:
        await refunds.refund_for_campaign(session, clock, order.id, None, "拼团已满或已结束，全额退款",
                                         when=OrderStatus.PAID)


async def _succeed(session: AsyncSession, runtime: Runtime, group_id: int, merchant_id: int) -> None:
    now = runtime.clock.now()
    group = await repository.group_of(session, merchant_id, group_id)
    if group is None or not await repository.close_groups(session, [group_id], GroupStatus.SUCCEEDED, now):
        return
    campaign = await campaigns.require(session, merchant_id, group.campaign_id, kind=KIND)
    settings = settings_of(campaign)
    seated = await repository.seated(session, [group_id])
    balance_due = set(await orders.release_for_shipping(session, [s.order_id for s in seated],
                                                        now + timedelta(hours=settings.balance_hours)))
    final_price = rules.tier_price(settings.tiers, group.paid_count) if settings.tiers else None
    for member in seated:
        difference = rules.tier_difference(member.unit_price_fen, member.quantity, final_price)
        if difference and member.order_id in balance_due:
            await orders.lower_balance(session, member.order_id, difference, "阶梯团差价", group.campaign_id)
        elif difference:
            await refunds.refund_for_campaign(session, runtime.clock, member.order_id, difference, "阶梯团差价退还",
                                             when=OrderStatus.TO_SHIP)
    commission = 0
    if settings.leader_commission_bp:
        paid = [(o.id, o.customer_id, o.paid_fen)
                for o in [await orders.require_order(session, merchant_id, m.order_id) for m in seated
                          if m.customer_id != group.leader_id and m.order_id not in balance_due]]
        commission = await distribution.write_leader_commission(
            session, runtime.clock.now(), merchant_id=merchant_id, leader_id=group.leader_id,
            rate_bp=settings.leader_commission_bp, paid_orders=paid)
    data: dict[str, Any] = {"members": group.paid_count, "final_price_fen": final_price}
    if settings.leader_commission_bp:
        data["leader_commission_fen"] = commission
    await record_event(session, merchant_id=merchant_id, kind="group_success", at=now, actor_id=group.leader_id,
                       campaign_id=group.campaign_id, subject=("group", group_id), data=data)


async def _fail(session: AsyncSession, clock: Clock, groups: Sequence[BuyingGroup]) -> None:
    """A chunk of groups that did not fill: closed by one statement, every paid member refunded in full on their
    own order through the outbox, set-based (refunds.refund_in_full)."""
    if not groups:
        return
    now = clock.now()
    closed = set(await repository.close_groups(session, [g.id for g in groups], GroupStatus.FAILED, now))
    members = await repository.seated(session, list(closed))
    await refunds.refund_in_full(session, clock, [m.order_id for m in members], "拼团未成功，全额退款",
                                 when=OrderStatus.PAID)
    await record_events(session, "group_failed", now, [
        Happened(merchant_id=g.merchant_id, subject=("group", g.id), actor_id=g.leader_id, campaign_id=g.campaign_id,
                 data={"members": g.paid_count}) for g in groups if g.id in closed])


async def _event(session: AsyncSession, order: Order, kind: str, at: datetime, group_id: int, **data: Any) -> None:
    await record_event(session, merchant_id=order.merchant_id, kind=kind, at=at, actor_id=order.customer_id,
                       inviter_id=order.inviter_id, campaign_id=order.campaign_id, subject=("group", group_id),
                       data={"order_id": order.id, **data})


CHUNK = 500


async def settle_expired(session: AsyncSession, runtime: Runtime) -> int:
    """One chunk of groups whose time ran out: succeed those the rules complete, fail the rest."""
    due = await repository.due_groups(session, runtime.clock.now(), CHUNK)
    settings: dict[int, GroupBuySettings] = {}
    for group in due:
        if group.campaign_id not in settings:
            campaign = await campaigns.require(session, group.merchant_id, group.campaign_id, kind=KIND)
            settings[group.campaign_id] = settings_of(campaign)
    failing = [g for g in due if rules.outcome_at_expiry(settings[g.campaign_id], g.paid_count) != "succeed"]
    for group in due:
        if group not in failing:
            await _succeed(session, runtime, group.id, group.merchant_id)
    await _fail(session, runtime.clock, failing)
    return len(due)


# --- what shoppers see ---------------------------------------------------------------------------


async def campaign_view(session: AsyncSession, merchant_id: int, campaign_id: int) -> GroupCampaignOut:
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    if campaign.status == CampaignStatus.DRAFT:
        raise campaign_errors.campaign_not_found(campaign_id)
    settings = settings_of(campaign)
    return GroupCampaignOut(
        id=campaign.id, name=campaign.name, product_id=settings.first_product(), status=campaign.status,
        starts_at=campaign.starts_at, ends_at=campaign.ends_at, group_size=settings.group_size,
        fill_minutes=settings.fill_minutes, skus=settings.all_skus(), products=settings.offers(),
        leader_discount_fen=settings.leader_discount_fen,
        new_customers_only=settings.new_customers_only, per_customer_limit=settings.per_customer_limit,
        tiers=settings.tiers, deposit_percent=settings.deposit_percent, balance_hours=settings.balance_hours,
        deposit_on_lapse=settings.deposit_on_lapse, payment_options=rules.payment_options(settings),
        rules=await _describe(session, merchant_id, settings))


async def _render(session: AsyncSession, now: datetime, groups: Sequence[BuyingGroup]) -> list[GroupOut]:
    seats: dict[int, list[GroupMemberOut]] = {g.id: [] for g in groups}
    for entry, nickname, avatar, (product_id, sku_id, chose) in await repository.members(
            session, [g.id for g in groups]):
        seats[entry.group_id or 0].append(GroupMemberOut(customer_id=entry.customer_id, nickname=nickname,
                                                         avatar_url=avatar, is_leader=entry.is_leader,
                                                         product_id=product_id, sku_id=sku_id, chose=chose))
    return [
        GroupOut(id=g.id, campaign_id=g.campaign_id, status=g.status, size=g.size, paid_count=g.paid_count,
                 places_left=g.size - g.paid_count if g.status == GroupStatus.OPEN else 0, expires_at=g.expires_at,
                 seconds_left=max(0, int((g.expires_at - now).total_seconds())) if g.status == GroupStatus.OPEN else 0,
                 members=seats[g.id])
        for g in groups
    ]


async def open_groups(session: AsyncSession, clock: Clock, merchant_id: int, campaign_id: int) -> list[GroupOut]:
    """The 凑团 list; empty when the merchant keeps groups private."""
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    if not settings_of(campaign).listed or campaign.status != CampaignStatus.ACTIVE:
        return []
    now = clock.now()
    return await _render(session, now, await repository.open_groups(session, campaign.id, now, 20))


async def campaign_groups(session: AsyncSession, clock: Clock, merchant_id: int, campaign_id: int,
                          status: GroupStatus | None, cursor: str | None, limit: int) -> GroupPage:
    """Every group of one of the merchant's group buys (members, places left, time left), by status."""
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    groups = await repository.group_page(session, merchant_id, campaign.id, status, parse_cursor(cursor), limit)
    return GroupPage(items=await _render(session, clock.now(), groups),
                     next_cursor=str(groups[-1].id) if len(groups) == limit else None)


async def group_view(session: AsyncSession, clock: Clock, merchant_id: int, group_id: int) -> GroupOut:
    group = await repository.group_of(session, merchant_id, group_id)
    if group is None:
        raise errors.group_not_found(group_id)
    return (await _render(session, clock.now(), [group]))[0]


async def check(session: AsyncSession, merchant_id: int, settings: GroupBuySettings) -> list[Finding]:
    """Before going live: every product is the merchant's, the SKUs belong to their product, and each group price is
    a real saving (P3)."""
    findings: list[Finding] = []
    for offer in settings.offers():
        findings += await _check_offer(session, merchant_id, offer)
    return findings + _payment_findings(settings)


async def _check_offer(session: AsyncSession, merchant_id: int, offer: Offer) -> list[Finding]:
    findings: list[Finding] = []
    try:
        product = await catalog.require_product(session, merchant_id, offer.product_id)
    except NotFound:
        return [Finding(rule="G1", level="block", reason=f"product {offer.product_id} does not exist",
                        check="product_missing", facts={"product_id": offer.product_id or 0})]
    prices = {sku.id: sku.price_fen for sku in product.skus}
    for sku in offer.skus:
        if sku.sku_id not in prices:
            findings.append(Finding(rule="G1", level="block",
                                    reason=f"SKU {sku.sku_id} is not a SKU of product {product.id}",
                                    check="sku_not_of_product", facts={"sku_id": sku.sku_id, "product_id": product.id}))
        elif sku.group_price_fen >= prices[sku.sku_id]:
            findings.append(Finding(rule="P3", level="block", reason=(
                f"the group price of SKU {sku.sku_id} ({sku.group_price_fen} fen) is no lower than buying it "
                f"alone ({prices[sku.sku_id]} fen): a group must really save money"), check="group_price_not_lower",
                facts={"sku_id": sku.sku_id, "group_price_fen": sku.group_price_fen, "price_fen": prices[sku.sku_id]}))
    return findings


def _payment_findings(settings: GroupBuySettings) -> list[Finding]:
    """What the way of paying means that the merchant may not expect (G2): a price too small to split into a deposit
    is paid in full; the leader's commission counts only members who paid in full by the time the group succeeds."""
    if rules.payment_options(settings) == "full_only":
        return []
    findings = [Finding(rule="G2", level="warn", check="deposit_not_split", reason=(
        f"the group price of SKU {sku.sku_id} ({sku.group_price_fen} fen) is too small to split into a deposit "
        "and a balance: it is paid in full"), facts={"sku_id": sku.sku_id, "group_price_fen": sku.group_price_fen})
        for sku in settings.all_skus() if rules.deposit(sku.group_price_fen, settings.deposit_percent) is None]
    if settings.leader_commission_bp:
        findings.append(Finding(rule="G2", level="warn", check="commission_on_full_payers", reason=(
            "the leader's commission counts only members who paid in full by the time the group succeeds; members "
            "who pay a deposit earn the leader nothing"), facts={}))
    return findings


async def _group_target(session: AsyncSession, shopper: Shopper, group_id: int) -> int | None:
    """A group can be shared by anyone who sees it (members invite friends; strangers pass it on)."""
    group = await repository.group_of(session, shopper.merchant_id, group_id)
    if group is None:
        raise errors.group_not_found(group_id)
    return group.campaign_id


def summary(settings: GroupBuySettings) -> dict[str, Any]:
    return {"group_size": settings.group_size, "leader_discount_fen": settings.leader_discount_fen,
            "prices": [sku.model_dump() for sku in settings.all_skus()],
            "products": [offer.product_id for offer in settings.offers()]}


async def _describe(session: AsyncSession, merchant_id: int, settings: GroupBuySettings) -> list[str]:
    """The published rules; a multi-product group's also name each product it offers and its price."""
    titles = await catalog.titles_of(session, merchant_id, [o.product_id for o in settings.offers()]) \
        if rules.is_multi(settings) else {}
    return rules.describe(settings, titles)


async def group_of_order(session: AsyncSession, order_id: int) -> int | None:
    """The group an order of this kind belongs to, once its payment seated it (None before)."""
    entries = await repository.group_orders(session, [order_id])
    return entries[0].group_id if entries else None


async def page(session: AsyncSession, clock: Clock, merchant_id: int, group_id: int) -> dict[str, Any]:
    """The group a friend shared: who is in (and, in a multi-product group, what each chose), places left, time
    left, the price, the products and SKUs a friend may join with (their deposit when the campaign takes one), and
    the published rules."""
    view = await group_view(session, clock, merchant_id, group_id)
    campaign = await campaign_view(session, merchant_id, view.campaign_id)
    group_prices = {sku.sku_id: sku.group_price_fen for sku in campaign.skus}
    takes_deposit = campaign.payment_options != "full_only"
    products: list[ProductDetail] = []
    offered: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    for offer in campaign.products:
        product = await catalog.product_detail(session, merchant_id, offer.product_id, shopper_view=False)
        products.append(product)
        mine = [{"sku_id": sku.id, "name": sku.name, "price_fen": group_prices[sku.id], "in_stock": sku.stock > 0,
                 "list_price_fen": sku.price_fen, "product": product.title,
                 "deposit_fen": rules.deposit(group_prices[sku.id], campaign.deposit_percent) if takes_deposit
                 else None}
                for sku in product.skus if sku.active and sku.id in group_prices]
        if mine:
            offered.append({"product": product, "choices": mine})
            choices += mine
    product = products[0]
    return {"group": view, "campaign": campaign, "product": product, "products": products, "offered": offered,
            "choices": choices, "multi": len(products) > 1,
            "list_price": None if len(products) > 1 else min((sku.price_fen for sku in product.skus), default=None),
            "group_price": min(group_prices.values()), "empty_seats": range(view.places_left),
            "leader": next((m.nickname for m in view.members if m.is_leader), "")}


async def poster(session: AsyncSession, clock: Clock, merchant_id: int, group_id: int) -> PosterFacts:
    """An open group: its price and places left; a group that filled: a 拼团成功 card to show off."""
    facts = await page(session, clock, merchant_id, group_id)
    group, product = facts["group"], facts["product"]
    size = f"{group.size} 人团"
    title = f"{facts['campaign'].name}：{len(facts['products'])} 款任选" if facts["multi"] else product.title
    common: dict[str, Any] = {"title": title, "image_url": product.images[0] if product.images else None,
                              "price_fen": facts["group_price"], "list_price_fen": facts["list_price"]}
    if group.status == GroupStatus.SUCCEEDED:
        return PosterFacts(**common, hero="拼团成功", hero_note=f"{size} · {group.paid_count} 人已成团",
                           sharer_says="的拼团", tagline="长按识别二维码，你也来拼")
    if group.status == GroupStatus.OPEN and group.places_left:
        return PosterFacts(**common, badge=size, status=f"{size} · 还差 {group.places_left} 人",
                           progress_percent=group.paid_count * 100 // group.size,
                           details=("付款才算入团，未成团自动全额退款",), tagline="长按识别二维码，和我一起拼")
    return PosterFacts(**common, badge=size, status="这个团已结束，可以自己开团", tagline="长按识别二维码，去开团")


MECHANIC = Mechanic(
    kind=KIND, settings_model=GroupBuySettings, product_of=lambda s: s.first_product(), check=check,
    products_of=lambda s: [(f"products.{i}.product_id", p.product_id) for i, p in enumerate(s.products)]
    or [("product_id", s.first_product())],
    summary=summary,
    rules_text="付款才算入团；截止时未成团，已付款的成员自动全额退款。团价事先写明，不抽奖。",
    orders=GroupBuyOrders(), share_target=ShareTarget("group", _group_target, poster),
    page=Page("groups", "group.html", page), tasks="fissionmall.campaigns.groupbuy.tasks",
    describe=_describe)
