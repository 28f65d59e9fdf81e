"""Campaign analytics: the incremental tables folded from the event log

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-20 10:00:00

Per campaign and share link per hour: shares, clicks, acts, orders, money and new customers; the people of a
campaign (first share, first click); the orders a campaign brought; its cascade tree; and the watermark: the last
event folded in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.db.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = fissionmall.db.base.UtcDateTime(timezone=True)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "analytics_watermarks",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_watermarks")))
    measures = ["shares", "sharers", "clicks", "unique_clickers", "acts", "orders"]
    money = ["paid_fen", "refunded_fen"]
    op.create_table(
        "analytics_hourly",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("share_id", ID, nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        *[sa.Column(m, sa.Integer(), nullable=False) for m in measures],
        *[sa.Column(m, sa.BigInteger(), nullable=False) for m in money],
        sa.Column("new_customers", sa.Integer(), nullable=False),
        sa.Column("signups", sa.Integer(), nullable=False),
        sa.Column("cost_fen", sa.BigInteger(), nullable=False),
        _id(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_hourly")),
        sa.UniqueConstraint("merchant_id", "campaign_id", "share_id", "hour",
                            name=op.f("uq_analytics_hourly_merchant_id_campaign_id_share_id_hour")))
    op.create_table(
        "analytics_people",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("first_share_event", sa.BigInteger(), nullable=True),
        sa.Column("first_shared_at", WHEN, nullable=True),
        sa.Column("first_click_event", sa.BigInteger(), nullable=True),
        _id(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_people")),
        sa.UniqueConstraint("merchant_id", "campaign_id", "customer_id",
                            name=op.f("uq_analytics_people_merchant_id_campaign_id_customer_id")))
    op.create_table(
        "analytics_share_clickers",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("share_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("first_event", sa.BigInteger(), nullable=False),
        _id(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_share_clickers")),
        sa.UniqueConstraint("merchant_id", "share_id", "customer_id",
                            name=op.f("uq_analytics_share_clickers_merchant_id_share_id_customer_id")))
    op.create_table(
        "analytics_orders",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("share_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("discount_fen", sa.BigInteger(), nullable=False),
        _id(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_orders")),
        sa.UniqueConstraint("merchant_id", "order_id", name=op.f("uq_analytics_orders_merchant_id_order_id")))
    op.create_table(
        "analytics_edges",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("parent_id", ID, nullable=False),
        sa.Column("child_id", ID, nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("first_act_at", WHEN, nullable=False),
        sa.Column("first_event", sa.BigInteger(), nullable=False),
        sa.Column("cycle_seconds", sa.Integer(), nullable=True),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("is_new", sa.Boolean(), nullable=False),
        _id(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_edges")),
        sa.UniqueConstraint("merchant_id", "campaign_id", "child_id",
                            name=op.f("uq_analytics_edges_merchant_id_campaign_id_child_id")))
    with op.batch_alter_table("analytics_edges", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_edges_parent", ["merchant_id", "campaign_id", "parent_id"], unique=False)
        batch_op.create_index("ix_analytics_edges_cycle", ["merchant_id", "campaign_id", "cycle_seconds"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("analytics_edges", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_edges_cycle")
        batch_op.drop_index("ix_analytics_edges_parent")
    for name in ("analytics_edges", "analytics_orders", "analytics_share_clickers", "analytics_people",
                 "analytics_hourly", "analytics_watermarks"):
        op.drop_table(name)
