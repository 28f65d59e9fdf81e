"""Recommendations: the co-purchase model and the friends behind 为你推荐

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-30 10:00:00

Who bought what (a customer's paid, unrefunded products), how many customers bought each product and each pair
(both directions), every product's top-K neighbours with their similarity, the friends whose purchases a customer is
shown (referrals both ways, shares opened), and the watermark: the last event read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tenant_table(name: str, *columns: sa.Column, unique: list[str], checks: dict[str, str]) -> None:  # type: ignore[type-arg]
    """A tenant table keyed (id, merchant_id) on PostgreSQL and (id) on SQLite (`db.base.tenant_key`)."""
    key = ["id", "merchant_id"] if op.get_bind().dialect.name == "postgresql" else ["id"]
    op.create_table(
        name,
        sa.Column("merchant_id", ID, nullable=False),
        *columns,
        sa.Column("id", ID, autoincrement=True, nullable=False),
        *[sa.CheckConstraint(check, name=op.f(f"ck_{name}_{label}")) for label, check in checks.items()],
        sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("merchant_id", *unique, name=op.f(f"uq_{name}_merchant_id_{'_'.join(unique)}")))


def upgrade() -> None:
    op.create_table(
        "recommend_watermarks",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_recommend_watermarks")))
    _tenant_table("recommend_purchases", sa.Column("customer_id", ID, nullable=False),
                  sa.Column("product_id", ID, nullable=False), unique=["customer_id", "product_id"], checks={})
    _tenant_table("recommend_buyers", sa.Column("product_id", ID, nullable=False),
                  sa.Column("buyers", sa.Integer(), nullable=False), unique=["product_id"],
                  checks={"buyers_positive": "buyers > 0"})
    _tenant_table("recommend_pairs", sa.Column("product_id", ID, nullable=False),
                  sa.Column("other_id", ID, nullable=False), sa.Column("together", sa.Integer(), nullable=False),
                  unique=["product_id", "other_id"],
                  checks={"together_positive": "together > 0", "two_products": "product_id <> other_id"})
    _tenant_table("recommend_neighbours", sa.Column("product_id", ID, nullable=False),
                  sa.Column("rank", sa.Integer(), nullable=False), sa.Column("neighbour_id", ID, nullable=False),
                  sa.Column("score", sa.Float(), nullable=False), unique=["product_id", "rank"], checks={})
    op.create_index("ix_recommend_neighbours_neighbour", "recommend_neighbours", ["merchant_id", "neighbour_id"])
    _tenant_table("recommend_friends", sa.Column("customer_id", ID, nullable=False),
                  sa.Column("friend_id", ID, nullable=False), unique=["customer_id", "friend_id"],
                  checks={"two_people": "customer_id <> friend_id"})


def downgrade() -> None:
    for name in ("recommend_friends", "recommend_neighbours", "recommend_pairs", "recommend_buyers",
                 "recommend_purchases", "recommend_watermarks"):
        op.drop_table(name)
