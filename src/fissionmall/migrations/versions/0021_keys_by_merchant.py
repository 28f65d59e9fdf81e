"""Keys by merchant: every tenant table's keys and foreign keys include merchant_id, so the schema can be sharded by it

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-28 10:00:00

A Citus cluster distributes a table by one column and then needs that column in the table's primary key, in every
unique key, and on both sides of every foreign key to another distributed table (docs/scaling.md). The tenant tables
are distributed by merchant_id, so:

- payment notifications, task hits and idempotency keys, the three tenant tables without it, get merchant_id (the
  payment's or refund's, the progress's, the principal's); an outbox job of no merchant gets 0 (NO_MERCHANT);
- on PostgreSQL each tenant table's primary key becomes (id, merchant_id) (group_orders: (order_id, merchant_id));
  on SQLite, which assigns ids only to a lone INTEGER PRIMARY KEY and is never distributed, it stays (id), and the
  tables foreign keys point at get (id, merchant_id) as a unique key for them to point at;
- every unique key gains merchant_id as its last column (a lookup by the others still uses its index);
- every foreign key between tenant tables names the merchant as well: (x_id, merchant_id) → (id, merchant_id).
  products.category_id loses its ON DELETE SET NULL, which would clear the product's merchant_id with it (nothing
  deletes a category).

SQLite rebuilds the tables it changes (Alembic's batch mode), with foreign keys off for the migration (env.py).
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NO_MERCHANT = 0

TENANT_TABLES = [
    "analytics_cycles", "analytics_depths", "analytics_edges", "analytics_hourly", "analytics_orders",
    "analytics_people", "analytics_share_clickers", "counters", "dividend_runs", "events", "idempotency_keys",
    "login_failures", "outbox_jobs", "payment_notifications", "prize_slots", "categories", "coupon_templates",
    "customers", "distribution_configs", "dividend_plans", "dividend_shares", "level_plans", "points_configs", "staff",
    "stores", "audit_log", "coupons", "customer_addresses", "distributors", "loyalty_tasks", "member_levels", "orders",
    "payees", "points_balances", "points_entries", "products", "shares", "wallet_entries", "wallets", "withdrawals",
    "campaigns", "commission_entries", "order_adjustments", "payments", "product_images", "reviews", "skus",
    "task_progress", "assist_packets", "bargains", "buying_groups", "campaign_forecasts", "campaign_quotas",
    "coupon_packets", "helps", "invite_rewards", "order_items", "refunds", "task_hits", "vouchers", "group_orders",
]
KEY_COLUMN = {"group_orders": "order_id"}
"""The column beside merchant_id in a table's primary key, where it is not id."""
REFERENCED = {"buying_groups", "campaigns", "categories", "coupon_templates", "customers", "dividend_runs",
              "loyalty_tasks", "orders", "products", "skus", "staff", "stores", "task_progress"}
"""The tables foreign keys point at."""

FOREIGN_KEYS: dict[str, list[tuple[str, str, str | None]]] = {
    "customers": [("inviter_id", "customers", None)],
    "dividend_shares": [("run_id", "dividend_runs", None)],
    "audit_log": [("staff_id", "staff", None)],
    "coupons": [("customer_id", "customers", None), ("template_id", "coupon_templates", None)],
    "customer_addresses": [("customer_id", "customers", None)],
    "distributors": [("customer_id", "customers", None)],
    "loyalty_tasks": [("reward_template_id", "coupon_templates", None)],
    "member_levels": [("customer_id", "customers", None)],
    "orders": [("customer_id", "customers", None), ("store_id", "stores", None)],
    "payees": [("customer_id", "customers", None)],
    "points_balances": [("customer_id", "customers", None)],
    "points_entries": [("customer_id", "customers", None)],
    "products": [("category_id", "categories", None)],
    "shares": [("sharer_id", "customers", None)],
    "wallet_entries": [("customer_id", "customers", None)],
    "wallets": [("customer_id", "customers", None)],
    "withdrawals": [("customer_id", "customers", None)],
    "campaigns": [("product_id", "products", None)],
    "commission_entries": [("beneficiary_id", "customers", None), ("order_id", "orders", None)],
    "order_adjustments": [("order_id", "orders", None)],
    "payments": [("order_id", "orders", None)],
    "product_images": [("product_id", "products", "CASCADE")],
    "reviews": [("customer_id", "customers", None), ("hidden_by", "staff", None), ("order_id", "orders", None),
                ("product_id", "products", None)],
    "skus": [("product_id", "products", "CASCADE")],
    "task_progress": [("customer_id", "customers", None), ("task_id", "loyalty_tasks", None)],
    "assist_packets": [("campaign_id", "campaigns", None), ("customer_id", "customers", None)],
    "bargains": [("campaign_id", "campaigns", None), ("customer_id", "customers", None), ("sku_id", "skus", None)],
    "buying_groups": [("campaign_id", "campaigns", None), ("leader_id", "customers", None)],
    "campaign_forecasts": [("campaign_id", "campaigns", None), ("made_by", "staff", None)],
    "campaign_quotas": [("campaign_id", "campaigns", None), ("customer_id", "customers", None)],
    "coupon_packets": [("campaign_id", "campaigns", None), ("order_id", "orders", None),
                       ("owner_id", "customers", None)],
    "helps": [("campaign_id", "campaigns", None), ("helper_id", "customers", None)],
    "invite_rewards": [("campaign_id", "campaigns", None), ("invitee_id", "customers", None),
                       ("inviter_id", "customers", None)],
    "order_items": [("order_id", "orders", None), ("sku_id", "skus", None)],
    "refunds": [("order_id", "orders", None), ("sku_id", "skus", None)],
    "task_hits": [("progress_id", "task_progress", None)],
    "vouchers": [("buyer_id", "customers", None), ("campaign_id", "campaigns", None), ("holder_id", "customers", None),
                 ("order_id", "orders", None)],
    "group_orders": [("campaign_id", "campaigns", None), ("group_id", "buying_groups", None),
                     ("order_id", "orders", None)],
}
"""Every foreign key between tenant tables, by table: (column, target, ON DELETE)."""
SET_NULL_BEFORE = {("products", "category_id")}
"""Foreign keys that were ON DELETE SET NULL before."""

