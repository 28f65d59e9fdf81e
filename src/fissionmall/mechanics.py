"""The one list of campaign mechanics, and `install()`, which fills the lower layers' registries from it.

App, worker and command line call install() once before serving; nothing registers itself by being imported.
"""

from __future__ import annotations

from fissionmall.campaigns import mechanic
from fissionmall.campaigns.assist import service as assist
from fissionmall.campaigns.bargain import service as bargain
from fissionmall.campaigns.giftcards import service as giftcards
from fissionmall.campaigns.groupbuy import service as groupbuy
from fissionmall.campaigns.helping import service as helping
from fissionmall.campaigns.invites import service as invites
from fissionmall.campaigns.mechanic import Mechanic
from fissionmall.campaigns.packets import service as packets
from fissionmall.campaigns.pointsmall import service as pointsmall
from fissionmall.customers import hooks as customer_hooks
from fissionmall.logistics import service as logistics
from fissionmall.loyalty.points import service as points
from fissionmall.orders import hooks as order_hooks
from fissionmall.orders import service as orders
from fissionmall.sharing import service as sharing
from fissionmall.sharing.targets import TARGETS

MECHANICS: tuple[Mechanic, ...] = (
    groupbuy.MECHANIC,
    bargain.MECHANIC,
    assist.MECHANIC,
    packets.SHARE_COUPON_MECHANIC,
    packets.CREDIT_MECHANIC,
    giftcards.MECHANIC,
    invites.MECHANIC,
    pointsmall.MECHANIC,
)


def install() -> None:
    """Campaign kinds, order hooks (mechanics, vouchers, points), share targets (products, orders, check-in
    streaks and the mechanics') and sign-in's share resolver; idempotent."""
    hooks = order_hooks.HOOKS
    hooks.points = points
    hooks.shipments = logistics.TRACKER
    hooks.mechanics[helping.GOODS_ORDER_KIND] = helping.GOODS_ORDERS
    customer_hooks.HOOKS.shares = sharing
    for target in (sharing.PRODUCT, orders.SHARE_TARGET, points.SHARE_TARGET):
        TARGETS[target.target_type] = target
    for each in MECHANICS:
        mechanic.KINDS[each.kind] = each
        if each.orders is not None:
            hooks.mechanics[each.kind] = each.orders
        if each.vouchers is not None:
            hooks.vouchers = each.vouchers
        if each.share_target is not None:
            TARGETS[each.share_target.target_type] = each.share_target
