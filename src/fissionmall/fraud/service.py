"""Who is acting, and how risky they look: what every grant of cash value asks first (F2–F4)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper
from fissionmall.core.runtime import Runtime
from fissionmall.customers import service as customers
from fissionmall.customers.models import Customer
from fissionmall.customers.schemas import ClientInfo
from fissionmall.fraud.risk import HIGH_RISK, RiskChecker, RulesRiskChecker, WeChatRiskChecker
from fissionmall.fraud.schemas import Actor
from fissionmall.merchants import service as merchants

_RULES = RulesRiskChecker()
_WECHAT: dict[str, WeChatRiskChecker] = {}


async def actor(session: AsyncSession, shopper: Shopper, client: ClientInfo) -> Actor:
    """The shopper making this request, from this device and address."""
    customer = await customers.get_customer(session, shopper.merchant_id, shopper.customer_id)
    return actor_of(customer, client.device_id, client.ip)


def actor_of(customer: Customer, device_id: str | None, ip: str | None) -> Actor:
    """A customer acting from where they were last seen (a packet's opening, their signup …)."""
    return Actor(merchant_id=customer.merchant_id, customer_id=customer.id, openid=customer.openid,
                 created_at=customer.created_at, is_new=customer.first_paid_at is None, device_id=device_id, ip=ip,
                 signup_device_id=customer.signup_device_id)


async def checker_for(session: AsyncSession, merchant_id: int) -> RiskChecker:
    """WeChat's risk rank where the merchant has mini-program credentials, the rules otherwise."""
    merchant = await merchants.merchant_by_id(session, merchant_id)
    if not merchant.wechat_appid or not merchant.wechat_secret:
        return _RULES
    key = f"{merchant.wechat_appid}:{merchant.wechat_secret}"
    if key not in _WECHAT:
        _WECHAT[key] = WeChatRiskChecker(merchant.wechat_appid, merchant.wechat_secret, _RULES)
    return _WECHAT[key]


async def risk_rank(session: AsyncSession, runtime: Runtime, who: Actor) -> int:
    return await (await checker_for(session, who.merchant_id)).rank(runtime, who)


async def judge_friend(runtime: Runtime, friend: Customer, *, must_be_new: bool) -> str | None:
    """Whether what a friend did may earn their inviter anything of value: "not_new" when `must_be_new` and an
    earlier account used the friend's device (F2), "high_risk" by the risk check (F4), else None. Reads in a short
    transaction of its own; the risk check, a network call, runs outside any."""
    async with runtime.sessionmaker() as session:
        repeat_device = must_be_new and await customers.device_seen_before(session, friend)
        checker = await checker_for(session, friend.merchant_id)
    if repeat_device:
        return "not_new"
    rank = await checker.rank(runtime, actor_of(friend, friend.signup_device_id, friend.signup_ip))
    return "high_risk" if rank >= HIGH_RISK else None
