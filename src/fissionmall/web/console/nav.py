"""The console's menu: each entry shown only to the roles whose permission opens it (the API refuses the others
anyway)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    path: str
    title: str
    permission: str
    """What the page needs to be opened; what it lets one change may need more (the page hides those forms)."""


NAV: tuple[NavItem, ...] = (
    NavItem("/console", "概览", "orders.read"),
    NavItem("/console/products", "商品", "orders.read"),
    NavItem("/console/campaigns", "营销活动", "orders.read"),
    NavItem("/console/orders", "订单", "orders.read"),
    NavItem("/console/customers", "客户", "orders.read"),
    NavItem("/console/distribution", "分销", "orders.read"),
    NavItem("/console/loyalty", "会员与积分", "orders.read"),
    NavItem("/console/counter", "门店核销", "orders.ship"),
    NavItem("/console/reviews", "评价管理", "reviews.moderate"),
    NavItem("/console/moderation", "社区审核", "reviews.moderate"),
    NavItem("/console/staff", "员工", "staff.write"),
    NavItem("/console/audit", "操作日志", "audit.read"),
)

KIND_NAMES = {"group": "拼团", "bargain": "砍价", "assist": "助力拆红包", "share_coupon": "分享领券红包",
              "credit": "社交立减金", "gift": "礼券赠送", "invite": "邀请有礼", "points_mall": "积分商城"}
"""Each campaign kind as a merchant calls it."""
