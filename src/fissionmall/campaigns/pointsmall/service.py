"""The points mall (积分商城): goods or coupons for points (and, for goods, optionally some cash).

An item is a campaign of kind "points_mall": its stock cap is the item's stock and its per-customer limit the
quota, both claimed by the same guarded statements as every campaign, and points are taken by the guarded balance
update, all in the request's one transaction, so a customer racing others for the last item either gets it and
pays the points, or gets neither. Goods become an ordinary order (delivery, after-sale and refunds as usual, points
given back with a refund by its share); coupons are issued at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns.mechanic import Mechanic
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.pointsmall.schemas import MallItemOut, PointsMallSettings, RedeemOut
from fissionmall.campaigns.schemas import Finding
from fissionmall.catalog import service as catalog
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.errors import InvalidInput, NotFound
from fissionmall.core.runtime import Runtime
from fissionmall.coupons import errors as coupon_errors
from fissionmall.coupons import service as coupons
from fissionmall.loyalty.points import service as points
from fissionmall.orders import service as orders
from fissionmall.orders.hooks import CampaignPart
from fissionmall.orders.models import Order
from fissionmall.orders.schemas import CampaignChoice

KIND = "points_mall"


def settings_of(campaign: Campaign) -> PointsMallSettings:
    return PointsMallSettings.model_validate(campaign.settings)


class PointsMallOrders:
    """Goods for points: the line is priced at the item's cash part, and its points are taken once the order
    exists (so they are given back as any order's points are)."""

    async def prepare(self, session: AsyncSession, runtime: Runtime, shopper: Shopper, choice: CampaignChoice,
                      lines: Sequence[dict[str, Any]]) -> CampaignPart:
        campaign = await campaigns.require(session, shopper.merchant_id, choice.campaign_id, kind=KIND)
        settings = settings_of(campaign)
        if settings.reward != "goods" or len(lines) != 1 or lines[0]["sku_id"] != settings.sku_id \
                or lines[0]["quantity"] != 1:
            raise InvalidInput("wrong_item", "this item is redeemed one at a time, as its own SKU, alone",
                               field="items")
        claims = await campaigns.claims(session, campaign, shopper.customer_id, 1, settings.per_customer_limit,
                                        runtime)
        return CampaignPart(kind=KIND, campaign_id=campaign.id, adjustments=[
            {"kind": "points_price", "name": "积分兑换", "source_id": campaign.id,
             "amount_fen": settings.cash_fen - lines[0]["unit_price_fen"]}],
            context={"points": settings.points, "merchant_id": shopper.merchant_id,
                     "customer_id": shopper.customer_id}, claims=claims)

    async def placed(self, session: AsyncSession, clock: Clock, order_id: int, part: CampaignPart) -> None:
        if await points.spent_on(session, order_id):
            raise InvalidInput("points_not_with_points_mall", "an item of the points mall is paid with its own "
                               "points only", field="points")
        await points.spend(session, part.context["merchant_id"], part.context["customer_id"], part.context["points"],
                           ("order", order_id), clock.now())

    async def paid(self, session: AsyncSession, runtime: Runtime, order: Order) -> None:
        await orders.release_for_shipping(session, [order.id])

    async def released(self, session: AsyncSession, released_orders: Sequence[Order]) -> None:
        for order in released_orders:
            quantity = sum(item.quantity for item in await orders.items_of(session, order.id))
            await campaigns.unclaim(session, order.campaign_id or 0, order.customer_id, quantity)

    async def balance_lapsed(self, session: AsyncSession, clock: Clock, lapsed: Sequence[Order]) -> None:
        """Points mall orders take no deposit."""


async def items(session: AsyncSession, clock: Clock, merchant_id: int) -> list[MallItemOut]:
    return [MallItemOut(campaign_id=c.id, name=c.name, reward=s.reward, points=s.points, cash_fen=s.cash_fen,
                        product_id=s.product_id, stock_left=None if c.stock_cap is None else c.stock_cap - c.sold,
                        per_customer_limit=s.per_customer_limit)
            for c in await campaigns.live_of_kind(session, merchant_id, KIND, clock)
            for s in [settings_of(c)]]


async def reward_of(session: AsyncSession, merchant_id: int, campaign_id: int) -> tuple[Campaign, PointsMallSettings]:
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    return campaign, settings_of(campaign)


async def redeem_coupon(session: AsyncSession, runtime: Runtime, shopper: Shopper, campaign: Campaign,
                        settings: PointsMallSettings) -> RedeemOut:
    """A coupon bought with points, issued at once (goods are an order: checkout places it)."""
    assert settings.coupon_template_id is not None
    claims = await campaigns.claims(session, campaign, shopper.customer_id, 1, settings.per_customer_limit, runtime)
    now = runtime.clock.now()
    template = await coupons.require_template(session, shopper.merchant_id, settings.coupon_template_id)
    coupons.require_issuable(template, now)
    issued = await coupons.issue(session, template, [shopper.customer_id], now, ("points_mall", campaign.id))
    if not issued:
        raise coupon_errors.coupons_gone()
    await points.spend(session, shopper.merchant_id, shopper.customer_id, settings.points, ("coupon", issued[0]), now)
    redeemed = RedeemOut(coupon=await coupons.coupon(session, issued[0]))
    await claims.apply(session)
    return redeemed


async def check(session: AsyncSession, merchant_id: int, settings: PointsMallSettings) -> list[Finding]:
    if await points.config_of(session, merchant_id) is None:
        return [Finding(rule="PM1", level="block", reason="this mall has no points: set up points first",
                        check="no_points")]
    if settings.reward == "coupon":
        try:
            await coupons.require_template(session, merchant_id, settings.coupon_template_id or 0)
        except NotFound:
            return [Finding(rule="PM2", level="block", reason=f"coupon template {settings.coupon_template_id} "
                                                                  "does not exist",
                            check="coupon_missing", facts={"template_id": settings.coupon_template_id or 0})]
        return []
    try:
        product = await catalog.require_product(session, merchant_id, settings.product_id or 0)
    except NotFound:
        return [Finding(rule="G1", level="block", reason=f"product {settings.product_id} does not exist",
                        check="product_missing", facts={"product_id": settings.product_id or 0})]
    sku = next((sku for sku in product.skus if sku.id == settings.sku_id), None)
    if sku is None:
        return [Finding(rule="G1", level="block", reason=f"SKU {settings.sku_id} is not a SKU of product {product.id}",
                        check="sku_not_of_product", facts={"sku_id": settings.sku_id or 0, "product_id": product.id})]
    if settings.cash_fen >= sku.price_fen:
        return [Finding(rule="PM3", level="block", reason="the cash part must be below the SKU's price, or the "
                                                          "points buy nothing",
                        check="cash_not_below_price",
                        facts={"cash_fen": settings.cash_fen, "price_fen": sku.price_fen})]
    return []


MECHANIC = Mechanic(
    kind=KIND, settings_model=PointsMallSettings, product_of=lambda s: s.product_id, check=check,
    summary=lambda s: {"points": s.points, "cash_fen": s.cash_fen},
    rules_text="用积分（商品可加现金）兑换商品或优惠券，库存和每人限兑数量写在活动页；兑换即扣积分，订单退款时按比例退回。不抽奖。",
    orders=PointsMallOrders())
