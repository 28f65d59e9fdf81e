"""The audit log page (操作日志): who did what, when, from where, newest first, each change shown as before → after
(only the keys that changed). Filters by staff member, action and days; read straight from the merchants domain."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from fissionmall.core.deps import SessionDep
from fissionmall.core.pagination import row_id_in
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import audit
from fissionmall.merchants import service as merchants
from fissionmall.web.console.session import ROLE_NAMES, Console, console_page, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
AuditPageReader = Annotated[Console, Depends(console_page("audit.read"))]

PAGE = 30
LOGIN_REASONS = {"wrong_password": "密码错误", "unknown_account": "账号不存在", "inactive": "账号已停用",
                 "throttled": "尝试过多，已限制"}


FIELD_NAMES = {"name": "名称", "username": "账号", "role": "角色", "active": "启用", "reason": "原因",
               "carrier": "快递公司", "tracking_no": "运单号", "title": "标题", "status": "状态", "stock": "库存",
               "price_fen": "价格（分）", "shipping_fee_fen": "运费（分）", "settings": "活动设置",
               "password": "密码", "hidden": "已隐藏", "grade": "等级", "enabled": "开启"}
"""Field names a merchant reads often; any other is shown as the API names it."""


def shown(value: Any) -> str:
    """A value as a merchant reads it: text as it is, 是/否 for switches, anything nested as compact JSON."""
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def change_lines(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """Each changed key: its before (when known) and after, as text; then what else the row says (a failed
    sign-in's reason, a password changed)."""
    def said(key: str, value: Any) -> str:
        return ROLE_NAMES.get(value, value) if key == "role" and isinstance(value, str) else shown(value)

    lines = [{"key": FIELD_NAMES.get(key, key), "before": said(key, before) if known else None,
              "after": said(key, after)} for key, before, after, known in audit.changes(detail)]
    if "after" not in detail and isinstance(detail.get("before"), dict):
        lines += [{"key": FIELD_NAMES.get(key, key), "before": said(key, value), "after": None}
                  for key, value in detail["before"].items()]
    for key, value in detail.items():
        if key in ("before", "after"):
            continue
        words = LOGIN_REASONS.get(value, value) if key == "reason" else "是" if value is True else value
        lines.append({"key": {"reason": "原因", "password_changed": "已重置密码"}.get(key, key), "before": None,
                      "after": shown(words)})
    return lines


@router.get("/console/audit", response_class=HTMLResponse)
async def audit_log(request: Request, console: AuditPageReader, session: SessionDep,
                    staff_id: str = "", action: str = Query("", max_length=120), since: str = "", until: str = "",
                    cursor: str | None = None) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    where = audit.AuditFilter.of_days(staff_id=row_id_in(staff_id), action=action or None,
                                      since=_day(since), until=_day(until))
    found, next_cursor = await audit.audit_page(session, merchant_id, where, cursor=cursor, limit=PAGE)
    entries = [{"entry": entry, "username": username, "name": audit.action_name(entry.action),
                "lines": change_lines(entry.detail)} for entry, username in found]
    query = urlencode({"staff_id": staff_id, "action": action, "since": since, "until": until})
    return render(request, "console/audit.html", console, {
        "section": "/console/audit", "entries": entries, "next_cursor": next_cursor, "query": query,
        "members": await merchants.list_staff(session, merchant_id), "actions": audit.ACTION_NAMES,
        "role_names": ROLE_NAMES, "filters": {"staff_id": staff_id, "action": action, "since": since,
                                              "until": until}})


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
