"""The help machinery every friend-driven mechanic shares (bargain cuts, assist packets): who may help,
how often, once per record, velocity limits, and the risk check before anything of cash value.

A mechanic calls `take_help` first, then claims its own record's next step with one guarded statement
and `settle`s the help with what it did. Any refusal raises, and the request's transaction undoes it all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.helping import errors, repository
from fissionmall.campaigns.helping.models import GoodsPrize
from fissionmall.campaigns.helping.schemas import (
    Budget,
    Gift,
    GiftOut,
    GoodsPrizeOut,
    HelperReward,
    HelpOut,
    HelpRules,
)
from fissionmall.campaigns.schemas import Finding
from fissionmall.catalog import service as catalog
from fissionmall.core import counters
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, NotFound
from fissionmall.core.runtime import Runtime
from fissionmall.coupons import service as coupons
from fissionmall.customers import service as customers
from fissionmall.fraud import service as fraud
from fissionmall.fraud import velocity
from fissionmall.fraud.risk import HIGH_RISK
from fissionmall.fraud.schemas import Actor
from fissionmall.orders import service as orders
from fissionmall.orders.hooks import CampaignPart
from fissionmall.orders.models import Order
from fissionmall.orders.schemas import CampaignChoice
from fissionmall.wallet import service as wallet


async def take_help(session: AsyncSession, runtime: Runtime, rules: HelpRules, *, campaign_id: int,
                    target: tuple[str, int], owner_id: int, helper: Actor) -> int:
    """Admit this helper on this record, or refuse with a clear code; the new help's id."""
    if helper.customer_id == owner_id and not rules.self_help:
        raise errors.cannot_help_self()
    if rules.new_helpers_only and not await _new(session, helper):
        raise errors.new_helpers_only()
    await velocity.check(session, runtime, f"help:{campaign_id}", helper, rules.velocity)
    now = runtime.clock.now()
    help_id = await repository.insert_help(
        session, merchant_id=helper.merchant_id, campaign_id=campaign_id, target_type=target[0],
        target_id=target[1], helper_id=helper.customer_id, seq=0, amount_fen=0, new_helper=helper.is_new,
        device_id=helper.device_id, ip_range=helper.ip_range, created_at=now)
    if help_id is None:
        raise errors.already_helped()
    if await counters.take(session, helper.merchant_id, f"helps:{campaign_id}:{helper.customer_id}",
                           counters.day_of(now), rules.helps_per_helper_per_day) is None:
        raise errors.help_limit_reached(rules.helps_per_helper_per_day)
    return help_id


async def _new(session: AsyncSession, helper: Actor) -> bool:
    """F2: no earlier paid order, and no earlier account on the device they act from or signed up on."""
    if not helper.is_new:
        return False
    for device in {helper.device_id, helper.signup_device_id} - {None}:
        if await customers.device_used_before(session, helper.merchant_id, device, helper.customer_id):
            return False
    return True


async def settle(session: AsyncSession, help_id: int, seq: int, amount_fen: int = 0) -> None:
    await repository.settle(session, help_id, seq, amount_fen)


async def helps_on(session: AsyncSession, target_type: str, target_ids: list[int]) -> dict[int, list[HelpOut]]:
    found: dict[int, list[HelpOut]] = {target_id: [] for target_id in target_ids}
    for help_row, nickname, avatar in await repository.helps_of(session, target_type, target_ids):
        found[help_row.target_id].append(HelpOut(
            seq=help_row.seq, helper_id=help_row.helper_id, nickname=nickname, avatar_url=avatar,
            amount_fen=help_row.amount_fen, new_helper=help_row.new_helper, created_at=help_row.created_at))
    return found


HELPER_GIFT = "helper_gift"


async def reward_helper(session: AsyncSession, runtime: Runtime, settings: HelperReward, *, merchant_id: int,
                        campaign_id: int, helper: Actor, help_id: int) -> int:
    """The campaign's helper reward for this help, after the risk check (F4): the credit from its budget and the
    gift from its stock, each once per help. What was credited."""
    if not (settings.helper_reward_fen and settings.reward_budget) and settings.helper_gift is None:
        return 0
    if await fraud.risk_rank(session, runtime, helper) >= HIGH_RISK:
        return 0
    credited = 0
    if settings.helper_reward_fen and settings.reward_budget is not None:
        credited = await grant_credit(
            session, runtime.clock, merchant_id=merchant_id, campaign_id=campaign_id, budget=settings.reward_budget,
            customer_id=helper.customer_id, amount_fen=settings.helper_reward_fen, kind="helper_reward",
            source=("help", help_id))
    if settings.helper_gift is not None:
        await grant_gift(session, runtime.clock, merchant_id=merchant_id, campaign_id=campaign_id,
                         gift=settings.helper_gift, pot=HELPER_GIFT, customer_id=helper.customer_id,
                         source=("help", help_id))
    return credited


def budget_key(campaign_id: int, kind: str) -> str:
    return f"budget:{campaign_id}:{kind}"


