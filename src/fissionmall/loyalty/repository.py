"""Every query of loyalty: the dividend pool (the month's shares are one set-based statement; crediting goes in
chunks), points, membership levels and tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.base import UtcDateTime
from fissionmall.db.sql import insert_ignoring_conflicts, table
from fissionmall.loyalty.models import (
    DividendPlan,
    DividendRun,
    DividendShare,
    LevelPlan,
    LoyaltyTask,
    MemberLevel,
    PointsBalance,
    PointsConfig,
    PointsEntry,
    TaskHit,
    TaskProgress,
)
from fissionmall.orders.models import Order

MONTH_SPEND = """
SELECT customer_id, SUM(paid_fen - refunded_fen) AS spend_fen
FROM orders
WHERE merchant_id = :merchant_id AND paid_at >= :start AND paid_at < :end AND paid_fen > refunded_fen
GROUP BY customer_id
"""


async def plan_of(session: AsyncSession, merchant_id: int) -> DividendPlan | None:
    statement = select(DividendPlan).where(DividendPlan.merchant_id == merchant_id)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()


async def enabled_plans(session: AsyncSession) -> list[DividendPlan]:
    return list((await session.execute(select(DividendPlan).where(DividendPlan.enabled))).scalars())


async def save_plan(session: AsyncSession, merchant_id: int, **values: Any) -> None:
    await session.execute(insert_ignoring_conflicts(session, DividendPlan).values(merchant_id=merchant_id, **values))
    await session.execute(update(DividendPlan).where(DividendPlan.merchant_id == merchant_id).values(**values))


def _window(statement: Any) -> Any:
    return statement.bindparams(bindparam("start", type_=UtcDateTime()), bindparam("end", type_=UtcDateTime()))


async def net_sales(session: AsyncSession, merchant_id: int, start: datetime, end: datetime) -> int:
    statement = _window(text(f"SELECT COALESCE(SUM(spend_fen), 0) FROM ({MONTH_SPEND}) AS spend"))
    return int((await session.execute(statement, {"merchant_id": merchant_id, "start": start, "end": end}))
               .scalar_one())


async def open_run(session: AsyncSession, **values: Any) -> int | None:
    """The run's id, or None when this month's run exists already (a run happens once)."""
    result = await session.execute(insert_ignoring_conflicts(session, DividendRun).values(**values)
                                   .returning(DividendRun.id))
    return result.scalar()


async def compute_shares(session: AsyncSession, run_id: int, merchant_id: int, start: datetime, end: datetime,
                         pool_fen: int, levels: list[tuple[int, int]], threshold: int) -> tuple[int, int]:
    """Every member's share in one statement: points from their own net spend, the pool split by points with
    largest remainder (ties to the lower customer id), so the shares sum to the pool exactly. (members, points).
    Sums are cast back to BIGINT: PostgreSQL's SUM of integers is NUMERIC, whose division is not integer."""
    points = "CASE " + " ".join(
        f"WHEN spend_fen >= CAST(:spend{i} AS BIGINT) THEN CAST(:points{i} AS BIGINT)"
        for i in range(len(levels) - 1, -1, -1)) + " ELSE 0 END"
    params: dict[str, Any] = {"merchant_id": merchant_id, "start": start, "end": end, "run_id": run_id,
                              "pool": pool_fen, "threshold": threshold}
    for i, (spend, level_points) in enumerate(levels):
        params[f"spend{i}"], params[f"points{i}"] = spend, level_points
    statement = _window(text(f"""
WITH spend AS ({MONTH_SPEND}),
scored AS (SELECT customer_id, spend_fen, {points} AS points FROM spend),
eligible AS (SELECT * FROM scored WHERE points > 0 AND points >= CAST(:threshold AS BIGINT)),
total AS (SELECT CAST(SUM(points) AS BIGINT) AS points FROM eligible),
based AS (
  SELECT e.customer_id, e.spend_fen, e.points,
         (CAST(:pool AS BIGINT) * e.points) / t.points AS base,
         (CAST(:pool AS BIGINT) * e.points) % t.points AS remainder
  FROM eligible e CROSS JOIN total t
),
ranked AS (
  SELECT customer_id, spend_fen, points, base,
         ROW_NUMBER() OVER (ORDER BY remainder DESC, customer_id) AS place
  FROM based
)
INSERT INTO dividend_shares (merchant_id, run_id, customer_id, spend_fen, points, amount_fen)
SELECT CAST(:merchant_id AS BIGINT), CAST(:run_id AS BIGINT), customer_id, spend_fen, points,
       base + CASE WHEN place <= CAST(:pool AS BIGINT) - (SELECT CAST(SUM(base) AS BIGINT) FROM based)
                   THEN 1 ELSE 0 END
FROM ranked
"""))
    if session.bind and session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL work_mem = '256MB'"))  # the ranking sorts every member at once
    await session.execute(statement, params)
    members, total = (await session.execute(
        select(func.count(), func.coalesce(func.sum(DividendShare.points), 0)).where(DividendShare.run_id == run_id)
    )).one()
    return int(members), int(total)


