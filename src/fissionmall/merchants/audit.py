"""The merchant's audit log (操作日志): the writer every staff write goes through (`core/audit.py` calls it from the
request's transaction), each action's name in Chinese, and the log read back page by page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.audit import StaffWrite
from fissionmall.core.clock import days_between
from fissionmall.core.pagination import parse_cursor
from fissionmall.merchants import repository
from fissionmall.merchants.models import AuditEntry
from fissionmall.merchants.schemas import AuditEntryOut, AuditPage

ACTION_NAMES: dict[str, str] = {
    "staff.login": "登录",
    "staff.login_failed": "登录失败",
    "staff.logout": "退出登录",
    "staff.create": "添加员工",
    "staff.update": "修改员工",
    "PATCH /admin/merchant": "修改店铺设置",
    "POST /admin/stores": "添加门店",
    "PUT /admin/stores/{store_id}": "修改门店",
    "POST /admin/products": "添加商品",
    "PATCH /admin/products/{product_id}": "修改商品",
    "POST /admin/products/{product_id}/skus": "添加规格",
    "PATCH /admin/skus/{sku_id}": "修改规格",
    "POST /admin/categories": "添加分类",
    "POST /admin/media": "上传图片",
    "POST /admin/orders/{order_id}/ship": "订单发货",
    "POST /admin/orders/{order_id}/adjustments": "订单改价",
    "POST /admin/orders/{order_id}/refunds": "发起退款",
    "POST /admin/refunds/{refund_id}/approve": "同意退款",
    "POST /admin/refunds/{refund_id}/reject": "拒绝退款",
    "POST /admin/campaigns": "创建活动",
    "PATCH /admin/campaigns/{campaign_id}": "修改活动",
    "POST /admin/campaigns/{campaign_id}/lint": "检查活动规则",
    "POST /admin/campaigns/{campaign_id}/activate": "上线活动",
    "POST /admin/campaigns/{campaign_id}/pause": "暂停活动",
    "POST /admin/campaigns/{campaign_id}/end": "结束活动",
    "POST /admin/coupon-templates": "创建优惠券",
    "PATCH /admin/coupon-templates/{template_id}": "修改优惠券",
    "POST /admin/vouchers/redeem": "门店核销礼券",
    "POST /admin/withdrawals/{withdrawal_id}/approve": "同意提现",
    "POST /admin/withdrawals/{withdrawal_id}/reject": "拒绝提现",
    "PUT /admin/distribution": "修改分销设置",
    "PATCH /admin/distributors/{customer_id}": "调整分销员等级",
    "POST /admin/distributors/{customer_id}/{decision}": "审核分销员申请",
    "POST /admin/plans/lint": "检查奖励方案",
    "POST /admin/plans/presets/3+9/apply": "应用“3+9”方案",
    "PUT /admin/dividend": "修改分红方案",
    "POST /admin/dividend/runs": "计算月度分红",
    "PUT /admin/points": "修改积分规则",
    "PUT /admin/levels": "修改会员等级",
    "POST /admin/tasks": "添加任务",
    "PATCH /admin/tasks/{task_id}": "修改任务",
    "POST /admin/reviews/{review_id}/hide": "隐藏评价",
    "POST /admin/reviews/{review_id}/show": "恢复显示评价",
    "POST /admin/moderation/reviews/{review_id}/hide": "隐藏评价",
    "POST /admin/moderation/reviews/{review_id}/show": "恢复显示评价",
    "POST /admin/moderation/posts/{post_id}/hide": "隐藏帖子",
    "POST /admin/moderation/posts/{post_id}/show": "显示帖子",
    "POST /admin/moderation/comments/{comment_id}/hide": "隐藏评论",
    "POST /admin/moderation/comments/{comment_id}/show": "显示评论",
    "PUT /admin/community/settings": "修改社区审核规则",
}
"""Each action as a merchant calls it; an action not named here is shown by its route."""


def action_name(action: str) -> str:
    return ACTION_NAMES.get(action, action)


async def write_staff_write(session: AsyncSession, now: datetime, write: StaffWrite) -> None:
    """The generic row of one staff write (`core/audit.py`)."""
    staff = write.staff
    await repository.add_audit_entry(session, AuditEntry(
        merchant_id=staff.merchant_id, staff_id=staff.staff_id, action=write.action, subject=write.subject,
        detail=write.detail, source_ip=staff.ip, occurred_at=now))


CHINA = timezone(timedelta(hours=8))
"""The merchant's days, for the date filters."""


@dataclass(frozen=True)
class AuditFilter:
    staff_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    """Exclusive."""

    @classmethod
    def of_days(cls, *, staff_id: int | None = None, action: str | None = None, since: date | None = None,
                until: date | None = None) -> AuditFilter:
        """From the first day to the last, both whole (China time); the calendar's edges bound nothing."""
        start, end = days_between(since, until, CHINA)
        return cls(staff_id=staff_id, action=action or None, since=start, until=end)


async def audit_page(session: AsyncSession, merchant_id: int, where: AuditFilter, *, cursor: str | None,
                     limit: int) -> tuple[list[tuple[AuditEntry, str | None]], str | None]:
    """Newest first: each row with the username of who acted; the cursor of the next page (None on the last)."""
    found = await repository.audit_entries(session, merchant_id, staff_id=where.staff_id, action=where.action,
                                           since=where.since, until=where.until, before_id=parse_cursor(cursor),
                                           limit=limit)
    return found, str(found[-1][0].id) if len(found) == limit else None


def changes(detail: dict[str, Any]) -> list[tuple[str, Any, Any, bool]]:
    """What a row changed, key by key: (key, before, after, whether before is known), only the keys whose value
    differs from before (every key sent when nothing was noted before)."""
    before, after = detail.get("before"), detail.get("after")
    if not isinstance(after, dict):
        after = {} if after is None else {"": after}
    if not isinstance(before, dict):
        return [(key, None, value, False) for key, value in after.items()]
    return [(key, before.get(key), value, True) for key, value in after.items() if before.get(key) != value]


def entry_out(entry: AuditEntry, username: str | None) -> AuditEntryOut:
    return AuditEntryOut(id=entry.id, occurred_at=entry.occurred_at, staff_id=entry.staff_id, username=username,
                         action=entry.action, action_name=action_name(entry.action), subject=entry.subject,
                         detail=entry.detail, source_ip=entry.source_ip)


async def audit_log(session: AsyncSession, merchant_id: int, where: AuditFilter, *, cursor: str | None,
                    limit: int) -> AuditPage:
    found, next_cursor = await audit_page(session, merchant_id, where, cursor=cursor, limit=limit)
    return AuditPage(items=[entry_out(entry, username) for entry, username in found], next_cursor=next_cursor)
