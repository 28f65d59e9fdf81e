"""What a shopper reads when a request is refused: Chinese text for each stable problem `code`, and for each kind of
field error. Problem answers carry it as `message` (and each field error as `hint`), so every front end (the shopper
pages, a mini-program) shows the same words without a table of its own."""

from __future__ import annotations

from typing import Any

FALLBACK = "操作未成功，请稍后再试"

BY_CODE: dict[str, str] = {
    "unauthenticated": "请先登录",
    "csrf_failed": "页面已过期，请刷新后再试",
    "invalid_request": "填写的内容有误，请检查后再提交",
    "not_found": "内容不存在或已下架",
    "server_busy": "当前人数较多，请稍后再试",
    "dev_login_disabled": "体验登录已关闭",
    "wechat_not_configured": "商家尚未开通微信登录",
    "wechat_unreachable": "微信暂时无法连接，请稍后再试",
    "wechat_code_rejected": "微信登录未成功，请重新进入",
    "invalid_share_code": "分享链接无效或已失效",
    # campaigns a friend acts on: group buying, bargaining, assist packets and the help rules they share
    "campaign_not_found": "活动不存在或已结束",
    "campaign_not_live": "活动未开始或已结束",
    "campaign_sold_out": "活动名额已抢完",
    "campaign_limit_reached": "你参加本活动的次数已达上限",
    "group_not_found": "这个团不存在",
    "group_closed": "这个团已结束，可以发起新团或参加其他团",
    "group_full": "这个团已满员，可以发起新团或参加其他团",
    "already_in_group": "你已在这个团中",
    "new_customers_only": "这个团仅限新用户参加",
    "one_item_per_group_order": "拼团订单每次只能购买一件商品",
    "sku_not_in_campaign": "这个规格不参加本活动",
    "bargain_not_found": "砍价不存在",
    "bargain_complete": "已经砍到底价，不需要再砍了",
    "bargain_closed": "砍价已结束",
    "floor_not_reached": "砍到底价后才能购买",
    "bargain_in_order": "这个砍价已在订单中，请先支付或取消该订单",
    "bargain_item_mismatch": "砍价商品每次只能购买一件",
    "packet_not_found": "红包不存在",
    "packet_complete": "红包已经助力完成",
    "packet_closed": "红包已过期",
    "cannot_help_self": "不能给自己助力，分享给好友吧",
    "new_helpers_only": "仅限新用户助力",
    "already_helped": "你已经助力过了",
    "help_limit_reached": "今天的助力次数已用完，明天再来吧",
    "velocity_limited": "操作太频繁，请稍后再试",
    "idempotency_key_reused": "请求重复，请刷新页面后再试",
}
"""Filled for every code a shopper can meet; a code missing here shows FALLBACK (tests/core/test_messages.py lists
the codes the shopper API can answer and checks each has its words)."""

BY_ERROR_TYPE: dict[str, str] = {
    "missing": "必填",
    "string_too_short": "请填写",
    "string_too_long": "最多 {max_length} 个字",
    "string_pattern_mismatch": "格式不正确",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "必须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "必须小于 {lt}",
    "int_parsing": "请填写整数",
    "int_type": "请填写整数",
    "too_short": "至少选择 {min_length} 项",
    "too_long": "最多选择 {max_length} 项",
    "value_error": "填写有误",
}


def message_for(code: str) -> str:
    return BY_CODE.get(code, FALLBACK)


def hint_for(error: dict[str, Any]) -> str:
    """A field error's words, with the limit it broke ("最多 30 个字")."""
    template = BY_ERROR_TYPE.get(str(error.get("type")), "填写有误")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return template