async def set_totals(session: AsyncSession, run_id: int, **values: Any) -> None:
    await session.execute(update(DividendRun).where(DividendRun.id == run_id).values(**values))


async def runs_to_credit(session: AsyncSession) -> list[DividendRun]:
    statement = select(DividendRun).where(DividendRun.status == "computed").order_by(DividendRun.id)
    return list((await session.execute(statement.execution_options(populate_existing=True))).scalars())


async def run_of(session: AsyncSession, merchant_id: int, month: str) -> DividendRun | None:
    statement = select(DividendRun).where(DividendRun.merchant_id == merchant_id, DividendRun.month == month)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()


async def runs_of(session: AsyncSession, merchant_id: int) -> list[DividendRun]:
    statement = select(DividendRun).where(DividendRun.merchant_id == merchant_id).order_by(DividendRun.id.desc())
    return list((await session.execute(statement)).scalars())


async def credit_chunk(session: AsyncSession, run: DividendRun, size: int, now: datetime) -> int:
    """Credit the next `size` shares after `credited_upto`, as wallet entries and balances, and move the marker,
    all in the caller's one transaction: a chunk is credited wholly or not at all. How many shares it covered."""
    upto = (await session.execute(
        select(func.max(text("customer_id"))).select_from(
            select(DividendShare.customer_id).where(DividendShare.run_id == run.id,
                                                    DividendShare.customer_id > run.credited_upto)
            .order_by(DividendShare.customer_id).limit(size).subquery())
    )).scalar()
    if upto is None:
        return 0
    chunk = {"run_id": run.id, "after": run.credited_upto, "upto": upto}
    rows = "FROM dividend_shares WHERE run_id = :run_id AND customer_id > :after AND customer_id <= :upto " \
           "AND amount_fen > 0"
    await session.execute(text(
        "INSERT INTO wallet_entries (merchant_id, customer_id, amount_fen, kind, source_type, source_id, "
        f"campaign_id, created_at) SELECT merchant_id, customer_id, amount_fen, 'dividend', 'dividend_run', "
        f"run_id, NULL, :now {rows} ON CONFLICT DO NOTHING").bindparams(bindparam("now", type_=UtcDateTime())),
        {**chunk, "now": now})
    await session.execute(text(
        f"INSERT INTO wallets (merchant_id, customer_id, balance_fen) SELECT merchant_id, customer_id, amount_fen "
        f"{rows} ON CONFLICT (customer_id) DO UPDATE SET balance_fen = wallets.balance_fen + excluded.balance_fen"),
        chunk)
    span = "FROM dividend_shares WHERE run_id = :run_id AND customer_id > :after AND customer_id <= :upto"
    counted = (await session.execute(text(f"SELECT COUNT(*) {span}"), chunk)).scalar_one()
    await session.execute(update(DividendRun).where(DividendRun.id == run.id).values(credited_upto=upto))
    run.credited_upto = upto
    return int(counted)


async def finish(session: AsyncSession, run_id: int, now: datetime) -> None:
    await session.execute(update(DividendRun).where(DividendRun.id == run_id, DividendRun.status == "computed")
                          .values(status="credited", finished_at=now))



# --- points ---------------------------------------------------------------------------------------------------------


