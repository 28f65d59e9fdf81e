"""Campaign products: the products a campaign sells besides its main one (a multi-product group's others)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 00:00:00

A multi-product group (多产品拼团) sells several products; `campaigns.product_id` stays its main (first) one and each
other is a row here, so that every one of them lists the campaign on its page. A tenant table like the others: on
PostgreSQL its key is (id, merchant_id) and its foreign keys name the merchant; on SQLite, which assigns ids only to a
lone INTEGER PRIMARY KEY, the key is id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    key = ["id", "merchant_id"] if op.get_context().dialect.name == "postgresql" else ["id"]
    op.create_table(
        "campaign_products",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["campaign_id", "merchant_id"], ["campaigns.id", "campaigns.merchant_id"],
                                name=op.f("fk_campaign_products_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["product_id", "merchant_id"], ["products.id", "products.merchant_id"],
                                name=op.f("fk_campaign_products_product_id_products")),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_campaign_products")),
        sa.UniqueConstraint("campaign_id", "product_id", "merchant_id",
                            name=op.f("uq_campaign_products_campaign_id_product_id_merchant_id")),
    )
    op.create_index("ix_campaign_products_product_id", "campaign_products", ["product_id", "merchant_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_products_product_id", table_name="campaign_products")
    op.drop_table("campaign_products")
