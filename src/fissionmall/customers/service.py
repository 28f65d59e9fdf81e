"""Shopper sign-in (dev and WeChat) and attribution of new customers to the share that brought them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, issue_token
from fissionmall.core.errors import Conflict, DomainError, Forbidden, NotFound
from fissionmall.core.events import record_event
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.runtime import Runtime
from fissionmall.customers import repository
from fissionmall.customers.hooks import HOOKS
from fissionmall.customers.models import Customer, SavedAddress
from fissionmall.customers.schemas import (
    ClientInfo,
    CustomerDetail,
    CustomerPage,
    CustomerSummary,
    DevLogin,
    SavedAddressIn,
    SavedAddressOut,
    ShopperToken,
    WechatLogin,
)
from fissionmall.merchants import service as merchants
from fissionmall.merchants.models import Merchant

MAX_ADDRESSES = 20
"""Entries in one shopper's address book."""


class WechatLoginFailed(DomainError):
    status = 401
    title = "WeChat login failed"


async def dev_login(session: AsyncSession, runtime: Runtime, body: DevLogin, client: ClientInfo) -> ShopperToken:
    if not runtime.settings.dev_login_enabled:
        raise Forbidden("dev_login_disabled", "dev login is disabled on this server")
    merchant = await merchants.merchant_by_slug(session, body.merchant_slug)
    return await _sign_in(session, runtime, merchant.id, body.openid, None, body.nickname, body.share_code, client)


async def wechat_login(session: AsyncSession, runtime: Runtime, body: WechatLogin, client: ClientInfo) -> ShopperToken:
    """Exchange a mini-program login code for the openid (jscode2session), then sign in."""
    merchant = await merchants.merchant_by_slug(session, body.merchant_slug)
    if not merchant.wechat_appid or not merchant.wechat_secret:
        raise WechatLoginFailed("wechat_not_configured", "this merchant has no mini-program credentials")
    answer = await _ask_wechat(runtime, "/sns/jscode2session", {
        "appid": merchant.wechat_appid, "secret": merchant.wechat_secret, "js_code": body.code,
        "grant_type": "authorization_code"})
    return await _sign_in(session, runtime, merchant.id, str(answer["openid"]), answer.get("unionid"),
                          body.nickname, body.share_code, client)


async def web_login(session: AsyncSession, runtime: Runtime, merchant: Merchant, code: str, share_code: str | None,
                    client: ClientInfo) -> ShopperToken:
    """The shopper pages opened in WeChat: exchange the web authorization code (snsapi_base, silent) for the
    official account's openid, then sign in."""
    if not merchant.wechat_oa_appid or not merchant.wechat_oa_secret:
        raise WechatLoginFailed("wechat_not_configured", "this merchant has no official account credentials")
    answer = await _ask_wechat(runtime, "/sns/oauth2/access_token", {
        "appid": merchant.wechat_oa_appid, "secret": merchant.wechat_oa_secret, "code": code,
        "grant_type": "authorization_code"})
    return await _sign_in(session, runtime, merchant.id, str(answer["openid"]), answer.get("unionid"), "",
                          share_code, client)


async def _ask_wechat(runtime: Runtime, path: str, params: dict[str, str]) -> dict[str, Any]:
    """One of WeChat's code exchanges: its answer when it names an openid; WechatLoginFailed otherwise."""
    try:
        async with runtime.http_client() as http:
            response = await http.get(f"{runtime.settings.wechat_api_base}{path}", params=params)
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise WechatLoginFailed("wechat_unreachable", f"WeChat did not answer: {type(exc).__name__}") from None
    if not isinstance(answer, dict) or answer.get("errcode") or not answer.get("openid"):
        message = answer.get("errmsg", "no openid") if isinstance(answer, dict) else "bad answer"
        raise WechatLoginFailed("wechat_code_rejected", f"WeChat refused the code: {message}")
    return answer


