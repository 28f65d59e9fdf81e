"""A queued job wakes the workers: PostgreSQL notifies the outbox's channel when a transaction that queued jobs commits

Revision ID: 0021
Revises: 0020
Create Date: 2027-01-05 10:00:00

A statement-level trigger, AFTER INSERT ... FOR EACH STATEMENT, calls pg_notify('outbox_jobs', ''), rather than the
application sending NOTIFY after queuing:
- the request path sends no extra statement: the notification rides on the INSERT it already makes;
- PostgreSQL delivers a notification only when its transaction commits, and drops it on a rollback, so a worker is
  never woken for a job it cannot see yet, nor for one that was never queued;
- one notification per statement, not per row (a chunk of a sweep may queue hundreds of jobs in one INSERT), and
  PostgreSQL folds the same notification raised several times in one transaction into one. An INSERT that queues
  nothing (a repeated dedupe key) still notifies: the woken worker then finds nothing due, at the cost of one read.
The payload is empty: a woken worker claims whatever is due, and learns from the table when the next job is.
The price is PostgreSQL's: the commits of transactions that notify are serialized (a lock on the notification queue
held until the commit record is flushed). Few transactions queue jobs; docs/scaling.md has the measured cost and
the way out if they ever become many.
SQLite has no notifications (its workers poll), so this migration does nothing there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION outbox_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox_jobs', '');
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER outbox_jobs_notify AFTER INSERT ON outbox_jobs
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_jobs_notify()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER outbox_jobs_notify ON outbox_jobs")
    op.execute("DROP FUNCTION outbox_jobs_notify()")
