"""What a shopper or a merchant's staff reads when a request is refused: Chinese text for each stable problem
`code`, and for each kind of field error. Problem answers carry it as `message` (and each field error as `hint`), so
every front end (the shopper pages, the console, a mini-program) shows the same words without a table of its own."""

from __future__ import annotations

from typing import Any

FALLBACK = "操作未成功，请稍后再试"

BY_CODE: dict[str, str] = {
    "unauthenticated": "请先登录",
    "csrf_failed": "页面已过期，请刷新后再试",
    "forbidden": "你的账号角色无权进行此操作",
    "invalid_request": "填写的内容有误，请检查后再提交",
    "invalid_page_link": "页面地址中的参数有误，请从后台菜单重新进入",
    "not_found": "内容不存在或已下架",
    "server_busy": "当前人数较多，请稍后再试",
    "database_unavailable": "系统正在切换，请稍后再试",
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
    "voucher_not_applicable": "这张礼券不能用于本订单",
    "voucher_unavailable": "本店暂不支持礼券",
    "voucher_not_found": "礼券不存在",
    "voucher_not_redeemable": "这张礼券已核销、已转赠或已过期，不能再用",
    "voucher_item_mismatch": "礼券不能用于这件商品",
    "order_not_found": "订单不存在",
    "order_changed": "订单状态已变化，请刷新后再试",
    "invalid_transition": "当前状态不能进行此操作，请刷新后查看最新状态",
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
    # the rest of what the shopper API can answer, and what staff meet in the same words
    "application_not_pending": "申请已处理，无需重复操作",
    "body_too_large": "提交的内容太大了",
    "campaign_not_editable": "活动进行中，不能修改",
    "cannot_demote_self": "不能修改自己的角色",
    "category_exists": "分类已存在",
    "category_not_found": "分类不存在",
    "coupon_limit_reached": "领取数量已达上限",
    "coupon_template_not_found": "优惠券不存在或已下架",
    "deposit_order_price_fixed": "定金订单的价格不能修改",
    "distributor_not_found": "分销员不存在",
    "dividend_run_exists": "本月分红已发放",
    "invalid_credentials": "账号或密码错误",
    "invalid_cursor": "翻页参数有误，请刷新后再试",
    "invalid_idempotency_key": "请求标识有误，请刷新后再试",
    "invalid_image": "图片格式不支持或已损坏",
    "invalid_notification": "支付通知无效",
    "invalid_settings": "活动设置有误",
    "invalid_share_target": "这个内容不能分享",
    "lint_blocked": "方案未通过合规检查，请按提示修改后再保存或上线",
    "login_throttled": "登录失败次数过多，请稍后再试",
    "merchant_not_found": "店铺不存在",
    "merchant_slug_taken": "店铺标识已被使用",
    "month_not_over": "本月尚未结束",
    "payment_mismatch": "支付金额与订单不符",
    "prize_rules_fixed": "活动开始后奖品规则不能修改",
    "product_not_found": "商品不存在或已下架",
    "refund_amount_mismatch": "退款金额有误",
    "refund_mismatch": "退款信息与订单不符",
    "refund_not_found": "退款不存在",
    "refund_not_pending": "退款已处理",
    "session_revoked": "登录已失效，请重新登录",
    "share_not_found": "分享链接无效或已失效",
    "sku_code_taken": "规格编码已被使用",
    "sku_not_found": "规格不存在",
    "staff_not_found": "员工不存在",
    "stock_below_zero": "库存不能小于 0",
    "store_not_found": "门店不存在",
    "task_not_found": "任务不存在",
    "total_below_zero": "改价后金额不能小于 0",
    "unknown_grade": "分销等级不存在",
    "unknown_provider": "支付方式不存在",
    "username_taken": "用户名已被使用",
    "withdrawal_not_found": "提现记录不存在",
    "withdrawal_not_requested": "提现已处理",
    # console: reviews moderation
    "review_not_found": "评价不存在",
    # a campaign's forecast (效果预测), kept to compare with its results
    "forecast_after_launch": "活动已上线，预测以上线前保存的为准，不能再修改",
    "forecast_not_found": "该活动还没有保存预测",
    "forecast_kind_not_simulated": "这类活动不通过好友传播，无法预测",
    "forecast_settings_out_of_range": "活动设置超出预测支持的范围，请调整后再试",
    # recommendations (为你推荐)
    "recommendation_anchor_required": "请指定要推荐相关商品的商品或订单",
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
    "float_parsing": "请填写数字",
    "float_type": "请填写数字",
    "literal_error": "请从给出的选项中选择",
}


def message_for(code: str) -> str:
    return BY_CODE.get(code, FALLBACK)


def hint_for(error: dict[str, Any]) -> str:
    """A field error's words, with the limit it broke ("最多 30 个字")."""
    template = BY_ERROR_TYPE.get(str(error.get("type")), "填写有误")
    # a float field's limit reads as a person writes it: 不能大于 1, not 1.0
    ctx = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template
