"""Community: posts, likes, comments, follows, reports, the moderation queue and its settings; post points and tasks

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 23:37:53.487663

Reviews get a report count, as posts and comments have; the points rules get post points and their daily cap; tasks
may count posts. The new tenant tables are keyed as 0021 keys the others: (id, merchant_id) on PostgreSQL, id alone on
SQLite (which assigns ids only to a lone INTEGER PRIMARY KEY), where posts, which foreign keys point at, also get
(id, merchant_id) as a unique key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from fissionmall.db.base import UtcDateTime

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = UtcDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
KINDS = "'invite_registered', 'friend_first_purchase', 'share_click', 'checkin_streak', 'review'"


def _key(table: str, *, referenced: bool = False) -> tuple[sa.Constraint, ...]:
    """A tenant table's key (db.base.tenant_key), as this database keeps it."""
    if op.get_context().dialect.name == "postgresql":
        return (sa.PrimaryKeyConstraint("id", "merchant_id", name=op.f(f"pk_{table}")),)
    key: tuple[sa.Constraint, ...] = (sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),)
    if referenced:
        key += (sa.UniqueConstraint("id", "merchant_id", name=op.f(f"uq_{table}_id_merchant_id")),)
    return key


def _same_merchant(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column, "merchant_id"], [f"{target}.id", f"{target}.merchant_id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def _unique(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{'_'.join(columns)}"))


def _task_kinds(kinds: str) -> None:
    with op.batch_alter_table("loyalty_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_loyalty_tasks_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_loyalty_tasks_kind"), f"kind IN ({kinds})")


def upgrade() -> None:
    op.create_table('moderation_queue',
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('item_type', sa.String(length=10), nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('cause', sa.String(length=10), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.CheckConstraint("cause IN ('keyword', 'reports')", name=op.f('ck_moderation_queue_cause')),
    sa.CheckConstraint("item_type IN ('review', 'post', 'comment')", name=op.f('ck_moderation_queue_item_type')),
    *_key('moderation_queue'),
    _unique('moderation_queue', 'item_type', 'item_id', 'merchant_id')
    )
    with op.batch_alter_table('moderation_queue', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_queue_merchant', ['merchant_id', 'id'], unique=False)

    op.create_table('community_settings',
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('keywords', JSON, nullable=False),
    sa.Column('report_threshold', sa.Integer(), nullable=False),
    sa.Column('updated_at', TIME, nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                            name=op.f('fk_community_settings_merchant_id_merchants')),
    *_key('community_settings'),
    sa.UniqueConstraint('merchant_id', name=op.f('uq_community_settings_merchant_id'))
    )
    op.create_table('content_reports',
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('item_type', sa.String(length=10), nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.CheckConstraint("item_type IN ('review', 'post', 'comment')", name=op.f('ck_content_reports_item_type')),
    _same_merchant('content_reports', 'customer_id', 'customers'),
    *_key('content_reports'),
    _unique('content_reports', 'item_type', 'item_id', 'customer_id', 'merchant_id')
    )
    op.create_table('follows',
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('follower_id', ID, nullable=False),
    sa.Column('followee_id', ID, nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.CheckConstraint('follower_id <> followee_id', name=op.f('ck_follows_not_self')),
    _same_merchant('follows', 'followee_id', 'customers'),
    _same_merchant('follows', 'follower_id', 'customers'),
    *_key('follows'),
    _unique('follows', 'follower_id', 'followee_id', 'merchant_id')
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index('ix_follows_followee', ['merchant_id', 'followee_id'], unique=False)

    op.create_table('posts',
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('nickname', sa.String(length=64), nullable=False),
    sa.Column('order_id', ID, nullable=True),
    sa.Column('product_id', ID, nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('images', JSON, nullable=False),
    sa.Column('like_count', sa.Integer(), nullable=False),
    sa.Column('comment_count', sa.Integer(), nullable=False),
    sa.Column('hot', sa.BigInteger(), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('published_at', TIME, nullable=True),
    sa.Column('hidden_at', TIME, nullable=True),
    sa.Column('hidden_by', ID, nullable=True),
    sa.Column('hidden_reason', sa.String(length=200), nullable=True),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.CheckConstraint('comment_count >= 0', name=op.f('ck_posts_comment_count_not_negative')),
    sa.CheckConstraint('like_count >= 0', name=op.f('ck_posts_like_count_not_negative')),
    _same_merchant('posts', 'customer_id', 'customers'),
    _same_merchant('posts', 'hidden_by', 'staff'),
    _same_merchant('posts', 'order_id', 'orders'),
    _same_merchant('posts', 'product_id', 'products'),
    *_key('posts', referenced=True)
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_customer', ['merchant_id', 'customer_id', 'id'], unique=False)
        batch_op.create_index('ix_posts_hot', ['merchant_id', 'hot', 'id'], unique=False)
        batch_op.create_index('ix_posts_merchant', ['merchant_id', 'id'], unique=False)
        batch_op.create_index('ix_posts_product', ['merchant_id', 'product_id', 'id'], unique=False)

    op.create_table('post_comments',
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('post_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('nickname', sa.String(length=64), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('hidden_at', TIME, nullable=True),
    sa.Column('hidden_by', ID, nullable=True),
    sa.Column('hidden_reason', sa.String(length=200), nullable=True),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    _same_merchant('post_comments', 'customer_id', 'customers'),
    _same_merchant('post_comments', 'hidden_by', 'staff'),
    _same_merchant('post_comments', 'post_id', 'posts'),
    *_key('post_comments')
    )
    with op.batch_alter_table('post_comments', schema=None) as batch_op:
        batch_op.create_index('ix_post_comments_post', ['merchant_id', 'post_id', 'id'], unique=False)

    op.create_table('post_likes',
    sa.Column('merchant_id', ID, nullable=False),
    sa.Column('post_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('id', ID, autoincrement=True, nullable=False),
    _same_merchant('post_likes', 'customer_id', 'customers'),
    _same_merchant('post_likes', 'post_id', 'posts'),
    *_key('post_likes'),
    _unique('post_likes', 'post_id', 'customer_id', 'merchant_id')
    )
    with op.batch_alter_table('points_configs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_points', sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('post_daily_cap', sa.Integer(), nullable=False, server_default="3"))

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_count', sa.Integer(), nullable=False, server_default="0"))

    _task_kinds(KINDS + ", 'post'")



def downgrade() -> None:
    op.execute("DELETE FROM task_hits WHERE progress_id IN (SELECT p.id FROM task_progress p JOIN loyalty_tasks t "
               "ON t.id = p.task_id WHERE t.kind = 'post')")
    op.execute("DELETE FROM task_progress WHERE task_id IN (SELECT id FROM loyalty_tasks WHERE kind = 'post')")
    op.execute("DELETE FROM loyalty_tasks WHERE kind = 'post'")
    _task_kinds(KINDS)
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('report_count')

    with op.batch_alter_table('points_configs', schema=None) as batch_op:
        batch_op.drop_column('post_daily_cap')
        batch_op.drop_column('post_points')

    op.drop_table('post_likes')
    with op.batch_alter_table('post_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_post_comments_post')

    op.drop_table('post_comments')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_product')
        batch_op.drop_index('ix_posts_merchant')
        batch_op.drop_index('ix_posts_hot')
        batch_op.drop_index('ix_posts_customer')

    op.drop_table('posts')
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.drop_index('ix_follows_followee')

    op.drop_table('follows')
    op.drop_table('content_reports')
    op.drop_table('community_settings')
    with op.batch_alter_table('moderation_queue', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_queue_merchant')

    op.drop_table('moderation_queue')