async def _sign_in(session: AsyncSession, runtime: Runtime, merchant_id: int, openid: str, unionid: str | None,
                   nickname: str, share_code: str | None, client: ClientInfo) -> ShopperToken:
    now = runtime.clock.now()
    attribution = await HOOKS.share_resolver().attribution(session, runtime.settings, merchant_id, share_code) \
        if share_code else None
    inviter_id, depth = (attribution.sharer_id, attribution.depth + 1) if attribution else (None, 0)
    new_id = await repository.insert_if_absent(
        session, merchant_id=merchant_id, openid=openid, unionid=unionid, nickname=nickname or openid[:12],
        avatar_url="", created_at=now, depth=depth, signup_device_id=client.device_id, signup_ip=client.ip,
        inviter_id=inviter_id, acquired_by_share_id=attribution.share_id if attribution else None,
    )
    if new_id is None:  # signed up before: who they are is read, not written
        customer = await repository.by_openid(session, merchant_id, openid)
        customer_id, is_new = customer.id, customer.first_paid_at is None
    else:
        customer_id, is_new = new_id, True
        await record_event(
            session, merchant_id=merchant_id, kind="register", at=now, actor_id=new_id, inviter_id=inviter_id,
            depth=depth, campaign_id=attribution.campaign_id if attribution else None, subject=("customer", new_id),
        )
    token = issue_token(runtime.settings, {"aud": "shopper", "sub": str(customer_id), "mid": merchant_id}, now=now)
    return ShopperToken(token=token, expires_in=runtime.settings.token_ttl_seconds, customer_id=customer_id,
                        is_new_customer=is_new)


async def get_customer(session: AsyncSession, merchant_id: int, customer_id: int) -> Customer:
    customer = await repository.by_id(session, merchant_id, customer_id)
    if customer is None:
        raise NotFound("customer_not_found", f"no customer {customer_id}")
    return customer


async def count_invited(session: AsyncSession, merchant_id: int, inviter_id: int) -> int:
    """Customers who signed up through this customer's links (an invite page's "friends joined")."""
    return await repository.count_invited(session, merchant_id, inviter_id)


async def friend_ids(session: AsyncSession, merchant_id: int, customer_id: int, limit: int = 1000) -> list[int]:
    """A customer's friends in the referral graph (好友): who brought them (their inviter) and whom they brought."""
    return await repository.friend_ids(session, merchant_id, customer_id, limit)


async def note_first_payment(session: AsyncSession, customer_id: int, at: datetime) -> tuple[bool, int | None]:
    """(whether this payment was the customer's first, who invited them)."""
    return await repository.mark_first_paid(session, customer_id, at)


async def device_used_before(session: AsyncSession, merchant_id: int, device_id: str | None, customer_id: int) -> bool:
    """Whether an account older than this customer's signed up on this device (F2: then the customer is not new)."""
    return bool(device_id) and await repository.device_seen_before(session, merchant_id, device_id or "", customer_id)


async def device_seen_before(session: AsyncSession, customer: Customer) -> bool:
    """Whether an earlier account of this merchant signed up from the same device (F2: then not new)."""
    if not customer.signup_device_id:
        return False
    return await repository.device_seen_before(session, customer.merchant_id, customer.signup_device_id,
                                               customer.id)


# --- the address book (收货地址) ---------------------------------------------------------------------------------

def _address_out(address: SavedAddress) -> SavedAddressOut:
    return SavedAddressOut(id=address.id, name=address.name, phone=address.phone, region=address.region,
                           detail=address.detail, is_default=address.is_default)


async def addresses(session: AsyncSession, shopper: Shopper) -> list[SavedAddressOut]:
    """The shopper's addresses, the default first."""
    return [_address_out(a) for a in await repository.addresses_of(session, shopper.merchant_id, shopper.customer_id)]


async def address(session: AsyncSession, shopper: Shopper, address_id: int) -> SavedAddressOut:
    return _address_out(await _require_address(session, shopper, address_id))


async def default_address(session: AsyncSession, shopper: Shopper) -> SavedAddressOut | None:
    """What checkout fills in first: the default address (the book keeps one whenever it has any)."""
    book = await addresses(session, shopper)
    return book[0] if book else None


async def add_address(session: AsyncSession, shopper: Shopper, body: SavedAddressIn, now: datetime) -> SavedAddressOut:
    await repository.lock_customer(session, shopper.customer_id)
    held = await repository.count_addresses(session, shopper.merchant_id, shopper.customer_id)
    if held >= MAX_ADDRESSES:
        raise Conflict("address_book_full", f"at most {MAX_ADDRESSES} addresses; delete one first")
    address = await repository.add_address(
        session, merchant_id=shopper.merchant_id, customer_id=shopper.customer_id, is_default=False, created_at=now,
        **body.model_dump(exclude={"is_default"}))
    if body.is_default or held == 0:
        await _make_default(session, shopper, address)
    return _address_out(address)