async def grant_credit(session: AsyncSession, clock: Clock, *, merchant_id: int, campaign_id: int, budget: Budget,
                       customer_id: int, amount_fen: int, kind: str, source: tuple[str, int]) -> int:
    """Credit a prize or reward (`kind` names the campaign's pot it is paid from), claiming the pot's budget in
    this same transaction: the amount granted, or 0 when the budget (in all, or today's) cannot cover it. Once
    per (customer, kind, source)."""
    if amount_fen <= 0:
        return 0
    now = clock.now()
    pot = budget_key(campaign_id, kind)
    claims = [(pot, counters.TOTAL, budget.total_fen)]
    if budget.daily_fen is not None:
        claims.append((pot, counters.day_of(now), budget.daily_fen))
    taken: list[tuple[str, str]] = []
    for key, period, cap in claims:
        if await counters.take(session, merchant_id, key, period, cap, amount_fen) is None:
            for done_key, done_period in taken:
                await counters.give_back(session, done_key, done_period, amount_fen)
            return 0
        taken.append((key, period))
    if not await wallet.credit(session, merchant_id, customer_id, amount_fen, kind, source, now, campaign_id):
        for key, period in taken:
            await counters.give_back(session, key, period, amount_fen)
        return 0
    return amount_fen


async def grant_gift(session: AsyncSession, clock: Clock, *, merchant_id: int, campaign_id: int, gift: Gift, pot: str,
                     customer_id: int, source: tuple[str, int]) -> GiftOut | None:
    """Give a coupon or goods (`pot` names the campaign's stock of it), claiming that stock in this same transaction
    (one capped counter) and, for a coupon, the template's own stock (the coupons service's guarded update): what
    was given, or None when either stock is out or the template no longer issues. The caller gives it once per
    source (a packet opened once, a help made once); goods are unique per source besides."""
    key = f"gifts:{campaign_id}:{pot}"
    if await counters.take(session, merchant_id, key, counters.TOTAL, gift.stock) is None:
        return None
    given = await _give(session, clock, merchant_id, campaign_id, gift, customer_id, source)
    if given is None:
        await counters.give_back(session, key, counters.TOTAL)
    return given


async def _give(session: AsyncSession, clock: Clock, merchant_id: int, campaign_id: int, gift: Gift, customer_id: int,
                source: tuple[str, int]) -> GiftOut | None:
    now = clock.now()
    if gift.kind == "coupon":
        template = await coupons.require_template(session, merchant_id, gift.coupon_template_id or 0)
        try:
            coupons.require_issuable(template, now)
        except Conflict:  # paused, ended or expired: nothing to give
            return None
        issued = await coupons.issue(session, template, [customer_id], now, source)
        return GiftOut(kind="coupon", ref=issued[0], name=template.name) if issued else None
    prize_id = await repository.insert_goods_prize(
        session, merchant_id=merchant_id, campaign_id=campaign_id, customer_id=customer_id,
        product_id=gift.product_id, sku_id=gift.sku_id, source_type=source[0], source_id=source[1],
        status="unclaimed", order_id=None, created_at=now)
    if prize_id is None:
        return None
    titles = await catalog.titles_of(session, merchant_id, [gift.product_id or 0])
    return GiftOut(kind="goods", ref=prize_id, name=titles.get(gift.product_id or 0, ""))


async def gift_names(session: AsyncSession, merchant_id: int, gifts: Sequence[Gift]) -> dict[tuple[str, int], str]:
    """The names the rules show for these gifts: ("coupon", template id) and ("goods", product id)."""
    names: dict[tuple[str, int], str] = {}
    for gift in gifts:
        if gift.kind == "coupon" and gift.coupon_template_id is not None:
            try:
                template = await coupons.require_template(session, merchant_id, gift.coupon_template_id)
            except NotFound:
                continue
            names[("coupon", gift.coupon_template_id)] = template.name
    product_ids = [g.product_id for g in gifts if g.kind == "goods" and g.product_id is not None]
    for product_id, title in (await catalog.titles_of(session, merchant_id, product_ids)).items():
        names[("goods", product_id)] = title
    return names


async def names_for(session: AsyncSession, merchant_id: int, settings: HelperReward,
                    *more: Gift) -> dict[tuple[str, int], str]:
    """The names of a campaign's helper gift and any other gifts it gives, for its published rules."""
    gifts = [*more, *([settings.helper_gift] if settings.helper_gift else [])]
    return await gift_names(session, merchant_id, gifts) if gifts else {}


Describe = Callable[[Any, Mapping[tuple[str, int], str]], list[str]]


def named_rules(describe: Describe, more: Callable[[Any], Sequence[Gift]] = lambda s: ()
                ) -> Callable[[AsyncSession, int, Any], Awaitable[list[str]]]:
    """A mechanic's rules reader whose rules name its gifts (the coupon's, the product's name)."""
    async def read(session: AsyncSession, merchant_id: int, settings: Any) -> list[str]:
        return describe(settings, await names_for(session, merchant_id, settings, *more(settings)))

    return read


