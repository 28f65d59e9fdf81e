"""Every table, imported in one place so the metadata (and Alembic) sees the whole schema."""

from fissionmall.campaigns.groupbuy.models import BuyingGroup, GroupOrder
from fissionmall.campaigns.models import Campaign, CampaignQuota
from fissionmall.campaigns.sharing.models import Share
from fissionmall.catalog.models import Category, Product, ProductImage, Sku
from fissionmall.core.events import Event
from fissionmall.core.idempotency import IdempotencyKey
from fissionmall.core.outbox import OutboxJob
from fissionmall.customers.models import Customer
from fissionmall.db.base import Base
from fissionmall.merchants.models import Merchant, Staff, Store
from fissionmall.orders.models import Order, OrderAdjustment, OrderItem, Refund
from fissionmall.payments.models import NotificationInbox, Payment, SandboxRefund

__all__ = [
    "Base",
    "BuyingGroup",
    "Campaign",
    "CampaignQuota",
    "GroupOrder",
    "Category",
    "Customer",
    "Event",
    "IdempotencyKey",
    "Merchant",
    "NotificationInbox",
    "Order",
    "OrderAdjustment",
    "OrderItem",
    "OutboxJob",
    "Payment",
    "Product",
    "ProductImage",
    "Refund",
    "SandboxRefund",
    "Share",
    "Sku",
    "Staff",
    "Store",
]
