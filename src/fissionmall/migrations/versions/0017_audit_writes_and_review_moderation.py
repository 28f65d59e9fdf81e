"""Every staff write in the audit log, and review moderation

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-15 10:00:00

An audit row's action is now the route of a staff write (longer than the sign-in names it held); the log is read
newest first by merchant, optionally by staff member or action. A review can be hidden by staff, with who, when and
why; the console lists a merchant's reviews newest first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.db.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("action", existing_type=sa.String(length=40), type_=sa.String(length=120),
                              existing_nullable=False)
        batch_op.create_index("ix_audit_log_merchant_id", ["merchant_id", "id"], unique=False)
        batch_op.create_index("ix_audit_log_merchant_staff", ["merchant_id", "staff_id", "id"], unique=False)
        batch_op.create_index("ix_audit_log_merchant_action", ["merchant_id", "action", "id"], unique=False)
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("hidden_by", ID, nullable=True))
        batch_op.add_column(sa.Column("hidden_reason", sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(op.f("fk_reviews_hidden_by_staff"), "staff", ["hidden_by"], ["id"])
        batch_op.create_index("ix_reviews_merchant", ["merchant_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_merchant")
        batch_op.drop_constraint(op.f("fk_reviews_hidden_by_staff"), type_="foreignkey")
        batch_op.drop_column("hidden_reason")
        batch_op.drop_column("hidden_by")
        batch_op.drop_column("hidden_at")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_merchant_action")
        batch_op.drop_index("ix_audit_log_merchant_staff")
        batch_op.drop_index("ix_audit_log_merchant_id")
        batch_op.alter_column("action", existing_type=sa.String(length=120), type_=sa.String(length=40),
                              existing_nullable=False)