async def gift_findings(session: AsyncSession, merchant_id: int, settings: HelperReward,
                        *more: tuple[str, Gift]) -> list[Finding]:
    """The linter's word on a campaign's gifts (G1, and F5's funded rewards): each names a coupon template or a SKU
    of the merchant's own; `more` are (where, gift) of the mechanic's other gifts (an assist ladder's rungs)."""
    gifts = [*more, *([("helper_gift", settings.helper_gift)] if settings.helper_gift else [])]
    return [finding for where, gift in gifts for finding in await _unfunded(session, merchant_id, where, gift)]


async def _unfunded(session: AsyncSession, merchant_id: int, where: str, gift: Gift) -> list[Finding]:
    if gift.kind == "coupon":
        try:
            await coupons.require_template(session, merchant_id, gift.coupon_template_id or 0)
        except NotFound:
            return [Finding(rule="G1", level="block", reason=f"{where}: coupon template {gift.coupon_template_id} "
                                                               "does not exist", check="coupon_missing",
                            facts={"template_id": gift.coupon_template_id or 0, "where": where})]
        return []
    try:
        product = await catalog.require_product(session, merchant_id, gift.product_id or 0)
    except NotFound:
        return [Finding(rule="G1", level="block", reason=f"{where}: product {gift.product_id} does not exist",
                        check="product_missing", facts={"product_id": gift.product_id or 0, "where": where})]
    if all(sku.id != gift.sku_id for sku in product.skus):
        return [Finding(rule="G1", level="block", reason=f"{where}: SKU {gift.sku_id} is not a SKU of product "
                                                           f"{product.id}", check="sku_not_of_product",
                        facts={"sku_id": gift.sku_id or 0, "product_id": product.id, "where": where})]
    return []


# --- goods prizes: one unit of a SKU, ordered at no price through checkout ---------------------------------------

GOODS_ORDER_KIND = "prize"


async def my_goods_prizes(session: AsyncSession, shopper: Shopper) -> list[GoodsPrizeOut]:
    found = await repository.goods_prizes_of(session, shopper.merchant_id, shopper.customer_id)
    titles = await catalog.titles_of(session, shopper.merchant_id, [p.product_id for p in found])
    return [_goods_out(p, titles.get(p.product_id, "")) for p in found]


async def goods_prize(session: AsyncSession, merchant_id: int, prize_id: int) -> GoodsPrizeOut | None:
    prize = await repository.goods_prize_of(session, merchant_id, prize_id)
    if prize is None:
        return None
    return _goods_out(prize, (await catalog.titles_of(session, merchant_id, [prize.product_id])).get(prize.product_id,
                                                                                                      ""))


def _goods_out(prize: GoodsPrize, title: str) -> GoodsPrizeOut:
    return GoodsPrizeOut(id=prize.id, campaign_id=prize.campaign_id, product_id=prize.product_id, sku_id=prize.sku_id,
                         title=title, status=prize.status, order_id=prize.order_id, source_type=prize.source_type,
                         created_at=prize.created_at)


class GoodsPrizeOrders:
    """A goods prize becomes an ordinary order (`campaign: {kind: "prize", campaign_id, target_id: prize id}`, the
    prize's SKU alone, quantity 1): the line is priced to nothing by an adjustment, so delivery, stock, after-sale
    and refunds are the order's as usual; the order holds the prize by one guarded update, and gives it back if it is
    cancelled unpaid or refunded in full."""

    async def prepare(self, session: AsyncSession, runtime: Runtime, shopper: Shopper, choice: CampaignChoice,
                      lines: Sequence[dict[str, Any]]) -> CampaignPart:
        prize = await repository.goods_prize_of(session, shopper.merchant_id, choice.target_id or 0)
        if prize is None or prize.customer_id != shopper.customer_id or prize.campaign_id != choice.campaign_id:
            raise errors.goods_prize_not_found(choice.target_id or 0)
        if prize.status != "unclaimed":
            raise errors.goods_prize_taken(prize.status)
        if len(lines) != 1 or lines[0]["sku_id"] != prize.sku_id or lines[0]["quantity"] != 1:
            raise errors.wrong_goods(prize.sku_id)
        return CampaignPart(kind=GOODS_ORDER_KIND, campaign_id=prize.campaign_id, adjustments=[
            {"kind": "goods_prize", "name": "赠品", "source_id": prize.id,
             "amount_fen": -lines[0]["unit_price_fen"]}], context={"prize_id": prize.id,
                                                                  "customer_id": shopper.customer_id})

    async def placed(self, session: AsyncSession, clock: Clock, order_id: int, part: CampaignPart) -> None:
        if not await repository.hold_goods_prize(session, part.context["prize_id"], part.context["customer_id"],
                                                 order_id):
            raise errors.goods_prize_taken("ordered")

    async def paid(self, session: AsyncSession, runtime: Runtime, order: Order) -> None:
        await repository.redeem_goods_prizes(session, order.id)
        await orders.release_for_shipping(session, [order.id])

    async def released(self, session: AsyncSession, released_orders: Sequence[Order]) -> None:
        await repository.free_goods_prizes(session, [order.id for order in released_orders])

    async def balance_lapsed(self, session: AsyncSession, clock: Clock, lapsed: Sequence[Order]) -> None:
        """Goods prize orders take no deposit."""


GOODS_ORDERS = GoodsPrizeOrders()
