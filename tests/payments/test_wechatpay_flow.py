"""WeChat Pay end to end through the mall: prepay against a local stand-in of the gateway, a signed and
encrypted notification to /payments/notify/wechatpay pays the order once, and a refund goes out through
the worker and comes back as a notification."""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from fissionmall.core.clock import FrozenClock
from fissionmall.payments.tasks import execute_refund
from tests.payments.test_wechatpay_provider import (
    APIV3_KEY,
    APPID,
    MCHID,
    MERCHANT_KEY,
    MERCHANT_SERIAL,
    PLATFORM_KEY,
    PUB_KEY_ID,
    FakeWechatPay,
    _private_pem,
    _public_pem,
    _serve,
    _sign,
    encrypted,
)
from tests.support import problem, value

NOTIFY = "/payments/notify/wechatpay"


@pytest.fixture
def clock() -> FrozenClock:
    """Real time: the gateway signs its answers now, and they are checked against the mall's clock."""
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
def fake_gateway():
    fake = FakeWechatPay()
    server = _serve(fake)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings_overrides(tmp_path: Path, fake_gateway) -> dict[str, object]:
    private, public = tmp_path / "apiclient_key.pem", tmp_path / "pub_key.pem"
    private.write_text(_private_pem(MERCHANT_KEY))
    public.write_text(_public_pem(PLATFORM_KEY))
    return {"payment_provider": "wechatpay", "wechatpay_mchid": MCHID, "wechatpay_appid": APPID,
            "wechatpay_apiv3_key": APIV3_KEY, "wechatpay_private_key_path": private,
            "wechatpay_cert_serial_no": MERCHANT_SERIAL, "wechatpay_public_key_path": public,
            "wechatpay_public_key_id": PUB_KEY_ID, "wechatpay_api_base": fake_gateway[1]}


def notification(resource: dict, event_type: str, event_id: str, timestamp: int) -> tuple[dict[str, str], bytes]:
    """A notification as WeChat Pay sends it: encrypted resource, signed by the platform key."""
    body = json.dumps({"id": event_id, "create_time": "2026-01-01T20:00:01+08:00", "event_type": event_type,
                       "resource_type": "encrypt-resource", "resource": encrypted(resource)}).encode()
    nonce = secrets.token_hex(16)
    return {"Wechatpay-Timestamp": str(timestamp), "Wechatpay-Nonce": nonce, "Wechatpay-Serial": PUB_KEY_ID,
            "Wechatpay-Signature": _sign(PLATFORM_KEY, f"{timestamp}\n{nonce}\n".encode() + body + b"\n")}, body


def paid_resource(order: dict, transaction_id: str = "4200000000000000000000000001") -> dict:
    return {"mchid": MCHID, "appid": APPID, "out_trade_no": order["order_no"], "transaction_id": transaction_id,
            "trade_state": "SUCCESS", "amount": {"total": order["total_fen"], "currency": "CNY"}}


async def test_pay_and_refund_through_wechat_pay(client, mall, runtime, clock, fake_gateway):
    fake, _ = fake_gateway
    alice = await mall.shopper("alice")
    order = await mall.order(alice, quantity=2)
    fake.orders[order["order_no"]] = order["total_fen"]

    response = await client.post(f"/orders/{order['id']}/pay", headers=alice)
    assert response.status_code == 200, response.text
    params = response.json()["params"]
    assert response.json()["provider"] == "wechatpay"
    assert params["package"] == f"prepay_id=wx{order['order_no']}" and params["signType"] == "RSA"
    prepay = fake.requests[-1]["body"]
    assert (prepay["amount"]["total"], prepay["payer"]["openid"]) == (2000, "alice")

    now = int(clock.now().timestamp())
    headers, body = notification(paid_resource(order), "TRANSACTION.SUCCESS", "EV-pay-1", now)
    for _ in range(3):  # WeChat retries until acknowledged: applied once
        answer = await client.post(NOTIFY, content=body, headers=headers)
        assert answer.status_code == 200, answer.text
    paid = await mall.get_order(alice, order["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", 2000)

    stale, stale_body = notification(paid_resource(order), "TRANSACTION.SUCCESS", "EV-pay-2", now - 600)
    answer = await client.post(NOTIFY, content=stale_body, headers=stale)
    assert (answer.status_code, answer.json()["code"]) == (401, "invalid_notification")

    refund = await client.post(f"/admin/orders/{order['id']}/refunds", headers=await mall.staff("finance"),
                               json={"amount_fen": 500, "reason": "one box crushed"})
    assert refund.status_code == 201, refund.text
    await mall.work()
    refund_no = f"{order['order_no']}R1"
    assert fake.refunds[refund_no]["amount"]["refund"] == 500
    await execute_refund(runtime, {"refund_id": refund.json()["refunds"][0]["id"]})  # a retried job: the same refund
    # number, still one refund
    assert len(fake.refunds) == 1
    refund_resource = {"mchid": MCHID, "out_trade_no": order["order_no"], "out_refund_no": refund_no,
                       "transaction_id": "4200000000000000000000000001", "refund_id": "5000000000000000000000001",
                       "refund_status": "SUCCESS", "amount": {"total": 2000, "refund": 500}}
    headers, body = notification(refund_resource, "REFUND.SUCCESS", "EV-refund-1", now)
    assert (await client.post(NOTIFY, content=body, headers=headers)).status_code == 200
    done = await mall.get_order(alice, order["id"])
    assert (done["status"], done["refunded_fen"]) == ("to_ship", 500)


# --- sandbox self-confirmation -----------------------------------------------------------------------------


async def test_sandbox_self_confirmation_is_refused_when_the_sandbox_is_off(client, mall, runtime):
    """On a WeChat Pay server, even a payment row marked as the sandbox's (left from a test period) cannot be
    confirmed by its shopper: the sandbox does not exist there, and nothing is queued."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    payment_id = (await client.post(f"/orders/{order['id']}/pay", headers=alice)).json()["payment_id"]
    async with runtime.sessionmaker() as session:
        await session.execute(text("UPDATE payments SET provider = 'sandbox' WHERE id = :id"), {"id": payment_id})
        await session.commit()
    jobs = await value(runtime, "SELECT count(*) FROM outbox_jobs")

    problem(await client.post(f"/sandbox/payments/{payment_id}/complete", headers=alice), 404, "payment_not_found")
    assert await value(runtime, "SELECT count(*) FROM outbox_jobs") == jobs
    assert (await mall.get_order(alice, order["id"]))["status"] == "pending_payment"
