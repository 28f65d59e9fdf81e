"""Every query of membership levels: the plan, and every member's level evaluated in one statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import insert_ignoring_conflicts, utc_times
from fissionmall.loyalty.levels.models import LevelPlan, MemberLevel

_LEVEL_PLAN = select(LevelPlan).where(LevelPlan.merchant_id == bindparam("merchant_id")).execution_options(
    populate_existing=True)


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
    statement = utc_times(text(f"""
INSERT INTO member_levels (merchant_id, customer_id, level, spend_fen, evaluated_at)
SELECT CAST(:merchant_id AS BIGINT), customer_id, {level}, spend_fen, :now FROM (
  SELECT customer_id, CAST(SUM(paid_fen - refunded_fen) AS BIGINT) AS spend_fen FROM orders
  WHERE merchant_id = :merchant_id AND paid_fen > 0 {window} GROUP BY customer_id
) AS spend WHERE true
ON CONFLICT (customer_id, merchant_id) DO UPDATE SET level = excluded.level, spend_fen = excluded.spend_fen,
  evaluated_at = excluded.evaluated_at"""), "now", *(("start", "end") if start else ()))
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
