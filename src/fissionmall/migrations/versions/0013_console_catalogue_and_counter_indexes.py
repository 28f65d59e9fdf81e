"""Indexes the console's catalogue and store counter read

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00

The catalogue filters a merchant's products by category, newest first; the store counter lists the vouchers
redeemed at the merchant's stores, latest first: each is one range scan of a merchant's rows.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_products_merchant_category_id", "products", ["merchant_id", "category_id", "id"])
    op.create_index("ix_vouchers_merchant_redeemed", "vouchers", ["merchant_id", "redeemed_at"])


def downgrade() -> None:
    op.drop_index("ix_vouchers_merchant_redeemed", table_name="vouchers")
    op.drop_index("ix_products_merchant_category_id", table_name="products")