UNIQUE_KEYS: dict[str, list[list[str]]] = {
    "counters": [["key", "period"]],
    "idempotency_keys": [["principal", "key"]],
    "outbox_jobs": [["dedupe_key"]],
    "payment_notifications": [["provider", "event_id"]],
    "prize_slots": [["owner_type", "owner_id", "seq"]],
    "dividend_shares": [["run_id", "customer_id"]],
    "distributors": [["customer_id"]],
    "member_levels": [["customer_id"]],
    "orders": [["order_no"]],
    "payees": [["customer_id"]],
    "points_balances": [["customer_id"]],
    "points_entries": [["customer_id", "kind", "source_type", "source_id"]],
    "wallet_entries": [["customer_id", "kind", "source_type", "source_id"]],
    "wallets": [["customer_id"]],
    "withdrawals": [["withdrawal_no"]],
    "commission_entries": [["entry_key"]],
    "payments": [["order_id", "stage"], ["out_trade_no"]],
    "reviews": [["order_id", "product_id"]],
    "task_progress": [["task_id", "customer_id", "period_key"]],
    "campaign_forecasts": [["campaign_id"]],
    "campaign_quotas": [["campaign_id", "customer_id"]],
    "coupon_packets": [["campaign_id", "order_id"]],
    "helps": [["target_type", "target_id", "helper_id"]],
    "invite_rewards": [["campaign_id", "invitee_id"]],
    "refunds": [["order_id", "seq"], ["refund_no"]],
    "task_hits": [["progress_id", "subject_id"]],
    "vouchers": [["code"]],
}
"""Every unique key of a tenant table without merchant_id, by table: its columns before."""
SHORT_NAMES = {"points_entries": "uq_points_entries_source", "wallet_entries": "uq_wallet_entries_source"}
"""The new keys whose conventional name passes PostgreSQL's 63 characters."""
ONE_ACTIVE = "uq_group_orders_one_active_per_customer"
ACTIVE = sa.text("active AND group_id IS NOT NULL")


def _unique_name(table: str, columns: list[str]) -> str:
    return f"uq_{table}_{'_'.join(columns)}"


def _new_unique_name(table: str, columns: list[str]) -> str:
    return SHORT_NAMES.get(table) or _unique_name(table, [*columns, "merchant_id"])


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


Step = Callable[[BatchOperations, str], None]
"""One change to one tenant table, inside its batch."""


def _each_table(*steps: Step) -> None:
    """Run the steps on every tenant table: on PostgreSQL step by step over all tables (a primary key can change only
    once no foreign key points at it); SQLite (foreign keys off) rebuilds each table once, with all its steps."""
    if _on_postgresql():
        for step in steps:
            for table in TENANT_TABLES:
                with op.batch_alter_table(table) as batch:
                    step(batch, table)
    else:
        for table in TENANT_TABLES:
            with op.batch_alter_table(table) as batch:
                for step in steps:
                    step(batch, table)


def _drop_foreign_keys(batch: BatchOperations, table: str) -> None:
    for column, target, _ in FOREIGN_KEYS.get(table, []):
        batch.drop_constraint(f"fk_{table}_{column}_{target}", type_="foreignkey")


