"""Gift vouchers (礼券赠送): bought with money through the normal order flow, sent to a friend by a one-time
link, redeemed once, online at checkout or in a store by staff scanning its code. DOMAIN.md § Gift vouchers;
COMPLIANCE P6.

Every change is one guarded statement on the voucher's status, so a voucher redeemed online and in a store at
the same moment is redeemed once. A sent voucher not claimed in time returns to the sender; a voucher that
expires unused is refunded to the buyer through the payment provider.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import errors as campaign_errors
from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns.giftcards import errors, repository
from fissionmall.campaigns.giftcards.models import Voucher
from fissionmall.campaigns.giftcards.schemas import GiftOut, GiftSettings, OfferOut, SentOut, VoucherOut
from fissionmall.campaigns.giftcards.states import USABLE, VoucherStatus
from fissionmall.campaigns.mechanic import Mechanic, Page
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.schemas import Finding
from fissionmall.campaigns.states import CampaignStatus
from fissionmall.catalog import service as catalog
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import InvalidInput, NotFound
from fissionmall.core.events import record_event
from fissionmall.core.money import yuan
from fissionmall.core.outbox import enqueue
from fissionmall.core.runtime import Runtime
from fissionmall.customers import service as customers
from fissionmall.merchants import service as merchants
from fissionmall.orders import refunds
from fissionmall.orders import service as orders
from fissionmall.orders.hooks import CampaignPart, VoucherChoice
from fissionmall.orders.models import Order
from fissionmall.orders.schemas import CampaignChoice
from fissionmall.orders.states import OrderStatus
from fissionmall.sharing.targets import PosterFacts, ShareTarget

KIND = "gift"
CHUNK = 1000
REFUND_JOB = "vouchers.refund_expired"


def settings_of(campaign: Campaign) -> GiftSettings:
    return GiftSettings.model_validate(campaign.settings)


def _new_code() -> str:
    """A 12-digit verification code (a collision hits the unique key and the request is retried)."""
    return f"{secrets.randbelow(10**12):012d}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _out(voucher: Voucher, viewer_id: int) -> VoucherOut:
    out = VoucherOut.model_validate(voucher, from_attributes=True)
    if voucher.holder_id != viewer_id or voucher.status not in USABLE:
        out.code = None
    return out


class GiftOrders:
    """Buying vouchers: the campaign's price per voucher, one voucher per unit, delivered on payment."""

    async def prepare(self, session: AsyncSession, runtime: Runtime, shopper: Shopper, choice: CampaignChoice,
                      lines: Sequence[dict[str, Any]]) -> CampaignPart:
        campaign = await campaigns.require(session, shopper.merchant_id, choice.campaign_id, kind=KIND)
        settings = settings_of(campaign)
        if len(lines) != 1 or lines[0]["sku_id"] != settings.sku_id:
            raise errors.wrong_item()
        quantity = lines[0]["quantity"]
        claims = await campaigns.claims(session, campaign, shopper.customer_id, quantity,
                                        settings.per_customer_limit, runtime)
        return CampaignPart(kind=KIND, campaign_id=campaign.id, adjustments=[
            {"kind": "gift_price", "name": "礼券价", "source_id": campaign.id,
             "amount_fen": (settings.price_fen - lines[0]["unit_price_fen"]) * quantity}],
            context={"quantity": quantity}, claims=claims)

    async def placed(self, session: AsyncSession, clock: Clock, order_id: int, part: CampaignPart) -> None:
        """Vouchers exist only once paid."""

    async def paid(self, session: AsyncSession, runtime: Runtime, order: Order) -> None:
        campaign = await campaigns.require(session, order.merchant_id, order.campaign_id or 0, kind=KIND)
        settings = settings_of(campaign)
        quantity = sum(item.quantity for item in await orders.items_of(session, order.id))
        now = runtime.clock.now()
        await repository.insert_vouchers(session, [
            dict(merchant_id=order.merchant_id, campaign_id=campaign.id, order_id=order.id,
                 buyer_id=order.customer_id, holder_id=order.customer_id, name=campaign.name,
                 product_id=settings.product_id, value_fen=settings.value_fen, price_fen=settings.price_fen,
                 code=_new_code(), status=VoucherStatus.ACTIVE, valid_until=now + timedelta(
                     days=settings.valid_days), created_at=now)
            for _ in range(quantity)])
        await orders.complete_on_payment(session, [order.id], now)

    async def released(self, session: AsyncSession, released_orders: Sequence[Order]) -> None:
        for order in released_orders:
            quantity = sum(item.quantity for item in await orders.items_of(session, order.id))
            await campaigns.unclaim(session, order.campaign_id or 0, order.customer_id, quantity)

    async def balance_lapsed(self, session: AsyncSession, clock: Clock, lapsed: Sequence[Order]) -> None:
        """Vouchers take no deposit."""


