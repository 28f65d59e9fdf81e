"""Reviews, review points and review tasks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 08:06:13.808394
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fissionmall.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("images", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("nickname", sa.String(length=64), nullable=False),
        sa.Column("created_at", fissionmall.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_reviews_customer_id_customers")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_reviews_order_id_orders")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_reviews_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("order_id", "product_id", name=op.f("uq_reviews_order_id_product_id")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index("ix_reviews_product", ["product_id", "id"], unique=False)

    with op.batch_alter_table("points_configs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_points", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("loyalty_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_loyalty_tasks_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_loyalty_tasks_kind"),
            "kind IN ('invite_registered', 'friend_first_purchase', 'share_click', 'checkin_streak', 'review')",
        )


def downgrade() -> None:
    with op.batch_alter_table("loyalty_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_loyalty_tasks_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_loyalty_tasks_kind"),
            "kind IN ('invite_registered', 'friend_first_purchase', 'share_click', 'checkin_streak')",
        )

    with op.batch_alter_table("points_configs", schema=None) as batch_op:
        batch_op.drop_column("review_points")

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_product")

    op.drop_table("reviews")
