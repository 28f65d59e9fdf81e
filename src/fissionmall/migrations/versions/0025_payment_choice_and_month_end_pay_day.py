"""Payment choice and month-end pay day: a group order records whether it pays a deposit or in full; a dividend plan
may be paid on the last day of each month

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 00:00:00

- group_orders.payment: "deposit" or "full", as the order was placed. Orders placed before record what they did:
  a deposit where the order has one, full payment otherwise.
- dividend_plans.pay_on_last_day: the pool is paid on the month's last day (28, 29, 30 or 31), whatever pay_day says.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_ACTIVE = "uq_group_orders_one_active_per_customer"
ACTIVE = sa.text("active AND group_id IS NOT NULL")
"""SQLite rebuilds group_orders in batch mode; its partial unique index is dropped and made again around that."""


def _one_active(batch_op: BatchOperations) -> None:
    batch_op.drop_index(ONE_ACTIVE)
    batch_op.create_index(ONE_ACTIVE, ["group_id", "customer_id", "merchant_id"], unique=True, sqlite_where=ACTIVE,
                          postgresql_where=ACTIVE)


def upgrade() -> None:
    with op.batch_alter_table("group_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment", sa.String(length=7), nullable=False, server_default="full"))
        batch_op.create_check_constraint("payment", "payment IN ('deposit', 'full')")
        _one_active(batch_op)
    op.execute("UPDATE group_orders SET payment = 'deposit' WHERE EXISTS (SELECT 1 FROM orders WHERE "
               "orders.id = group_orders.order_id AND orders.deposit_fen IS NOT NULL)")

    with op.batch_alter_table("dividend_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pay_on_last_day", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("dividend_plans", schema=None) as batch_op:
        batch_op.drop_column("pay_on_last_day")

    with op.batch_alter_table("group_orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_group_orders_payment"), type_="check")
        batch_op.drop_column("payment")
        _one_active(batch_op)
