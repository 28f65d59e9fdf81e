"""The order line a refund is for, and its part of each line

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-21 09:12:40.514207

Refunds made before this revision keep NULL in both: they were refunds of the order, and their parts are computed
when read, spread over what each line had left in the order they were made (rules.refunds_by_line), so no backfill is
needed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.add_column(sa.Column("line_shares", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_refunds_sku_id_skus"), "skus", ["sku_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_refunds_sku_id_skus"), type_="foreignkey")
        batch_op.drop_column("line_shares")
        batch_op.drop_column("sku_id")