async def points_config(session: AsyncSession, merchant_id: int) -> PointsConfig | None:
    statement = select(PointsConfig).where(PointsConfig.merchant_id == merchant_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def save_points_config(session: AsyncSession, merchant_id: int, **values: Any) -> None:
    await session.execute(insert_ignoring_conflicts(session, PointsConfig).values(merchant_id=merchant_id, **values))
    await session.execute(update(PointsConfig).where(PointsConfig.merchant_id == merchant_id).values(**values))


async def _move_balance(session: AsyncSession, merchant_id: int, customer_id: int, points: int) -> None:
    await session.execute(insert_ignoring_conflicts(session, PointsBalance).values(
        merchant_id=merchant_id, customer_id=customer_id, balance=0, streak=0))
    await session.execute(update(PointsBalance).where(PointsBalance.customer_id == customer_id)
                          .values(balance=PointsBalance.balance + points))


async def add_entry(session: AsyncSession, **values: Any) -> bool:
    result = await session.execute(insert_ignoring_conflicts(session, PointsEntry).values(**values)
                                   .returning(PointsEntry.id))
    return result.scalar() is not None


async def add_bucket(session: AsyncSession, **values: Any) -> bool:
    """A new earning and its balance, once per (customer, kind, source)."""
    if not await add_entry(session, **values):
        return False
    await _move_balance(session, values["merchant_id"], values["customer_id"], values["points"])
    return True


async def take_balance(session: AsyncSession, customer_id: int, points: int) -> bool:
    result = await session.execute(update(PointsBalance).where(PointsBalance.customer_id == customer_id,
                                                               PointsBalance.balance >= points)
                                   .values(balance=PointsBalance.balance - points))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def draw_buckets(session: AsyncSession, customer_id: int, points: int, at: datetime) -> None:
    """Take `points` from the customer's live buckets, soonest to expire first. The balance row was taken by a
    guarded update just before, so this customer's buckets are not drawn by anyone else meanwhile."""
    statement = (select(PointsEntry).where(PointsEntry.customer_id == customer_id, PointsEntry.remaining > 0,
                                           PointsEntry.expires_at > at)
                 .order_by(PointsEntry.expires_at, PointsEntry.id).with_for_update())
    left = points
    for bucket in (await session.execute(statement.execution_options(populate_existing=True))).scalars():
        take = min(left, bucket.remaining)
        await session.execute(update(PointsEntry).where(PointsEntry.id == bucket.id)
                              .values(remaining=PointsEntry.remaining - take))
        left -= take
        if not left:
            return
    raise RuntimeError(f"customer {customer_id}: balance and buckets disagree by {left} points")


async def _expire(session: AsyncSession, buckets: list[PointsEntry], at: datetime) -> None:
    for bucket in buckets:
        left, customer_id, merchant_id, bucket_id = bucket.remaining, bucket.customer_id, bucket.merchant_id, bucket.id
        result = await session.execute(update(PointsEntry).where(PointsEntry.id == bucket_id, PointsEntry.remaining > 0)
                                       .values(remaining=0).returning(PointsEntry.id))
        if result.first() is None:
            continue
        await add_entry(session, merchant_id=merchant_id, customer_id=customer_id, points=-left, remaining=0,
                        kind="expired", source_type="points", source_id=bucket_id, expires_at=None, created_at=at)
        await session.execute(update(PointsBalance).where(PointsBalance.customer_id == customer_id)
                              .values(balance=PointsBalance.balance - left))


async def expire_buckets(session: AsyncSession, customer_id: int, at: datetime) -> None:
    statement = (select(PointsEntry).where(PointsEntry.customer_id == customer_id, PointsEntry.remaining > 0,
                                           PointsEntry.expires_at <= at).with_for_update())
    await _expire(session, list((await session.execute(statement.execution_options(populate_existing=True)))
                                .scalars()), at)


async def expire_all(session: AsyncSession, at: datetime, limit: int) -> int:
    statement = (select(PointsEntry).where(PointsEntry.remaining > 0, PointsEntry.expires_at <= at)
                 .order_by(PointsEntry.id).limit(limit).with_for_update(skip_locked=True))
    buckets = list((await session.execute(statement.execution_options(populate_existing=True))).scalars())
    await _expire(session, buckets, at)
    return len(buckets)


async def points_balance(session: AsyncSession, customer_id: int) -> int:
    statement = select(PointsBalance.balance).where(PointsBalance.customer_id == customer_id)
    return int((await session.execute(statement)).scalar() or 0)


async def balance_row(session: AsyncSession, customer_id: int) -> tuple[int, str | None, int]:
    statement = select(PointsBalance.balance, PointsBalance.last_checkin, PointsBalance.streak).where(
        PointsBalance.customer_id == customer_id)
    row = (await session.execute(statement)).first()
    return (int(row[0]), row[1], int(row[2])) if row else (0, None, 0)


async def entries_of(session: AsyncSession, customer_id: int, limit: int) -> list[PointsEntry]:
    statement = (select(PointsEntry).where(PointsEntry.customer_id == customer_id)
                 .order_by(PointsEntry.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())


async def spent_on(session: AsyncSession, order_id: int) -> int:
    statement = select(func.coalesce(-func.sum(PointsEntry.points), 0)).where(
        PointsEntry.kind == "spent", PointsEntry.source_type == "order", PointsEntry.source_id == order_id)
    return int((await session.execute(statement)).scalar_one())


async def check_in(session: AsyncSession, merchant_id: int, customer_id: int, today: str,
                   yesterday: str) -> int | None:
    """Mark today's check-in: the new streak, or None if the customer already checked in today."""
    await session.execute(insert_ignoring_conflicts(session, PointsBalance).values(
        merchant_id=merchant_id, customer_id=customer_id, balance=0, streak=0))
    result = await session.execute(
        update(PointsBalance)
        .where(PointsBalance.customer_id == customer_id,
               (PointsBalance.last_checkin.is_(None)) | (PointsBalance.last_checkin != today))
        .values(streak=case((PointsBalance.last_checkin == yesterday, PointsBalance.streak + 1), else_=1),
                last_checkin=today)
        .returning(PointsBalance.streak))
    return result.scalar()


async def kept_by_orders(session: AsyncSession, order_ids: list[int]) -> list[tuple[int, int, int]]:
    """(order, customer, money kept) of those orders that are completed."""
    statement = select(Order.id, Order.customer_id, Order.paid_fen - Order.refunded_fen).where(
        Order.id.in_(order_ids), Order.status == "completed").order_by(Order.id)
    return [(int(a), int(b), int(c)) for a, b, c in (await session.execute(statement)).all()]


# --- membership levels ----------------------------------------------------------------------------------------------


_LEVEL_PLAN = select(LevelPlan).where(LevelPlan.merchant_id == bindparam("merchant_id")).execution_options(
    populate_existing=True)
_TASKS = table(LoyaltyTask)
_ANY_ACTIVE_TASK = select(_TASKS.c.id).where(_TASKS.c.merchant_id == bindparam("merchant_id"), _TASKS.c.active).limit(1)


async def level_plan(session: AsyncSession, merchant_id: int) -> LevelPlan | None:
    return (await session.execute(_LEVEL_PLAN, dict(merchant_id=merchant_id))).scalar_one_or_none()


async def level_plans(session: AsyncSession) -> list[LevelPlan]:
    return list((await session.execute(select(LevelPlan))).scalars())


async def save_level_plan(session: AsyncSession, merchant_id: int, **values: Any) -> None:
    await session.execute(insert_ignoring_conflicts(session, LevelPlan).values(merchant_id=merchant_id, **values))
    await session.execute(update(LevelPlan).where(LevelPlan.merchant_id == merchant_id).values(**values))


async def evaluate_levels(session: AsyncSession, merchant_id: int, thresholds: list[tuple[int, int]],
                          start: datetime | None, end: datetime | None, now: datetime) -> int:
    """Every member's level from their own spending (all of it, or one month's), in one statement."""
    level = "CASE " + " ".join(f"WHEN spend_fen >= CAST(:spend{i} AS BIGINT) THEN CAST(:level{i} AS INTEGER)"
                               for i in range(len(thresholds) - 1, -1, -1)) + " ELSE 0 END"
    window = "AND paid_at >= :start AND paid_at < :end" if start else ""
    params: dict[str, Any] = {"merchant_id": merchant_id, "now": now}
    if start:
        params.update(start=start, end=end)
    for i, (spend, number) in enumerate(thresholds):
        params[f"spend{i}"], params[f"level{i}"] = spend, number
    statement = text(f"""
INSERT INTO member_levels (merchant_id, customer_id, level, spend_fen, evaluated_at)
SELECT CAST(:merchant_id AS BIGINT), customer_id, {level}, spend_fen, :now FROM (
  SELECT customer_id, CAST(SUM(paid_fen - refunded_fen) AS BIGINT) AS spend_fen FROM orders
  WHERE merchant_id = :merchant_id AND paid_fen > 0 {window} GROUP BY customer_id
) AS spend WHERE true
ON CONFLICT (customer_id) DO UPDATE SET level = excluded.level, spend_fen = excluded.spend_fen,
  evaluated_at = excluded.evaluated_at""").bindparams(bindparam("now", type_=UtcDateTime()))
    if start:
        statement = _window(statement)
    result = await session.execute(statement, params)
    floor = max((number for spend, number in thresholds if spend == 0), default=0)
    await session.execute(  # members with no spending in the window: what spending nothing reaches
        update(MemberLevel).where(MemberLevel.merchant_id == merchant_id, MemberLevel.evaluated_at < now)
        .values(level=floor, spend_fen=0, evaluated_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def member_levels(session: AsyncSession, customer_ids: list[int]) -> dict[int, int]:
    """customer → level number as last evaluated (customers never evaluated are left out)."""
    statement = select(MemberLevel.customer_id, MemberLevel.level).where(MemberLevel.customer_id.in_(customer_ids))
    return {int(customer_id): int(level) for customer_id, level in (await session.execute(statement)).all()}


async def member_level(session: AsyncSession, customer_id: int) -> tuple[int, int]:
    """(level, spend) as last evaluated; (0, 0) for a customer never evaluated."""
    row = (await session.execute(select(MemberLevel.level, MemberLevel.spend_fen)
                                 .where(MemberLevel.customer_id == customer_id))).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


# --- tasks ----------------------------------------------------------------------------------------------------------


async def add_task(session: AsyncSession, **values: Any) -> int:
    return int((await session.execute(insert(LoyaltyTask).values(**values).returning(LoyaltyTask.id))).scalar_one())


async def task(session: AsyncSession, merchant_id: int, task_id: int) -> LoyaltyTask | None:
    statement = select(LoyaltyTask).where(LoyaltyTask.merchant_id == merchant_id, LoyaltyTask.id == task_id)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()


async def tasks(session: AsyncSession, merchant_id: int, *, kind: str | None = None,
                active_only: bool = False) -> list[LoyaltyTask]:
    statement = select(LoyaltyTask).where(LoyaltyTask.merchant_id == merchant_id)
    if kind is not None:
        statement = statement.where(LoyaltyTask.kind == kind)
    if active_only:
        statement = statement.where(LoyaltyTask.active)
    return list((await session.execute(statement.order_by(LoyaltyTask.id))).scalars())


async def any_active_task(session: AsyncSession, merchant_id: int) -> bool:
    return (await session.execute(_ANY_ACTIVE_TASK, dict(merchant_id=merchant_id))).scalar() is not None


async def set_task_active(session: AsyncSession, task_id: int, active: bool) -> None:
    await session.execute(update(LoyaltyTask).where(LoyaltyTask.id == task_id).values(active=active))


async def progress_id(session: AsyncSession, merchant_id: int, task_id: int, customer_id: int, period_key: str) -> int:
    await session.execute(insert_ignoring_conflicts(session, TaskProgress).values(
        merchant_id=merchant_id, task_id=task_id, customer_id=customer_id, period_key=period_key, count=0))
    statement = select(TaskProgress.id).where(TaskProgress.task_id == task_id, TaskProgress.customer_id == customer_id,
                                              TaskProgress.period_key == period_key)
    return int((await session.execute(statement)).scalar_one())


async def add_hit(session: AsyncSession, progress: int, subject_id: int) -> bool:
    """Count a friend or a day once: False when it counted already."""
    result = await session.execute(insert_ignoring_conflicts(session, TaskHit).values(
        progress_id=progress, subject_id=subject_id).returning(TaskHit.id))
    return result.scalar() is not None


async def advance(session: AsyncSession, progress: int, streak: int | None) -> int:
    """One more, or the streak when it is longer than the count: the new count."""
    count = TaskProgress.count + 1 if streak is None else case((TaskProgress.count < streak, streak),
                                                               else_=TaskProgress.count)
    result = await session.execute(update(TaskProgress).where(TaskProgress.id == progress).values(count=count)
                                   .returning(TaskProgress.count))
    return int(result.scalar_one())


async def mark_rewarded(session: AsyncSession, progress: int, target: int, at: datetime) -> bool:
    """True exactly once per progress, for whoever reaches the target first."""
    result = await session.execute(update(TaskProgress).where(
        TaskProgress.id == progress, TaskProgress.rewarded_at.is_(None), TaskProgress.count >= target)
        .values(rewarded_at=at))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def progress_of(session: AsyncSession, customer_id: int,
                      keys: list[tuple[int, str]]) -> dict[int, TaskProgress]:
    """task id → the customer's progress in the given period of each task."""
    if not keys:
        return {}
    statement = select(TaskProgress).where(TaskProgress.customer_id == customer_id,
                                           tuple_(TaskProgress.task_id, TaskProgress.period_key).in_(keys))
    return {p.task_id: p for p in (await session.execute(statement)).scalars()}
