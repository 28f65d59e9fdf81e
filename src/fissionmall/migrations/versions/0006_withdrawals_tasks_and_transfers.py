"""Withdrawals, payees, loyalty tasks, sandbox transfers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 06:55:05.727489
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fissionmall.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_transfers",
        sa.Column("out_bill_no", sa.String(length=32), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("created_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_transfers")),
        sa.UniqueConstraint("out_bill_no", name=op.f("uq_sandbox_transfers_out_bill_no")),
    )
    op.create_table(
        "loyalty_tasks",
        sa.Column("merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("reward_points", sa.Integer(), nullable=False),
        sa.Column("reward_template_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "kind IN ('invite_registered', 'friend_first_purchase', 'share_click', 'checkin_streak')",
            name=op.f("ck_loyalty_tasks_kind"),
        ),
        sa.CheckConstraint("period IN ('once', 'daily', 'weekly')", name=op.f("ck_loyalty_tasks_period")),
        sa.CheckConstraint("target >= 1", name=op.f("ck_loyalty_tasks_target_positive")),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_loyalty_tasks_merchant_id_merchants")),
        sa.ForeignKeyConstraint(
            ["reward_template_id"],
            ["coupon_templates.id"],
            name=op.f("fk_loyalty_tasks_reward_template_id_coupon_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_tasks")),
    )
    with op.batch_alter_table("loyalty_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_loyalty_tasks_merchant_kind", ["merchant_id", "kind", "active"], unique=False)

    op.create_table(
        "payees",
        sa.Column("merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("real_name", sa.String(length=40), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("id_tail", sa.String(length=4), nullable=False),
        sa.Column("checked_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_payees_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payees")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_payees_customer_id")),
    )
    op.create_table(
        "withdrawals",
        sa.Column("merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("withdrawal_no", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("provider", sa.String(length=20), nullable=True),
        sa.Column("bill_no", sa.String(length=64), nullable=True),
        sa.Column("package_info", sa.Text(), nullable=True),
        sa.Column("requested_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("paid_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'paid', 'rejected')", name=op.f("ck_withdrawals_status")
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_withdrawals_amount_positive")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_withdrawals_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
        sa.UniqueConstraint("withdrawal_no", name=op.f("uq_withdrawals_withdrawal_no")),
    )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index("ix_withdrawals_customer_status", ["customer_id", "status"], unique=False)
        batch_op.create_index("ix_withdrawals_merchant_status", ["merchant_id", "status"], unique=False)

    op.create_table(
        "task_progress",
        sa.Column("merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period_key", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("rewarded_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_task_progress_customer_id_customers")),
        sa.ForeignKeyConstraint(["task_id"], ["loyalty_tasks.id"], name=op.f("fk_task_progress_task_id_loyalty_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_progress")),
        sa.UniqueConstraint(
            "task_id", "customer_id", "period_key", name=op.f("uq_task_progress_task_id_customer_id_period_key")
        ),
    )
    with op.batch_alter_table("task_progress", schema=None) as batch_op:
        batch_op.create_index("ix_task_progress_customer", ["customer_id", "period_key"], unique=False)

    op.create_table(
        "task_hits",
        sa.Column("progress_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["progress_id"], ["task_progress.id"], name=op.f("fk_task_hits_progress_id_task_progress")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_hits")),
        sa.UniqueConstraint("progress_id", "subject_id", name=op.f("uq_task_hits_progress_id_subject_id")),
    )
    with op.batch_alter_table("distribution_configs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdraw_min_fen", sa.Integer(), nullable=False, server_default="100"))
        batch_op.add_column(sa.Column("withdraw_review", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("distribution_configs", schema=None) as batch_op:
        batch_op.drop_column("withdraw_review")
        batch_op.drop_column("withdraw_min_fen")

    op.drop_table("task_hits")
    with op.batch_alter_table("task_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_task_progress_customer")

    op.drop_table("task_progress")
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index("ix_withdrawals_merchant_status")
        batch_op.drop_index("ix_withdrawals_customer_status")

    op.drop_table("withdrawals")
    op.drop_table("payees")
    with op.batch_alter_table("loyalty_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_loyalty_tasks_merchant_kind")

    op.drop_table("loyalty_tasks")
    op.drop_table("sandbox_transfers")
