"""What one customer does in each scenario, as the mini-program would: small async functions of
(caller, user, context). The same journeys run under the load driver and, once each, under the statement
capture (bench/capture.py), so the pgbench mirrors are taken from exactly what the load runs.

`user` carries the customer's id and token and the ids the scenario gave it (campaign, group, bargain …);
`context` carries what every journey shares (the merchant's slug, the sandbox signing key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from bench.wire import Reply

API = "/api/v1"
NOTIFY_PATH = f"{API}/payments/notify/sandbox"
ADDRESS = {"name": "压测用户", "phone": "13800000000", "region": "上海市", "detail": "南京西路 1 号"}


class Caller(Protocol):
    async def call(
        self, label: str, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply: ...


def ip_of(customer_id: int) -> str:
    """A distinct client address per customer, 256 to a /24, sent as X-Forwarded-For (uvicorn trusts it from
    127.0.0.1): velocity limits per IP range then see a crowd, not one NAT."""
    return f"10.{customer_id >> 16 & 255}.{customer_id >> 8 & 255}.{customer_id & 255}"


def shopper_headers(user: dict[str, Any], *, idempotent: bool = False) -> dict[str, str]:
    """What the app sends: its token, its own random device id, and an Idempotency-Key on writes that take one."""
    headers = {
        "Authorization": f"Bearer {user['token']}",
        "X-Device-Id": f"dev-{user['id']}",
        "X-Forwarded-For": ip_of(user["id"]),
    }
    if idempotent:
        headers["Idempotency-Key"] = secrets.token_hex(12)
    return headers


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


async def post(caller: Caller, label: str, path: str, user: dict[str, Any], body: Any = None) -> Reply:
    return await caller.call(
        label,
        "POST",
        API + path,
        body=_json(body) if body is not None else None,
        headers=shopper_headers(user, idempotent=True),
    )


def sandbox_headers(key: str, body: bytes) -> dict[str, str]:
    """The sandbox provider's signature, as docs/payments.md specifies it: base64(HMAC-SHA256(key,
    "timestamp\\nnonce\\nbody\\n")). Written here, not imported from src/: the driver plays the provider, a
    client of the mall, and must not load the server's code (which may be mid-edit while a run goes on)."""
    timestamp, nonce = str(int(datetime.now(UTC).timestamp())), secrets.token_hex(16)
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    signature = base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()
    return {"Sandbox-Timestamp": timestamp, "Sandbox-Nonce": nonce, "Sandbox-Signature": signature}


async def notify_paid(caller: Caller, label: str, pay: Reply, context: dict[str, Any]) -> Reply:
    """The provider's signed notification, as the sandbox's worker job would POST it (the real notify path)."""
    trade_no, amount = pay.data["params"]["out_trade_no"], pay.data["params"]["amount_fen"]
    body = _json(
        {
            "id": f"pay-{trade_no}",
            "event_type": "TRANSACTION.SUCCESS",
            "create_time": datetime.now(UTC).isoformat(),
            "resource": {"out_trade_no": trade_no, "transaction_id": f"sbx-{trade_no}", "amount_fen": amount},
        }
    )
    return await caller.call(
        label, "POST", NOTIFY_PATH, body=body, headers=sandbox_headers(context["sandbox_key"], body)
    )


async def group_buy(caller: Caller, user: dict[str, Any], context: dict[str, Any]) -> None:
    """Open a group (no target) or join one, then pay, then the provider confirms: three transactions."""
    campaign = {"kind": "group", "campaign_id": user["campaign_id"]}
    if user.get("group_id"):
        campaign["target_id"] = user["group_id"]
    order = await post(
        caller,
        "POST /orders",
        "/orders",
        user,
        {"items": [{"sku_id": user["sku_id"], "quantity": 1}], "address": ADDRESS, "campaign": campaign},
    )
    if order.status != 201:
        return
    pay = await post(caller, "POST /orders/{id}/pay", f"/orders/{order.data['id']}/pay", user)
    if pay.status == 200:
        await notify_paid(caller, "POST /payments/notify", pay, context)


