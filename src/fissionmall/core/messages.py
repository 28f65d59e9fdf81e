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
    "packet_closed": "红包已过期或活动已结束",
    "cannot_help_self": "不能给自己助力，分享给好友吧",
    "new_helpers_only": "仅限新用户助力",
    "already_helped": "你已经参与过了，每人限一次",
    "help_limit_reached": "今天的助力次数已用完，明天再来吧",
    "velocity_limited": "操作太频繁，请稍后再试",
    "idempotency_key_reused": "请求重复，请刷新页面后再试",
    # coupon packets, gift vouchers, invites, the points mall
    "packet_empty": "手慢了，红包已被领完",
    "customer_not_found": "用户不存在",
    "voucher_not_sendable": "这张礼券现在不能赠送",
    "voucher_named": "记名礼券仅限本人使用，不能赠送",
    "voucher_claim_refused": "礼券已被领取，或领取链接已失效",
    "coupon_out_of_stock": "优惠券已兑完",
    "coupon_not_claimable": "优惠券暂不可兑换",
    "address_required": "请填写收货地址",
    "wrong_item": "这件商品需单独兑换",
    "points_not_with_points_mall": "积分商城商品不能再用积分抵扣",
    # 我的: points, levels, dividend, distribution
    "already_checked_in": "今天已经签到过了，明天再来吧",
    "levels_not_configured": "本店暂未开通会员等级",
    "dividend_not_configured": "本店暂未开通分红",
    "distribution_not_configured": "本店暂未开通分销",
    "invalid_id_number": "身份证号码有误，请核对（须为本人 18 位身份证号，年满 18 周岁）",
    "identity_required": "提现前请先完成实名认证",
    "below_minimum": "提现金额低于最低提现金额",
    "insufficient_commission": "可提现佣金不足",
    # buying: checkout, payment, orders, refunds, reviews, the address book
    "sku_unavailable": "该规格已下架或不存在",
    "out_of_stock": "库存不足，请减少数量或选择其他规格",
    "unknown_campaign_kind": "活动不存在或已结束",
    "benefits_not_with_deposit": "定金订单不能使用优惠券、积分或余额",
    "benefit_exceeds_total": "抵扣金额超过了应付金额",
    "coupon_not_applicable": "这张优惠券不能用于本订单",
    "coupon_threshold_not_met": "未达到优惠券的使用门槛",
    "coupons_not_stackable": "这张优惠券不能与其他优惠券同时使用",
    "coupons_not_with_campaign": "活动商品不能使用优惠券",
    "coupon_unavailable": "优惠券已使用或已过期",
    "points_not_configured": "本店暂未开通积分抵扣",
    "points_too_few": "积分太少，不足以抵扣 1 分钱",
    "points_over_limit": "积分抵扣超过了本店允许的比例",
    "insufficient_points": "积分不足",
    "insufficient_credit": "余额不足",
    "voucher_not_applicable": "这张礼品卡不能用于本订单",
    "voucher_unavailable": "本店暂不支持礼品卡",
    "voucher_not_found": "礼品卡不存在",
    "voucher_not_redeemable": "礼品卡已使用或已过期",
    "voucher_item_mismatch": "礼品卡不能用于这件商品",
    "order_not_found": "订单不存在",
    "order_changed": "订单状态已变化，请刷新后再试",
    "invalid_transition": "订单当前状态不能进行此操作",
    "invalid_status": "订单状态有误",
    "payment_deadline_passed": "已超过支付时间，订单已关闭",
    "payment_started": "支付已发起，请稍候",
    "payment_not_found": "支付单不存在",
    "refund_exceeds_paid": "退款金额超过了可退金额",
    "refund_exceeds_line": "退款金额超过了这件商品的可退金额",
    "line_not_in_order": "订单中没有这件商品",
    "line_refunded": "这件商品已全部退款",
    "refund_in_progress": "已有退款正在处理中",
    "refund_by_merchant": "该订单的退款由商家处理",
    "after_sale_closed": "已超过售后期限",
    "already_reviewed": "已经评价过了",
    "not_reviewable": "确认收货后才能评价",
    "product_not_in_order": "订单中没有这件商品",
    "address_book_full": "最多保存 20 个地址，请先删除不用的地址",
    "address_not_found": "地址不存在",
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
