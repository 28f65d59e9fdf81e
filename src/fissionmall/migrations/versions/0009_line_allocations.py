"""Each price adjustment's part on every line of its order

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 10:04:12.318004

Orders priced before this revision keep NULL: their lines' parts are computed when read, by the same
largest-remainder split over what each line costs (pricing.line_cash), so no backfill is needed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_adjustments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_shares", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_adjustments", schema=None) as batch_op:
        batch_op.drop_column("line_shares")