async def buy_normal(caller: Caller, user: dict[str, Any], context: dict[str, Any]) -> None:
    """A plain order, paid: what brings a share-coupon packet."""
    order = await post(
        caller,
        "POST /orders",
        "/orders",
        user,
        {"items": [{"sku_id": user["sku_id"], "quantity": 1}], "address": ADDRESS},
    )
    if order.status == 201:
        pay = await post(caller, "POST /orders/{id}/pay", f"/orders/{order.data['id']}/pay", user)
        if pay.status == 200:
            await notify_paid(caller, "POST /payments/notify", pay, context)


async def sign_in_and_buy(caller: Caller, user: dict[str, Any], context: dict[str, Any]) -> None:
    """A newcomer's whole first order, five requests: sign in (a new customer), claim the shop's coupon, order one
    product with it, pay, and the provider's signed confirmation."""
    login = await caller.call(
        "POST /auth/dev-login",
        "POST",
        f"{API}/auth/dev-login",
        body=_json({"merchant_slug": context["merchant"], "openid": f"order-bench-{user['id']}"}),
        headers={"X-Device-Id": f"dev-{user['id']}", "X-Forwarded-For": ip_of(user["id"])},
    )
    if login.status != 200:
        return
    user = dict(user, token=login.data["token"])
    coupon = await post(caller, "POST /coupon-templates/{id}/claim", f"/coupon-templates/{user['template_id']}/claim",
                        user)
    if coupon.status != 201:
        return
    order = await post(
        caller,
        "POST /orders",
        "/orders",
        user,
        {"items": [{"sku_id": user["sku_id"], "quantity": 1}], "address": ADDRESS, "coupon_ids": [coupon.data["id"]]},
    )
    if order.status == 201:
        pay = await post(caller, "POST /orders/{id}/pay", f"/orders/{order.data['id']}/pay", user)
        if pay.status == 200:
            await notify_paid(caller, "POST /payments/notify", pay, context)


async def bargain_start(caller: Caller, user: dict[str, Any], context: dict[str, Any]) -> None:
    await post(caller, "POST /bargains", "/bargains", user, {"campaign_id": user["campaign_id"]})


async def bargain_help(caller: Caller, user: dict[str, Any], context: dict[str, Any]) -> None:
    await post(caller, "POST /bargains/{id}/helps", f"/bargains/{user['bargain_id']}/helps", user)


async def assist_open(caller: Caller, user: dict[str, Any], context: dict[str, Any]) -> None:
    await post(caller, "POST /assists", "/assists", user, {"campaign_id": user["campaign_id"]})


async def viral(caller: Caller, user: dict[str, Any], context: dict[str, Any]) -> None:
    """A link goes round a group chat: claim a coupon from the shared packet, help a friend's assist packet."""
    await post(caller, "POST /packets/{id}/claims", f"/packets/{user['packet_id']}/claims", user)
    await post(caller, "POST /assists/{id}/helps", f"/assists/{user['assist_id']}/helps", user)


async def browse(caller: Caller, user: dict[str, Any], context: dict[str, Any]) -> None:
    """A visitor without login: the product list, then one product's page."""
    merchant = context["merchant"]
    await caller.call("GET /products", "GET", f"{API}/products?merchant={merchant}&limit=20")
    await caller.call("GET /products/{id}", "GET", f"{API}/products/{user['product_id']}?merchant={merchant}")


Journey = Callable[[Caller, dict[str, Any], dict[str, Any]], Awaitable[None]]
JOURNEYS: dict[str, Journey] = {
    f.__name__: f
    for f in (group_buy, buy_normal, sign_in_and_buy, bargain_start, bargain_help, assist_open, viral, browse)
}
