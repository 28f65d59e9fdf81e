"""Indexes the console's lists inside a campaign read

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 10:00:00

The console lists a campaign's bargains and packets, newest first, optionally of one status: each is one range scan
of (campaign_id, status, id). Groups already have (campaign_id, status).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_bargains_campaign_status_id", "bargains", ["campaign_id", "status", "id"])
    op.create_index("ix_assist_packets_campaign_status_id", "assist_packets", ["campaign_id", "status", "id"])
    op.create_index("ix_coupon_packets_campaign_status_id", "coupon_packets", ["campaign_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_coupon_packets_campaign_status_id", table_name="coupon_packets")
    op.drop_index("ix_assist_packets_campaign_status_id", table_name="assist_packets")
    op.drop_index("ix_bargains_campaign_status_id", table_name="bargains")
