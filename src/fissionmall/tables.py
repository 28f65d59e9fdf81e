"""Every table, imported in one place so the metadata (and Alembic) sees the whole schema: above every domain, since
it names them all; and where each table goes when the schema is sharded by merchant on Citus (docs/scaling.md)."""

from fissionmall.analytics.models import (
    AnalyticsWatermark,
    CampaignDepth,
    CampaignHour,
    CampaignOrder,
    CampaignPerson,
    CascadeEdge,
    CycleBucket,
    ShareClicker,
)
from fissionmall.campaigns.assist.models import AssistPacket
from fissionmall.campaigns.bargain.models import Bargain
from fissionmall.campaigns.giftcards.models import Voucher
from fissionmall.campaigns.groupbuy.models import BuyingGroup, GroupOrder
from fissionmall.campaigns.helping.models import GoodsPrize, Help
from fissionmall.campaigns.invites.models import InviteReward
from fissionmall.campaigns.models import Campaign, CampaignProduct, CampaignQuota
from fissionmall.campaigns.packets.models import CouponPacket
from fissionmall.campaigns.slots import PrizeSlot
from fissionmall.catalog.models import Category, Product, ProductImage, Sku
from fissionmall.community.models import (
    CommunitySettings,
    ContentReport,
    Follow,
    ModerationTicket,
    Post,
    PostComment,
    PostLike,
    Review,
)
from fissionmall.core.counters import Counter
from fissionmall.core.events import Event
from fissionmall.core.idempotency import IdempotencyKey
from fissionmall.core.outbox import OutboxJob
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.customers.models import Customer
from fissionmall.db.base import Base
from fissionmall.distribution.models import CommissionEntry, DistributionConfig, Distributor, Payee, Withdrawal
from fissionmall.logistics.models import SandboxParcel, ShipmentEvent, ShipmentTrack
from fissionmall.loyalty.dividend.models import DividendPlan, DividendRun, DividendShare
from fissionmall.loyalty.levels.models import LevelPlan, MemberLevel
from fissionmall.loyalty.points.models import PointsBalance, PointsConfig, PointsEntry
from fissionmall.loyalty.tasks.models import LoyaltyTask, TaskHit, TaskProgress
from fissionmall.merchants.models import AuditEntry, LoginFailure, Merchant, Staff, Store
from fissionmall.orders.models import Order, OrderAdjustment, OrderItem, Refund
from fissionmall.payments.models import NotificationInbox, Payment, SandboxRefund, SandboxTransfer
from fissionmall.recommend.models import CoPurchase, Friend, Neighbour, ProductBuyers, Purchase, RecommendWatermark
from fissionmall.sharing.models import Share
from fissionmall.simulation.models import CampaignForecast
from fissionmall.wallet.models import Wallet, WalletEntry

__all__ = [
    "AnalyticsWatermark",
    "CampaignDepth",
    "CampaignForecast",
    "CampaignHour",
    "CampaignOrder",
    "CampaignPerson",
    "CascadeEdge",
    "CycleBucket",
    "ShareClicker",
    "AssistPacket",
    "AuditEntry",
    "Bargain",
    "Base",
    "BuyingGroup",
    "Campaign",
    "CampaignProduct",
    "CampaignQuota",
    "Category",
    "CommissionEntry",
    "Counter",
    "Coupon",
    "CouponPacket",
    "CouponTemplate",
    "Customer",
    "DistributionConfig",
    "Distributor",
    "DividendPlan",
    "DividendRun",
    "DividendShare",
    "Event",
    "GroupOrder",
    "Help",
    "GoodsPrize",
    "IdempotencyKey",
    "InviteReward",
    "LevelPlan",
    "LoginFailure",
    "LoyaltyTask",
    "MemberLevel",
    "Merchant",
    "NotificationInbox",
    "Order",
    "OrderAdjustment",
    "OrderItem",
    "OutboxJob",
    "Payee",
    "Payment",
    "PointsBalance",
    "PointsConfig",
    "PointsEntry",
    "PrizeSlot",
    "Product",
    "ProductImage",
    "Refund",
    "Review",
    "SandboxRefund",
    "SandboxTransfer",
    "Share",
    "Sku",
    "Staff",
    "Store",
    "TaskHit",
    "TaskProgress",
    "Voucher",
    "Wallet",
    "WalletEntry",
    "Withdrawal",
    "SandboxParcel",
    "ShipmentEvent",
    "ShipmentTrack",
    "CoPurchase",
    "Friend",
    "Neighbour",
    "ProductBuyers",
    "Purchase",
    "RecommendWatermark",
    "CommunitySettings",
    "ContentReport",
    "Follow",
    "ModerationTicket",
    "Post",
    "PostComment",
    "PostLike",
]

REFERENCE_TABLES = {
    "merchants": "every tenant row names its merchant (a foreign key on every shard); few rows, read by most requests",
    "analytics_watermarks": "how far the event log is folded: one row per fold, over every merchant's events",
    "recommend_watermarks": "how far the recommender has read the event log, over every merchant's events",
}
"""Tables a Citus cluster copies whole to every node: platform-wide, small, referenced from any shard."""
LOCAL_TABLES = {
    "sandbox_refunds": "the sandbox payment provider's own books, a stand-in for the provider's systems",
    "sandbox_transfers": "the sandbox payment provider's own books, a stand-in for the provider's systems",
    "sandbox_parcels": "the sandbox logistics provider's own books, a stand-in for the provider's systems",
    "alembic_version": "the schema's migration version, kept by Alembic",
}
"""Tables left on the coordinator alone: no tenant row refers to them, nor they to one."""
COLOCATION_ANCHOR = "customers"
"""Every other table is a tenant table, distributed by merchant_id and co-located with this one, so that a merchant's
rows of all of them sit on one node and every foreign key between them stays on it."""


def citus_placement() -> list[str]:
    """The calls that place the schema on Citus, in an order it accepts: reference tables first, then the tenant
    tables, each after the tables its foreign keys point at."""
    tenant = [t.name for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES | LOCAL_TABLES]
    tenant.remove(COLOCATION_ANCHOR)
    return ([f"SELECT create_reference_table('{name}');" for name in REFERENCE_TABLES]
            + [f"SELECT create_distributed_table('{COLOCATION_ANCHOR}', 'merchant_id');"]
            + [f"SELECT create_distributed_table('{name}', 'merchant_id', colocate_with => '{COLOCATION_ANCHOR}');"
               for name in tenant])