class CheckoutVouchers:
    """A voucher redeemed online: it takes one unit of its product off an order."""

    async def choice(self, session: AsyncSession, customer_id: int, voucher_id: int, now: datetime) -> VoucherChoice:
        voucher = await repository.voucher_of_holder(session, customer_id, voucher_id)
        if voucher is None or voucher.status != VoucherStatus.ACTIVE or voucher.valid_until <= now:
            raise InvalidInput("voucher_unavailable", "this voucher is not yours or cannot be used now",
                               field="voucher_id")
        return VoucherChoice(voucher_id=voucher.id, name=voucher.name, product_id=voucher.product_id,
                             value_fen=voucher.value_fen)

    async def lock(self, session: AsyncSession, customer_id: int, voucher_id: int, order_id: int,
                   now: datetime) -> None:
        if not await repository.move(session, voucher_id, VoucherStatus.LOCKED, Voucher.holder_id == customer_id,
                                     Voucher.valid_until > now, redeemed_order_id=order_id):
            raise errors.not_redeemable("taken meanwhile")

    async def paid(self, session: AsyncSession, order_id: int, at: datetime) -> None:
        await repository.redeem_for_order(session, order_id, at)

    async def released(self, session: AsyncSession, order_ids: Sequence[int]) -> None:
        """An order not kept gives its voucher back to the holder."""
        await repository.give_back(session, order_ids)


async def mine(session: AsyncSession, shopper: Shopper) -> list[VoucherOut]:
    return [_out(v, shopper.customer_id) for v in await repository.held_by(session, shopper.merchant_id,
                                                                            shopper.customer_id)]


async def send(session: AsyncSession, runtime: Runtime, shopper: Shopper, voucher_id: int) -> SentOut:
    """A one-time link for a friend; until claimed (or the deadline) the voucher is the sender's still."""
    voucher = await _require(session, shopper.merchant_id, voucher_id)
    if voucher.holder_id != shopper.customer_id:
        raise errors.voucher_not_found(voucher_id)
    campaign = await campaigns.require(session, shopper.merchant_id, voucher.campaign_id, kind=KIND)
    settings = settings_of(campaign)
    if settings.named:
        raise errors.named_not_transferable()
    now = runtime.clock.now()
    token = secrets.token_urlsafe(24)
    if not await repository.move(session, voucher.id, VoucherStatus.SENT,
                                 Voucher.holder_id == shopper.customer_id, Voucher.valid_until > now,
                                 claim_token_hash=_hash(token),
                                 claim_deadline=now + timedelta(days=settings.claim_days)):
        raise errors.not_sendable(voucher.status)
    await record_event(session, merchant_id=shopper.merchant_id, kind="voucher_sent", at=now,
                       actor_id=shopper.customer_id, campaign_id=voucher.campaign_id, subject=("voucher", voucher.id))
    await session.refresh(voucher)
    shop = await merchants.merchant_by_id(session, shopper.merchant_id)
    link = f"{runtime.settings.public_base_url}/m/{shop.slug}/vouchers/{voucher.id}/claim?token={token}"
    return SentOut(voucher=_out(voucher, shopper.customer_id), claim_link=link, token=token)


async def gift(session: AsyncSession, clock: Clock, merchant_id: int, voucher_id: int, token: str) -> GiftOut:
    """What an unspent claim link offers; a spent, lapsed or wrong link shows nothing of the voucher."""
    voucher = await _require(session, merchant_id, voucher_id)
    if voucher.status != VoucherStatus.SENT or voucher.claim_token_hash != _hash(token) \
            or voucher.claim_deadline is None or voucher.claim_deadline <= clock.now():
        raise errors.claim_refused()
    sender = await customers.get_customer(session, merchant_id, voucher.holder_id)
    return GiftOut(voucher_id=voucher.id, name=voucher.name, product_id=voucher.product_id,
                   value_fen=voucher.value_fen, sender_id=sender.id, sender_nickname=sender.nickname,
                   claim_deadline=voucher.claim_deadline, valid_until=voucher.valid_until)


