"""Every query of the dividend pool: the month's shares are one set-based statement; crediting goes in chunks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.states import transition
from fissionmall.db.sql import insert_ignoring_conflicts, utc_times
from fissionmall.loyalty.dividend.models import DividendPlan, DividendRun, DividendShare
from fissionmall.loyalty.dividend.states import RUN_STATES, RunStatus

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


async def net_sales(session: AsyncSession, merchant_id: int, start: datetime, end: datetime) -> int:
    statement = utc_times(text(f"SELECT COALESCE(SUM(spend_fen), 0) FROM ({MONTH_SPEND}) AS spend"), "start", "end")
    return int((await session.execute(statement, {"merchant_id": merchant_id, "start": start, "end": end}))
               .scalar_one())


async def spend_of(session: AsyncSession, merchant_id: int, customer_id: int, start: datetime, end: datetime) -> int:
    """One member's own net spend in the window, as MONTH_SPEND counts it."""
    statement = utc_times(text(
        "SELECT COALESCE(SUM(paid_fen - refunded_fen), 0) FROM orders WHERE merchant_id = :merchant_id "
        "AND customer_id = :customer_id AND paid_at >= :start AND paid_at < :end AND paid_fen > refunded_fen"),
        "start", "end")
    return int((await session.execute(statement, {"merchant_id": merchant_id, "customer_id": customer_id,
                                                  "start": start, "end": end})).scalar_one())


async def shares_of(session: AsyncSession, customer_id: int, limit: int) -> list[tuple[str, str, DividendShare]]:
    """The member's latest shares: (month, the run's status, share)."""
    statement = (select(DividendRun.month, DividendRun.status, DividendShare)
                 .join(DividendRun, DividendRun.id == DividendShare.run_id)
                 .where(DividendShare.customer_id == customer_id).order_by(DividendRun.month.desc()).limit(limit))
    return [(month, status, share) for month, status, share in (await session.execute(statement)).all()]


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
    statement = utc_times(text(f"""
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
"""), "start", "end")
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
    statement = select(DividendRun).where(DividendRun.status == RunStatus.COMPUTED).order_by(DividendRun.id)
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
    await session.execute(utc_times(text(
        "INSERT INTO wallet_entries (merchant_id, customer_id, amount_fen, kind, source_type, source_id, "
        f"campaign_id, created_at) SELECT merchant_id, customer_id, amount_fen, 'dividend', 'dividend_run', "
        f"run_id, NULL, :now {rows} ON CONFLICT DO NOTHING"), "now"),
        {**chunk, "now": now})
    await session.execute(text(
        f"INSERT INTO wallets (merchant_id, customer_id, balance_fen) SELECT merchant_id, customer_id, amount_fen "
        f"{rows} ON CONFLICT (customer_id, merchant_id) DO UPDATE SET "
        "balance_fen = wallets.balance_fen + excluded.balance_fen"),
        chunk)
    span = "FROM dividend_shares WHERE run_id = :run_id AND customer_id > :after AND customer_id <= :upto"
    counted = (await session.execute(text(f"SELECT COUNT(*) {span}"), chunk)).scalar_one()
    await session.execute(update(DividendRun).where(DividendRun.id == run.id).values(credited_upto=upto))
    run.credited_upto = upto
    return int(counted)


async def finish(session: AsyncSession, run_id: int, now: datetime) -> None:
    await transition(session, RUN_STATES, DividendRun, [run_id], RunStatus.CREDITED, values={"finished_at": now})
