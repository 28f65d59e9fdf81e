"""Groups (拼团的团) and the orders that take part in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, PrimaryKeyConstraint, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class BuyingGroup(TenantIdMixin, Base):
    """A group is open from its leader's payment until it fills (succeeded) or its time runs out."""

    __tablename__ = "buying_groups"
    __table_args__ = (
        *tenant_key(referenced=True),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("leader_id", "customers"),
        CheckConstraint("paid_count >= 0 AND paid_count <= size", name="seats"),
        CheckConstraint("status IN ('open', 'succeeded', 'failed')", name="status"),
        Index("ix_buying_groups_status_expires", "status", "expires_at"),
        Index("ix_buying_groups_campaign_status", "campaign_id", "status"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    leader_id: Mapped[int] = mapped_column(Id)
    size: Mapped[int]
    paid_count: Mapped[int]
    """Paid members. Raised only by `UPDATE … WHERE paid_count < size`: the statement that fills the last
    seat is the one that decides success."""
    status: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class GroupOrder(Base):
    """An order bought through a group campaign: its role, and its seat once paid."""

    __tablename__ = "group_orders"
    __table_args__ = (
        PrimaryKeyConstraint("order_id", "merchant_id"),
        same_merchant("order_id", "orders"),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("group_id", "buying_groups"),
        Index("uq_group_orders_one_active_per_customer", "group_id", "customer_id", "merchant_id", unique=True,
              sqlite_where=text("active AND group_id IS NOT NULL"),
              postgresql_where=text("active AND group_id IS NOT NULL")),
        Index("ix_group_orders_group_seat", "group_id", "seat_no"),
        CheckConstraint("payment IN ('deposit', 'full')", name="payment"),
    )

    __mapper_args__ = {"primary_key": ["order_id"]}

    order_id: Mapped[int] = mapped_column(Id)
    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    group_id: Mapped[int | None] = mapped_column(Id)
    """The group joined; for a leader, the group their payment opened (None until then)."""
    customer_id: Mapped[int] = mapped_column(Id)
    is_leader: Mapped[bool]
    unit_price_fen: Mapped[int]
    quantity: Mapped[int]
    payment: Mapped[str] = mapped_column(String(7), server_default="full")
    """How the order pays, as placed: "deposit" now and the balance after success, or "full" at once (the
    shopper's choice where the campaign offers both)."""
    seat_no: Mapped[int | None]
    """Set when the payment took a seat."""
    active: Mapped[bool] = mapped_column(default=True)
    """False once the order was cancelled or refunded: the customer may join again."""