async def offers(session: AsyncSession, clock: Clock, merchant_id: int) -> list[OfferOut]:
    """The gift vouchers on sale now."""
    return [_offer(c) for c in await campaigns.live_of_kind(session, merchant_id, KIND, clock)]


async def offer(session: AsyncSession, clock: Clock, merchant_id: int, campaign_id: int) -> OfferOut:
    """One gift voucher on sale (a campaign not live is not found)."""
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    campaigns.require_live(campaign, clock)
    return _offer(campaign)


async def page(session: AsyncSession, clock: Clock, merchant_id: int, campaign_id: int) -> dict[str, Any]:
    """A gift voucher on sale and its share landing: bought through checkout like any product, as the campaign's
    own SKU."""
    on_sale = await offer(session, clock, merchant_id, campaign_id)
    product = await catalog.product_detail(session, merchant_id, on_sale.product_id, shopper_view=False)
    return {"offer": on_sale, "product": product, "tab": "home"}


def _offer(campaign: Campaign) -> OfferOut:
    settings = settings_of(campaign)
    return OfferOut(campaign_id=campaign.id, name=campaign.name, product_id=settings.product_id,
                    sku_id=settings.sku_id, price_fen=settings.price_fen, value_fen=settings.value_fen,
                    named=settings.named, valid_days=settings.valid_days, claim_days=settings.claim_days,
                    per_customer_limit=settings.per_customer_limit, ends_at=campaign.ends_at)


async def claim(session: AsyncSession, clock: Clock, shopper: Shopper, voucher_id: int, token: str) -> VoucherOut:
    """The first friend with the link takes the voucher; the link is spent, and the voucher gets a new code, so
    the code the sender saw no longer redeems it."""
    voucher = await _require(session, shopper.merchant_id, voucher_id)
    sender = voucher.holder_id
    now = clock.now()
    if sender == shopper.customer_id or not await repository.move(
            session, voucher.id, VoucherStatus.ACTIVE, Voucher.status == VoucherStatus.SENT,
            Voucher.claim_token_hash == _hash(token), Voucher.claim_deadline > now,
            holder_id=shopper.customer_id, claim_token_hash=None, claim_deadline=None,
            code=_new_code()):
        raise errors.claim_refused()
    await record_event(session, merchant_id=shopper.merchant_id, kind="voucher_claimed", at=now,
                       actor_id=shopper.customer_id, inviter_id=sender, campaign_id=voucher.campaign_id,
                       subject=("voucher", voucher.id))
    await session.refresh(voucher)
    return _out(voucher, shopper.customer_id)


async def redeem_in_store(session: AsyncSession, clock: Clock, staff: StaffMember, code: str,
                          store_id: int) -> VoucherOut:
    """Staff scan or type the code; the redemption is attributed to the store."""
    await merchants.require_store(session, staff.merchant_id, store_id)
    now = clock.now()
    voucher = await repository.redeem_by_code(session, staff.merchant_id, code, now, redeemed_store_id=store_id,
                                              redeemed_by_staff=staff.staff_id)
    if voucher is None:
        found = await repository.by_code(session, staff.merchant_id, code)
        if found is None:
            raise errors.voucher_not_found(code)
        raise errors.not_redeemable(VoucherStatus.EXPIRED if found.status == VoucherStatus.ACTIVE else found.status)
    await record_event(session, merchant_id=staff.merchant_id, kind="voucher_redeemed", at=now,
                       actor_id=voucher.holder_id, campaign_id=voucher.campaign_id, subject=("voucher", voucher.id),
                       data={"store_id": store_id})
    return _out(voucher, voucher.holder_id)


async def _require(session: AsyncSession, merchant_id: int, voucher_id: int) -> Voucher:
    voucher = await repository.voucher_of(session, merchant_id, voucher_id)
    if voucher is None:
        raise errors.voucher_not_found(voucher_id)
    return voucher


