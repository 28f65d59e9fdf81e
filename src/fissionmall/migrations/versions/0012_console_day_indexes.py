"""Indexes the console's day counts read

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:00:00

The dashboard counts paid orders, refunds and new customers by day for the last 30 days: each is one range scan of
a merchant's rows by time.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_merchant_paid", "orders", ["merchant_id", "paid_at"])
    op.create_index("ix_refunds_merchant_succeeded", "refunds", ["merchant_id", "succeeded_at"])
    op.create_index("ix_customers_merchant_created", "customers", ["merchant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_customers_merchant_created", table_name="customers")
    op.drop_index("ix_refunds_merchant_succeeded", table_name="refunds")
    op.drop_index("ix_orders_merchant_paid", table_name="orders")
