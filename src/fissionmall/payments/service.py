"""Paying orders and applying provider notifications exactly once."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper
from fissionmall.core.errors import DomainError, InvalidInput, NotFound, Unauthorized
from fissionmall.core.metrics import NOTIFICATIONS
from fissionmall.core.payment_provider import (
    InvalidNotification,
    PaymentProvider,
    PrepayRequest,
    ProviderNotice,
    RefundRequest,
)
from fissionmall.core.runtime import Runtime
from fissionmall.customers import service as customers
from fissionmall.orders import errors as order_errors
from fissionmall.orders import refunds
from fissionmall.orders import rules as order_rules
from fissionmall.orders import service as orders
from fissionmall.payments import repository
from fissionmall.payments.models import Payment
from fissionmall.payments.providers.sandbox import SandboxProvider
from fissionmall.payments.schemas import PayOut
from fissionmall.payments.states import PaymentStatus

STAGE_NAMES = {"full": "", "deposit": " 定金", "balance": " 尾款"}


async def pay(session: AsyncSession, runtime: Runtime, shopper: Shopper, order_id: int) -> PayOut:
    """Open (or reopen) the payment of what is due now (the total, a deposit or the balance) and ask the
    provider for the client's parameters."""
    now = runtime.clock.now()
    order = await orders.start_payment(session, shopper, order_id, now)
    stage, amount = order_rules.payment_due(order.status, order.total_fen, order.paid_fen, order.deposit_fen)
    if amount == 0:
        if not await orders.mark_paid(session, runtime, order.id, 0, now):
            raise order_errors.order_changed()
        return PayOut(payment_id=None, provider="none", stage=stage, amount_fen=0, params={})
    provider = runtime.payment_provider
    payment = await repository.open_payment(
        session, merchant_id=order.merchant_id, order_id=order.id, stage=stage, provider=provider.name,
        out_trade_no=order_rules.trade_no(order.order_no, stage), amount_fen=amount,
        status=PaymentStatus.PENDING, created_at=now)
    customer = await customers.get_customer(session, order.merchant_id, order.customer_id)
    params = await provider.prepay(PrepayRequest(
        out_trade_no=payment.out_trade_no, amount_fen=payment.amount_fen,
        description=f"订单 {order.order_no}{STAGE_NAMES[stage]}",
        payer_openid=customer.openid, expires_at_iso=(order.due_at or now).isoformat()))
    return PayOut(payment_id=payment.id, provider=provider.name, stage=stage, amount_fen=payment.amount_fen,
                  params=params)


async def sandbox_payment(session: AsyncSession, providers: Mapping[str, PaymentProvider], shopper: Shopper,
                          payment_id: int) -> tuple[SandboxProvider, Payment]:
    """A sandbox payment of the shopper's own order, on a server whose provider is the sandbox (404 otherwise)."""
    sandbox = providers.get("sandbox")
    payment = await repository.payment_of(session, shopper.merchant_id, payment_id)
    order = payment and await orders.find_order(session, shopper.merchant_id, payment.order_id,
                                                customer_id=shopper.customer_id)
    if not isinstance(sandbox, SandboxProvider) or payment is None or payment.provider != "sandbox" or order is None:
        raise NotFound("payment_not_found", f"no sandbox payment {payment_id}")
    return sandbox, payment


async def sandbox_complete(session: AsyncSession, providers: Mapping[str, PaymentProvider], shopper: Shopper,
                           payment_id: int) -> None:
    """The shopper confirms a sandbox payment; its notification is delivered by the worker."""
    sandbox, payment = await sandbox_payment(session, providers, shopper, payment_id)
    await sandbox.complete_payment(session, payment.out_trade_no, payment.amount_fen)


async def receive_notification(session: AsyncSession, runtime: Runtime, provider: str, headers: Mapping[str, str],
                               body: bytes) -> str:
    """A provider's callback: verified on the raw body, applied once, counted by outcome; what it did is returned
    ("applied", "duplicate", "ignored"). 404 for a provider this server lacks, 401 for a body that fails its
    signature."""
    handler = runtime.providers.get(provider)
    if handler is None:
        raise NotFound("unknown_provider", f"no payment provider {provider!r} on this server")
    try:
        notice = handler.parse_notification(headers, body)
    except InvalidNotification as exc:
        runtime.log.warning("notification_rejected", provider=provider, reason=exc.reason)
        NOTIFICATIONS.labels(provider, "rejected").inc()
        raise Unauthorized("invalid_notification", f"notification rejected: {exc.reason}") from None
    try:
        outcome = await apply_notice(session, runtime, provider, notice)
    except DomainError:
        NOTIFICATIONS.labels(provider, "refused").inc()
        raise
    NOTIFICATIONS.labels(provider, outcome).inc()
    return outcome


async def apply_notice(session: AsyncSession, runtime: Runtime, provider: str, notice: ProviderNotice) -> str:
    """Apply a verified notification once: the inbox's unique key absorbs every repeat. The inbox row is one merchant's,
    the merchant of the payment or refund whose number the notification carries (one statement finds and records)."""
    now = runtime.clock.now()
    if not notice.succeeded:
        return "ignored"
    if notice.kind == "refund":
        if notice.out_refund_no is None:
            raise InvalidInput("invalid_notification", "refund notification without out_refund_no")
        first = await repository.record_notification(session, provider, notice.event_id, notice.kind,
                                                     notice.out_refund_no, now)
        if first is not None and await refunds.refund_succeeded(session, notice.out_refund_no, notice.amount_fen,
                                                                now):
            return "applied"
        if not await refunds.refund_known(session, notice.out_refund_no):
            raise InvalidInput("refund_mismatch", "no refund with this number")
        return "duplicate"
    merchant_id = await repository.record_notification(session, provider, notice.event_id, notice.kind,
                                                       notice.out_trade_no, now)
    settled = None if merchant_id is None else await repository.settle_payment(
        session, merchant_id, notice.out_trade_no, notice.amount_fen, notice.transaction_id, now)
    if settled is None:
        payment = await repository.payment_by_trade_no(session, notice.out_trade_no)
        if payment is None or payment.amount_fen != notice.amount_fen:
            raise InvalidInput("payment_mismatch", "no pending payment with this number and amount")
        return "duplicate"
    order_id, stage = settled
    if not await orders.mark_paid(session, runtime, order_id, notice.amount_fen, now, stage):
        await refunds.refund_late_payment(session, order_id, notice.amount_fen, stage, now)
    return "applied"


async def refund_request(session: AsyncSession, providers: Mapping[str, PaymentProvider],
                         refund_id: int) -> tuple[PaymentProvider, RefundRequest]:
    """What the provider that took the payment needs to refund it (read before any network call)."""
    out_trade_no, amount, refund_no, reason = await refunds.refund_details(session, refund_id)
    payment = await repository.payment_by_trade_no(session, out_trade_no)
    if payment is None:
        raise LookupError(f"refund {refund_no}: no payment {out_trade_no}")
    provider = providers[payment.provider]
    return provider, RefundRequest(out_trade_no=payment.out_trade_no, out_refund_no=refund_no, refund_fen=amount,
                                   total_fen=payment.amount_fen, reason=reason)


async def payments_of_order(session: AsyncSession, merchant_id: int, order_id: int) -> list[Payment]:
    """An order's payments (one per stage: full, or deposit then balance), for the merchant's order page."""
    return await repository.payments_of_order(session, merchant_id, order_id)