async def return_unclaimed(session: AsyncSession, now: datetime) -> int:
    return await repository.return_unclaimed(session, now, CHUNK)


async def expire(session: AsyncSession, clock: Clock) -> int:
    """Vouchers past their validity: expired, and a refund to the buyer queued per order."""
    now = clock.now()
    orders = await repository.expire_due(session, now, CHUNK)
    for merchant_id, order_id in orders:
        await enqueue(session, REFUND_JOB, {"order_id": order_id}, now=now, merchant_id=merchant_id,
                      dedupe_key=f"{REFUND_JOB}:{order_id}:{now:%Y%m%d%H%M%S}")
    return len(orders)


async def refund_expired(session: AsyncSession, clock: Clock, order_id: int) -> None:
    """Refund an order's expired vouchers at the price paid, as far as money was paid (credit comes back with it,
    share by share). Retried (by raising) while the order is busy."""
    expired = await repository.expired_of_order(session, order_id)
    order = await orders.find_order(session, expired[0].merchant_id, order_id) if expired else None
    if order is None:
        return
    amount = min(sum(v.price_fen for v in expired), order.paid_fen - order.refund_reserved_fen)
    if amount > 0 and not await refunds.refund_for_campaign(session, clock, order_id, amount,
                                                           "礼券过期未使用，退款", when=OrderStatus.COMPLETED):
        raise RuntimeError(f"order {order_id} is busy; its expired vouchers are refunded on a retry")
    await repository.mark_refunded(session, [v.id for v in expired])


async def check(session: AsyncSession, merchant_id: int, settings: GiftSettings) -> list[Finding]:
    try:
        product = await catalog.require_product(session, merchant_id, settings.product_id)
    except NotFound:
        return [Finding(rule="G1", level="block", reason=f"product {settings.product_id} does not exist",
                        check="product_missing", facts={"product_id": settings.product_id or 0})]
    if settings.sku_id not in {sku.id for sku in product.skus}:
        return [Finding(rule="G1", level="block", reason=f"SKU {settings.sku_id} is not a SKU of product {product.id}",
                        check="sku_not_of_product", facts={"sku_id": settings.sku_id or 0, "product_id": product.id})]
    return []


async def _gift_target(session: AsyncSession, shopper: Shopper, campaign_id: int) -> int | None:
    """A gift-voucher campaign on sale can be shared by anyone; the voucher itself travels by its claim link."""
    campaign = await campaigns.require(session, shopper.merchant_id, campaign_id, kind=KIND)
    if campaign.status != CampaignStatus.ACTIVE:
        raise campaign_errors.campaign_not_found(campaign_id)
    return campaign.id


async def poster(session: AsyncSession, clock: Clock, merchant_id: int, campaign_id: int) -> PosterFacts:
    """A voucher for sale: its product, its price against its face value, and how it is given."""
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    settings = settings_of(campaign)
    product = await catalog.product_detail(session, merchant_id, settings.product_id, shopper_view=False)
    return PosterFacts(title=campaign.name, image_url=product.images[0] if product.images else None,
                       price_fen=settings.price_fen, list_price_fen=settings.value_fen, badge="礼券",
                       status=f"面值 ¥{yuan(settings.value_fen)}",
                       details=("买给好友，凭一次性链接领取，在线或到店兑换一次",
                                f"购买后 {settings.valid_days} 天内有效"),
                       tagline="长按识别二维码，送一份心意")


MECHANIC = Mechanic(
    kind=KIND, settings_model=GiftSettings, product_of=lambda s: s.product_id, check=check,
    summary=lambda s: {"price_fen": s.price_fen, "value_fen": s.value_fen},
    rules_text="买一张礼券送给好友，好友凭一次性链接领取，在线或到店兑换一次；到期未领取的退回给你或退款。不抽奖。",
    orders=GiftOrders(), vouchers=CheckoutVouchers(), share_target=ShareTarget(KIND, _gift_target, poster),
    page=Page("gifts", "gifts/voucher_offer.html", page), tasks="fissionmall.campaigns.giftcards.tasks")


# Reads the merchant console makes as the repository answers them (pages call domains through their services).
voucher_of = repository.voucher_of
store_redemptions = repository.store_redemptions