def _merchant_keys(batch: BatchOperations, table: str) -> None:
    key = KEY_COLUMN.get(table, "id")
    if _on_postgresql():
        batch.drop_constraint(f"pk_{table}", type_="primary")
        batch.create_primary_key(f"pk_{table}", [key, "merchant_id"])
    elif table in REFERENCED:
        batch.create_unique_constraint(_unique_name(table, [key, "merchant_id"]), [key, "merchant_id"])
    for columns in UNIQUE_KEYS.get(table, []):
        batch.drop_constraint(_unique_name(table, columns), type_="unique")
        batch.create_unique_constraint(_new_unique_name(table, columns), [*columns, "merchant_id"])
    if table == "group_orders":
        batch.drop_index(ONE_ACTIVE)
        batch.create_index(ONE_ACTIVE, ["group_id", "customer_id", "merchant_id"], unique=True,
                           sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def _same_merchant_foreign_keys(batch: BatchOperations, table: str) -> None:
    for column, target, ondelete in FOREIGN_KEYS.get(table, []):
        batch.create_foreign_key(f"fk_{table}_{column}_{target}", target, [column, "merchant_id"],
                                 ["id", "merchant_id"], ondelete=ondelete)


def _plain_keys(batch: BatchOperations, table: str) -> None:
    key = KEY_COLUMN.get(table, "id")
    if _on_postgresql():
        batch.drop_constraint(f"pk_{table}", type_="primary")
        batch.create_primary_key(f"pk_{table}", [key])
    elif table in REFERENCED:
        batch.drop_constraint(_unique_name(table, [key, "merchant_id"]), type_="unique")
    for columns in UNIQUE_KEYS.get(table, []):
        batch.drop_constraint(_new_unique_name(table, columns), type_="unique")
        batch.create_unique_constraint(_unique_name(table, columns), columns)
    if table == "group_orders":
        batch.drop_index(ONE_ACTIVE)
        batch.create_index(ONE_ACTIVE, ["group_id", "customer_id"], unique=True, sqlite_where=ACTIVE,
                           postgresql_where=ACTIVE)


def _plain_foreign_keys(batch: BatchOperations, table: str) -> None:
    for column, target, ondelete in FOREIGN_KEYS.get(table, []):
        before = "SET NULL" if (table, column) in SET_NULL_BEFORE else ondelete
        batch.create_foreign_key(f"fk_{table}_{column}_{target}", target, [column], ["id"], ondelete=before)


BACKFILLS = {
    "payment_notifications": """
        UPDATE payment_notifications SET merchant_id = CASE kind
            WHEN 'refund' THEN (SELECT merchant_id FROM refunds WHERE refund_no = payment_notifications.reference)
            ELSE (SELECT merchant_id FROM payments WHERE out_trade_no = payment_notifications.reference) END""",
    "task_hits": """
        UPDATE task_hits SET merchant_id = (SELECT merchant_id FROM task_progress
                                            WHERE task_progress.id = task_hits.progress_id)""",
    "idempotency_keys": """
        UPDATE idempotency_keys SET merchant_id = CASE
            WHEN principal LIKE 'customer:%' THEN (SELECT merchant_id FROM customers
                                                   WHERE id = CAST(substr(principal, 10) AS BIGINT))
            WHEN principal LIKE 'staff:%' THEN (SELECT merchant_id FROM staff
                                                WHERE id = CAST(substr(principal, 7) AS BIGINT)) END""",
}
"""Each new merchant_id from the row it belongs with. A notification was kept only when its payment or refund was
found, and a task hit always has its progress; a key whose principal is gone replays nothing anyone can send, and is
dropped."""


def upgrade() -> None:
    for table, backfill in BACKFILLS.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("merchant_id", ID, nullable=True))
        op.execute(backfill)
    op.execute("DELETE FROM idempotency_keys WHERE merchant_id IS NULL")
    op.execute(f"UPDATE outbox_jobs SET merchant_id = {NO_MERCHANT} WHERE merchant_id IS NULL")
    for table in [*BACKFILLS, "outbox_jobs"]:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("merchant_id", existing_type=ID, nullable=False)
    _each_table(_drop_foreign_keys, _merchant_keys, _same_merchant_foreign_keys)


def downgrade() -> None:
    # hourly velocity windows were kept per merchant since; forgetting the current hour's is harmless
    op.execute("DELETE FROM counters WHERE key LIKE 'velocity:%'")
    _each_table(_drop_foreign_keys, _plain_keys, _plain_foreign_keys)
    with op.batch_alter_table("outbox_jobs") as batch:
        batch.alter_column("merchant_id", existing_type=ID, nullable=True)
    op.execute(f"UPDATE outbox_jobs SET merchant_id = NULL WHERE merchant_id = {NO_MERCHANT}")
    for table in BACKFILLS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("merchant_id")
