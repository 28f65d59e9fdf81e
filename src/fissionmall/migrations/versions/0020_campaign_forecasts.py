"""Campaign forecasts: the simulator's answer kept per campaign, to compare with what happened after launch

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-22 10:00:00

One row per campaign (made while it is a draft or paused; replaced until it goes live): who made it and when, the
simulator's inputs and its whole answer as JSON. The campaign analytics page draws the answer's cumulative new
customers by day against the ones counted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fissionmall.db.base

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "campaign_forecasts",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("made_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("made_by", ID, nullable=False),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("answer", JSON, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_forecasts_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["made_by"], ["staff.id"], name=op.f("fk_campaign_forecasts_made_by_staff")),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"],
                                name=op.f("fk_campaign_forecasts_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_forecasts")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_campaign_forecasts_campaign_id")),
    )


def downgrade() -> None:
    op.drop_table("campaign_forecasts")
