"""deposits and balances: payments per stage, refunds per payment

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:56:04.376300
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deposit_fen", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            "deposit_part", "deposit_fen IS NULL OR (deposit_fen > 0 AND deposit_fen < total_fen)")

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=10), nullable=False, server_default="full"))
        batch_op.drop_constraint(batch_op.f("uq_payments_order_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_payments_order_id_stage"), ["order_id", "stage"])
        batch_op.create_check_constraint("stage", "stage IN ('full', 'deposit', 'balance')")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("stage", server_default=None)

    # every refund so far went back through the order's one payment, numbered like the order
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("out_trade_no", sa.String(length=32), nullable=True))
    op.execute("UPDATE refunds SET out_trade_no = (SELECT order_no FROM orders WHERE orders.id = refunds.order_id)")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.alter_column("out_trade_no", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("out_trade_no")

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payments_stage"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_payments_order_id_stage"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_payments_order_id"), ["order_id"])
        batch_op.drop_column("stage")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_orders_deposit_part"), type_="check")
        batch_op.drop_column("deposit_fen")
