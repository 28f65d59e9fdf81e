"""Prizes beyond credit: assist ladders (越拆越多), coupon and goods prizes, helper gifts

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:30:00

An assist packet records which of its owner's opened packets it was (`rank`) and, when its prize was a coupon or
goods, what it was (`gift_kind`, `gift_ref`, `gift_name`). `goods_prizes` holds each SKU a campaign gave free (a
prize or a helper's gift), once per source, until an order at no price holds it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.db.base

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("assist_packets") as batch:
        batch.add_column(sa.Column("rank", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("gift_kind", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("gift_ref", ID, nullable=True))
        batch.add_column(sa.Column("gift_name", sa.String(length=100), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "goods_prizes",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("sku_id", ID, nullable=False),
        sa.Column("source_type", sa.String(length=20), nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("order_id", ID, nullable=True),
        sa.Column("created_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint("status IN ('unclaimed', 'ordered', 'redeemed')", name=op.f("ck_goods_prizes_status")),
        sa.CheckConstraint("(status = 'unclaimed') = (order_id IS NULL)",
                           name=op.f("ck_goods_prizes_order_when_ordered")),
        sa.ForeignKeyConstraint(["campaign_id", "merchant_id"], ["campaigns.id", "campaigns.merchant_id"],
                                name=op.f("fk_goods_prizes_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["customer_id", "merchant_id"], ["customers.id", "customers.merchant_id"],
                                name=op.f("fk_goods_prizes_customer_id_customers")),
        sa.PrimaryKeyConstraint(*(("id",) if sqlite else ("id", "merchant_id")), name=op.f("pk_goods_prizes")),
        sa.UniqueConstraint("source_type", "source_id", "merchant_id",
                            name=op.f("uq_goods_prizes_source_type_source_id_merchant_id")),
    )
    op.create_index("ix_goods_prizes_customer", "goods_prizes", ["customer_id", "status"])
    op.create_index("ix_goods_prizes_order", "goods_prizes", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_goods_prizes_order", table_name="goods_prizes")
    op.drop_index("ix_goods_prizes_customer", table_name="goods_prizes")
    op.drop_table("goods_prizes")
    with op.batch_alter_table("assist_packets") as batch:
        for column in ("gift_name", "gift_ref", "gift_kind", "rank"):
            batch.drop_column(column)