async def update_address(session: AsyncSession, shopper: Shopper, address_id: int,
                         body: SavedAddressIn) -> SavedAddressOut:
    """Change an address; is_default true makes it the default (false keeps the book's default where it is: there
    is always one)."""
    await repository.lock_customer(session, shopper.customer_id)
    address = await _require_address(session, shopper, address_id)
    for key, value in body.model_dump(exclude={"is_default"}).items():
        setattr(address, key, value)
    await session.flush()
    if body.is_default and not address.is_default:
        await _make_default(session, shopper, address)
    return _address_out(address)


async def delete_address(session: AsyncSession, shopper: Shopper, address_id: int) -> None:
    """Remove an address; when it was the default, the newest remaining one becomes the default."""
    await repository.lock_customer(session, shopper.customer_id)
    address = await _require_address(session, shopper, address_id)
    await repository.delete_address(session, address.id)
    if address.is_default:
        rest = await repository.addresses_of(session, shopper.merchant_id, shopper.customer_id)
        if rest:
            await _make_default(session, shopper, rest[0])


async def _require_address(session: AsyncSession, shopper: Shopper, address_id: int) -> SavedAddress:
    address = await repository.address_of(session, shopper.merchant_id, shopper.customer_id, address_id)
    if address is None:
        raise NotFound("address_not_found", f"no address {address_id} in this shopper's book")
    return address


async def _make_default(session: AsyncSession, shopper: Shopper, address: SavedAddress) -> None:
    await repository.make_default(session, shopper.merchant_id, shopper.customer_id, address.id)
    await session.refresh(address)


async def signups_by_day(session: AsyncSession, merchant_id: int, since: datetime) -> list[tuple[str, int, int]]:
    """(day in China's time, customers who signed up, how many through a share link) since `since`."""
    return await repository.new_customers_by_day(session, merchant_id, since)


# --- the merchant's view (admin API, console) -------------------------------------------------------------------

INVITED_SHOWN = 50


def summary(customer: Customer) -> CustomerSummary:
    return CustomerSummary(id=customer.id, nickname=customer.nickname, avatar_url=customer.avatar_url,
                           inviter_id=customer.inviter_id, depth=customer.depth, created_at=customer.created_at,
                           first_paid_at=customer.first_paid_at)


async def customer_page(session: AsyncSession, merchant_id: int, query: str | None, cursor: str | None,
                        limit: int) -> CustomerPage:
    """The merchant's customers newest first, narrowed by nickname (contains) or id."""
    found = await repository.customer_page(session, merchant_id, (query or "").strip() or None,
                                           parse_cursor(cursor), limit)
    return CustomerPage(items=[summary(c) for c in found],
                        next_cursor=str(found[-1].id) if len(found) == limit else None)


async def customer_detail(session: AsyncSession, merchant_id: int, customer_id: int) -> CustomerDetail:
    """A customer with who brought them and whom they brought (directly, and their whole subtree's size)."""
    customer = await get_customer(session, merchant_id, customer_id)
    inviter = await repository.by_id(session, merchant_id, customer.inviter_id) if customer.inviter_id else None
    invited = await repository.invited_by(session, merchant_id, customer.id, INVITED_SHOWN)
    return CustomerDetail(
        **summary(customer).model_dump(), inviter=summary(inviter) if inviter else None,
        invited_count=await repository.count_invited(session, merchant_id, customer.id),
        invited=[summary(c) for c in invited],
        subtree_size=await repository.subtree_size(session, merchant_id, customer.id))


async def matching_ids(session: AsyncSession, merchant_id: int, query: str, limit: int) -> list[int]:
    """The newest customers whose nickname contains `query` or whose id it is (an order search by customer)."""
    return await repository.matching_ids(session, merchant_id, query.strip(), limit)


async def summaries(session: AsyncSession, merchant_id: int, customer_ids: list[int]) -> dict[int, CustomerSummary]:
    """Customers by id, for a page of orders: one query."""
    return {c.id: summary(c) for c in await repository.by_ids(session, merchant_id, sorted(set(customer_ids)))}
