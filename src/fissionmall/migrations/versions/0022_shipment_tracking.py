"""Shipment tracking: each shipped order's parcel followed at the logistics provider, and its timeline of carrier events

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 23:40:00

- shipment_tracks: one row per shipped order (the provider, the carrier's code there, the number, the phone some
  carriers ask for, the newest status, when the worker polls next where nothing pushes, when it was done);
- shipment_events: the steps, append-only, unique by (order, digest of time and text) so a repeated or concurrent
  push writes nothing twice;
- sandbox_parcels: the sandbox provider's own books (a local table, like sandbox_refunds).

Tenant tables key by (id, merchant_id) on PostgreSQL and by id alone on SQLite (db.base.tenant_key).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fissionmall.db.base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIME = fissionmall.db.base.UtcDateTime(timezone=True)
STATUSES = "('collected', 'in_transit', 'delivering', 'signed', 'problem', 'returned', 'rejected', 'customs')"


def _tenant_key(table: str) -> sa.PrimaryKeyConstraint:
    columns = ["id", "merchant_id"] if op.get_bind().dialect.name == "postgresql" else ["id"]
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def upgrade() -> None:
    op.create_table(
        "sandbox_parcels",
        sa.Column("carrier_code", sa.String(length=30), nullable=False),
        sa.Column("tracking_no", sa.String(length=60), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_parcels")),
        sa.UniqueConstraint("tracking_no", name=op.f("uq_sandbox_parcels_tracking_no")),
    )
    op.create_table(
        "shipment_events",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("happened_at", TIME, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_shipment_events_status")),
        sa.ForeignKeyConstraint(["order_id", "merchant_id"], ["orders.id", "orders.merchant_id"],
                                name=op.f("fk_shipment_events_order_id_orders")),
        _tenant_key("shipment_events"),
        sa.UniqueConstraint("order_id", "digest", "merchant_id",
                            name=op.f("uq_shipment_events_order_id_digest_merchant_id")),
    )
    op.create_table(
        "shipment_tracks",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("carrier_code", sa.String(length=30), nullable=False),
        sa.Column("tracking_no", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("next_poll_at", TIME, nullable=True),
        sa.Column("finished_at", TIME, nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(f"status IS NULL OR status IN {STATUSES}", name=op.f("ck_shipment_tracks_status")),
        sa.ForeignKeyConstraint(["order_id", "merchant_id"], ["orders.id", "orders.merchant_id"],
                                name=op.f("fk_shipment_tracks_order_id_orders")),
        _tenant_key("shipment_tracks"),
        sa.UniqueConstraint("order_id", "merchant_id", name=op.f("uq_shipment_tracks_order_id_merchant_id")),
    )
    op.create_index("ix_shipment_tracks_number", "shipment_tracks", ["tracking_no"], unique=False)
    op.create_index("ix_shipment_tracks_poll", "shipment_tracks", ["next_poll_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shipment_tracks_poll", table_name="shipment_tracks")
    op.drop_index("ix_shipment_tracks_number", table_name="shipment_tracks")
    op.drop_table("shipment_tracks")
    op.drop_table("shipment_events")
    op.drop_table("sandbox_parcels")
