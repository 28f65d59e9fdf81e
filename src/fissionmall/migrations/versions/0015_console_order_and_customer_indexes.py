"""Indexes the console's order and customer lists read

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00

The orders page lists a merchant's orders newest first, by status tab or all of them, and narrows them by the day
they were placed; the customer page lists whom a customer brought and counts their whole subtree (a recursive walk
down inviter_id). Each is one index range scan per step at 100,000 orders and customers.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_merchant_id", "orders", ["merchant_id", "id"])
    op.create_index("ix_orders_merchant_status", "orders", ["merchant_id", "status", "id"])
    op.create_index("ix_orders_merchant_created", "orders", ["merchant_id", "created_at"])
    op.create_index("ix_customers_merchant_inviter", "customers", ["merchant_id", "inviter_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_customers_merchant_inviter", table_name="customers")
    op.drop_index("ix_orders_merchant_created", table_name="orders")
    op.drop_index("ix_orders_merchant_status", table_name="orders")
    op.drop_index("ix_orders_merchant_id", table_name="orders")
