"""Address book and official account credentials

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 13:57:06.539612

The shoppers" saved addresses, and the official account (公众号) credentials the shopper pages sign in with inside
WeChat (snsapi_base web authorization).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_addresses",
        sa.Column("merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
            name=op.f("fk_customer_addresses_customer_id_customers")),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"],
            name=op.f("fk_customer_addresses_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_addresses"))
    )
    with op.batch_alter_table("customer_addresses", schema=None) as batch_op:
        batch_op.create_index("ix_customer_addresses_customer", ["merchant_id", "customer_id"], unique=False)

    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wechat_oa_appid", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("wechat_oa_secret", sa.String(length=80), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_column("wechat_oa_secret")
        batch_op.drop_column("wechat_oa_appid")

    with op.batch_alter_table("customer_addresses", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_addresses_customer")

    op.drop_table("customer_addresses")
