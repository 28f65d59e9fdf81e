"""Indexes the console's distribution lists read

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 10:00:00

The console lists a merchant's distributors, commission entries and withdrawals newest first, a page at a time
(keyset by id), optionally by status: each list is one range scan of (merchant_id[, status], id).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_distributors_merchant_id", "distributors", ["merchant_id", "id"])
    op.create_index("ix_distributors_merchant_status", "distributors", ["merchant_id", "status", "id"])
    op.drop_index("ix_commission_entries_merchant", table_name="commission_entries")
    op.create_index("ix_commission_entries_merchant_id", "commission_entries", ["merchant_id", "id"])
    op.create_index("ix_commission_entries_merchant_status_id", "commission_entries", ["merchant_id", "status", "id"])
    op.drop_index("ix_withdrawals_merchant_status", table_name="withdrawals")
    op.create_index("ix_withdrawals_merchant_status", "withdrawals", ["merchant_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_withdrawals_merchant_status", table_name="withdrawals")
    op.create_index("ix_withdrawals_merchant_status", "withdrawals", ["merchant_id", "status"])
    op.drop_index("ix_commission_entries_merchant_status_id", table_name="commission_entries")
    op.drop_index("ix_commission_entries_merchant_id", table_name="commission_entries")
    op.create_index("ix_commission_entries_merchant", "commission_entries", ["merchant_id"])
    op.drop_index("ix_distributors_merchant_status", table_name="distributors")
    op.drop_index("ix_distributors_merchant_id", table_name="distributors")
