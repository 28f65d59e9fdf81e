"""Campaign analytics: the cascade tree summed by depth and by cycle time

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-21 10:00:00

Kept by the fold in the same transaction as the edges, so the campaign metrics read a few dozen rows instead of
scanning the tree: per campaign and depth, the tree's customers, new customers and sharers (depth 0: the roots); per
campaign, a histogram of cycle times (a minute wide below 48 hours, an hour wide from there). And an index on the
edges' first event: the fold places and times the edges of its range by it. `fissionmall analytics
rebuild` fills them from the event log; the upgrade fills them from the edges already folded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "analytics_depths",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.Column("new_customers", sa.Integer(), nullable=False),
        sa.Column("sharers", sa.Integer(), nullable=False),
        _id(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_depths")),
        sa.UniqueConstraint("merchant_id", "campaign_id", "depth",
                            name=op.f("uq_analytics_depths_merchant_id_campaign_id_depth")))
    op.create_table(
        "analytics_cycles",
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("start_seconds", sa.BigInteger(), nullable=False),
        sa.Column("edges", sa.Integer(), nullable=False),
        _id(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_cycles")),
        sa.UniqueConstraint("merchant_id", "campaign_id", "start_seconds",
                            name=op.f("uq_analytics_cycles_merchant_id_campaign_id_start_seconds")))
    with op.batch_alter_table("analytics_edges", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_edges_first_event", ["first_event"], unique=False)
    _backfill()


def _backfill() -> None:
    """The new tables from the folded edges and people, as the fold would have kept them."""
    op.execute("""INSERT INTO analytics_depths (merchant_id, campaign_id, depth, nodes, new_customers, sharers)
        SELECT merchant_id, campaign_id, depth, SUM(nodes), SUM(new_customers), SUM(sharers) FROM (
            SELECT merchant_id, campaign_id, depth, COUNT(*) AS nodes,
                   SUM(CASE WHEN is_new THEN 1 ELSE 0 END) AS new_customers, 0 AS sharers
            FROM analytics_edges WHERE depth > 0 GROUP BY merchant_id, campaign_id, depth
            UNION ALL
            SELECT e.merchant_id, e.campaign_id, 0, COUNT(DISTINCT e.parent_id), 0, 0 FROM analytics_edges e
            WHERE e.depth = 1 AND NOT EXISTS (SELECT 1 FROM analytics_edges c WHERE c.merchant_id = e.merchant_id
                                              AND c.campaign_id = e.campaign_id AND c.child_id = e.parent_id)
            GROUP BY e.merchant_id, e.campaign_id
            UNION ALL
            SELECT p.merchant_id, p.campaign_id, COALESCE(e.depth, 0), 0, 0, COUNT(*) FROM analytics_people p
            LEFT JOIN analytics_edges e ON e.merchant_id = p.merchant_id AND e.campaign_id = p.campaign_id
                                           AND e.child_id = p.customer_id
            WHERE p.first_share_event IS NOT NULL GROUP BY p.merchant_id, p.campaign_id, COALESCE(e.depth, 0)) d
        GROUP BY merchant_id, campaign_id, depth""")
    bucket = ("CASE WHEN cycle_seconds >= 172800 THEN (cycle_seconds / 3600) * 3600 "
              "WHEN cycle_seconds >= 0 THEN (cycle_seconds / 60) * 60 ELSE -(((59 - cycle_seconds) / 60) * 60) END")
    op.execute(f"""INSERT INTO analytics_cycles (merchant_id, campaign_id, start_seconds, edges)
        SELECT merchant_id, campaign_id, {bucket}, COUNT(*) FROM analytics_edges WHERE cycle_seconds IS NOT NULL
        GROUP BY merchant_id, campaign_id, {bucket}""")


def downgrade() -> None:
    with op.batch_alter_table("analytics_edges", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_edges_first_event")
    op.drop_table("analytics_cycles")
    op.drop_table("analytics_depths")
