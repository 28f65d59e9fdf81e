"""WeChat Pay v3 provider: notifications built the way WeChat builds them, and a local stand-in gateway."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from starlette.datastructures import Headers

from fissionmall.core.clock import FrozenClock
from fissionmall.core.payment_provider import InvalidNotification, PrepayRequest, RefundRequest
from fissionmall.payments.providers.wechatpay import PaymentProviderError, WechatPayConfig, WechatPayProvider

pytestmark = pytest.mark.backend_free

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
APIV3_KEY = "a12d3924fd499edac8a5efc4e2b3c0f1"
MERCHANT_SERIAL = "444F4864EA9B34415A6B2D8C1E3F7A90B5C6D7E8"
PUB_KEY_ID = "PUB_KEY_ID_0119000001092024101600000000000001"
NOTIFY_URL = "https://mall.example.com/payments/wechatpay/notify"

MERCHANT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PLATFORM_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ROGUE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_pem(key: RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_pem(key: RSAPrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _sign(key: RSAPrivateKey, message: str | bytes) -> str:
    data = message.encode() if isinstance(message, str) else message
    return base64.b64encode(key.sign(data, PKCS1v15(), SHA256())).decode()


def _verifies(key: RSAPublicKey, signature: str, message: str) -> bool:
    try:
        key.verify(base64.b64decode(signature), message.encode(), PKCS1v15(), SHA256())
    except InvalidSignature:
        return False
    return True


CONFIG = WechatPayConfig(
    mchid=MCHID,
    appid=APPID,
    apiv3_key=APIV3_KEY,
    merchant_private_key_pem=_private_pem(MERCHANT_KEY),
    merchant_cert_serial_no=MERCHANT_SERIAL,
    platform_public_key_pem=_public_pem(PLATFORM_KEY),
    platform_public_key_id=PUB_KEY_ID,
    notify_url=NOTIFY_URL,
)
CLOCK = FrozenClock()
NOW_TS = int(CLOCK.now().timestamp())


# --- notifications, built as WeChat builds them -------------------------------------------------------

PAYMENT = {
    "mchid": MCHID,
    "appid": APPID,
    "out_trade_no": "FM20260101000001",
    "transaction_id": "4200001234202601011234567890",
    "trade_type": "JSAPI",
    "trade_state": "SUCCESS",
    "trade_state_desc": "支付成功",
    "bank_type": "CMC",
    "success_time": "2026-01-01T20:00:00+08:00",
    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "amount": {"total": 12345, "payer_total": 12000, "currency": "CNY", "payer_currency": "CNY"},
}
REFUND = {
    "mchid": MCHID,
    "out_trade_no": "FM20260101000001",
    "transaction_id": "4200001234202601011234567890",
    "out_refund_no": "RF-FM20260101000001-1",
    "refund_id": "50000000382019052709732678859",
    "refund_status": "SUCCESS",
    "success_time": "2026-01-02T10:00:00+08:00",
    "user_received_account": "招商银行信用卡0403",
    "amount": {"total": 12345, "refund": 2345, "payer_total": 12000, "payer_refund": 2345},
}


def encrypted(resource: dict[str, Any], key: str = APIV3_KEY) -> dict[str, str]:
    nonce, associated = secrets.token_hex(6), "transaction"
    plain = json.dumps(resource).encode()
    ciphertext = AESGCM(key.encode()).encrypt(nonce.encode(), plain, associated.encode())
    return {
        "original_type": "transaction",
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "associated_data": associated,
        "nonce": nonce,
    }


def notification(
    resource: dict[str, Any],
    event_type: str = "TRANSACTION.SUCCESS",
    *,
    timestamp: int = NOW_TS,
    serial: str = PUB_KEY_ID,
    signer: RSAPrivateKey = PLATFORM_KEY,
) -> tuple[dict[str, str], bytes]:
    envelope = {
        "id": "EV-018fa3e1-5c0b-5d5a-9b1f-5c0b8c4b1e2a",
        "create_time": "2026-01-01T20:00:01+08:00",
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "支付成功",
        "resource": resource,
    }
    body = json.dumps(envelope, ensure_ascii=False).encode()
    nonce = secrets.token_hex(16)
    headers = {
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": _sign(signer, f"{timestamp}\n{nonce}\n".encode() + body + b"\n"),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    return headers, body


@pytest.fixture
def provider() -> WechatPayProvider:
    return WechatPayProvider(CONFIG, now=CLOCK.now)


def test_payment_notification_decodes(provider: WechatPayProvider) -> None:
    headers, body = notification(encrypted(PAYMENT))
    notice = provider.parse_notification(headers, body)
    assert notice.event_id == "EV-018fa3e1-5c0b-5d5a-9b1f-5c0b8c4b1e2a"
    assert notice.kind == "payment"
    assert notice.succeeded
    assert notice.out_trade_no == "FM20260101000001"
    assert notice.out_refund_no is None
    assert notice.transaction_id == "4200001234202601011234567890"
    assert notice.amount_fen == 12345  # the order total, not what the payer paid after coupons


def test_headers_are_looked_up_case_insensitively(provider: WechatPayProvider) -> None:
    headers, body = notification(encrypted(PAYMENT))
    lowered = {k.lower(): v for k, v in headers.items()}
    assert provider.parse_notification(lowered, body).succeeded
    assert provider.parse_notification(Headers(headers=headers), body).succeeded


@pytest.mark.parametrize(
    ("event_type", "status", "succeeded"),
    [
        ("REFUND.SUCCESS", "SUCCESS", True),
        ("REFUND.ABNORMAL", "ABNORMAL", False),
        ("REFUND.CLOSED", "CLOSED", False),
    ],
)
def test_refund_notification_decodes(
    provider: WechatPayProvider, event_type: str, status: str, succeeded: bool
) -> None:
    headers, body = notification(encrypted({**REFUND, "refund_status": status}), event_type)
    notice = provider.parse_notification(headers, body)
    assert notice.kind == "refund"
    assert notice.succeeded is succeeded
    assert notice.out_trade_no == "FM20260101000001"
    assert notice.out_refund_no == "RF-FM20260101000001-1"
    assert notice.transaction_id == "4200001234202601011234567890"
    assert notice.amount_fen == 2345


def test_timestamp_just_inside_the_window_is_accepted(provider: WechatPayProvider) -> None:
    for offset in (-299, 299):
        headers, body = notification(encrypted(PAYMENT), timestamp=NOW_TS + offset)
        assert provider.parse_notification(headers, body).succeeded


def _tampered() -> tuple[dict[str, str], bytes]:
    headers, body = notification(encrypted(PAYMENT))
    return headers, body.replace(b"EV-018fa3e1", b"EV-018fa3e2")


def _without(header: str) -> tuple[dict[str, str], bytes]:
    headers, body = notification(encrypted(PAYMENT))
    return {k: v for k, v in headers.items() if k != header}, body


def _resigned(body: bytes) -> tuple[dict[str, str], bytes]:
    """A body WeChat's key really signed, so only the content check can catch it."""
    nonce = secrets.token_hex(16)
    signature = _sign(PLATFORM_KEY, f"{NOW_TS}\n{nonce}\n".encode() + body + b"\n")
    headers = {"Wechatpay-Timestamp": str(NOW_TS), "Wechatpay-Nonce": nonce,
               "Wechatpay-Signature": signature, "Wechatpay-Serial": PUB_KEY_ID}
    return headers, body


REJECTED = {
    "tampered body": (_tampered, "bad signature"),
    "wrong signer": (lambda: notification(encrypted(PAYMENT), signer=ROGUE_KEY), "bad signature"),
    "signature not base64": (
        lambda: ({**notification(encrypted(PAYMENT))[0], "Wechatpay-Signature": "%%%"},
                 notification(encrypted(PAYMENT))[1]),
        "bad signature",
    ),
    "wrong serial": (lambda: notification(encrypted(PAYMENT), serial="PUB_KEY_ID_OTHER"), "serial"),
    "6 minutes old": (lambda: notification(encrypted(PAYMENT), timestamp=NOW_TS - 360), "timestamp"),
    "6 minutes ahead": (lambda: notification(encrypted(PAYMENT), timestamp=NOW_TS + 360), "timestamp"),
    "missing signature": (lambda: _without("Wechatpay-Signature"), "missing header"),
    "missing timestamp": (lambda: _without("Wechatpay-Timestamp"), "missing header"),
    "missing nonce": (lambda: _without("Wechatpay-Nonce"), "missing header"),
    "missing serial": (lambda: _without("Wechatpay-Serial"), "missing header"),
    "wrong mchid": (lambda: notification(encrypted({**PAYMENT, "mchid": "1900000999"})), "mchid"),
    "wrong appid": (lambda: notification(encrypted({**PAYMENT, "appid": "wx0000000000000000"})), "appid"),
    "refund for another merchant": (
        lambda: notification(encrypted({**REFUND, "mchid": "1900000999"}), "REFUND.SUCCESS"),
        "mchid",
    ),
    "garbage ciphertext": (
        lambda: notification({**encrypted(PAYMENT), "ciphertext": base64.b64encode(os.urandom(64)).decode()}),
        "undecryptable",
    ),
    "encrypted with another key": (
        lambda: notification(encrypted(PAYMENT, key="b" * 32)),
        "undecryptable",
    ),
    "unknown event type": (lambda: notification(encrypted(PAYMENT), "TRANSACTION.FAIL"), "unknown event"),
    "malformed json": (lambda: _resigned(b'{"id": "EV-1", "event_type": '), "malformed"),
    "amount missing": (
        lambda: notification(encrypted({k: v for k, v in PAYMENT.items() if k != "amount"})),
        "malformed resource",
    ),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_suspicious_notifications_are_rejected(provider: WechatPayProvider, case: str) -> None:
    build, reason = REJECTED[case]
    headers, body = build()
    with pytest.raises(InvalidNotification) as caught:
        provider.parse_notification(headers, body)
    assert reason in caught.value.reason


def test_config_refuses_a_short_apiv3_key() -> None:
    with pytest.raises(ValueError, match="32"):
        replace(CONFIG, apiv3_key="too-short")


# --- a local stand-in for api.mch.weixin.qq.com -----------------------------------------------------------

AUTH = re.compile(r'^WECHATPAY2-SHA256-RSA2048 (.+)$')


class FakeWechatPay:
    """Answers like the gateway: checks the merchant's signature, remembers refunds, signs its answers."""

    def __init__(self) -> None:
        self.orders = {"FM20260101000001": 12345}
        self.paid = {"FM-ALREADY-PAID"}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.answer_signer = PLATFORM_KEY
        self.repeat_answer = "same refund"

    def authorized(self, method: str, path: str, authorization: str, body: str) -> bool:
        match = AUTH.match(authorization)
        if not match:
            return False
        fields = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if fields.get("mchid") != MCHID or fields.get("serial_no") != MERCHANT_SERIAL:
            return False
        if abs(time.time() - int(fields["timestamp"])) > 300:
            return False
        message = f"{method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n"
        return _verifies(MERCHANT_KEY.public_key(), fields["signature"], message)

    def answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v3/pay/transactions/jsapi":
            if body["out_trade_no"] in self.paid:
                return 400, {"code": "ORDERPAID", "message": "该订单已支付"}
            return 200, {"prepay_id": f"wx{body['out_trade_no']}"}
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            return self.refund(body)
        if method == "GET" and path.startswith("/v3/refund/domestic/refunds/"):
            found = self.refunds.get(path.rsplit("/", 1)[1])
            if found is None:
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}
            return 200, found
        return 404, {"code": "NOT_FOUND", "message": "no such API"}

    def refund(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body["out_trade_no"] not in self.orders:
            return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
        existing = self.refunds.get(body["out_refund_no"])
        if existing is not None:
            if existing["amount"]["refund"] != body["amount"]["refund"]:
                return 400, {"code": "INVALID_REQUEST", "message": "请求内容和上次请求不一致"}
            if self.repeat_answer == "already refunded":
                return 400, {"code": "INVALID_REQUEST", "message": "订单已全额退款"}
            return 200, existing
        refunded = sum(r["amount"]["refund"] for r in self.refunds.values())
        if refunded + body["amount"]["refund"] > self.orders[body["out_trade_no"]]:
            return 400, {"code": "INVALID_REQUEST", "message": "申请退款金额超过订单可退金额"}
        record = {
            "refund_id": f"5000{len(self.refunds):026d}",
            "out_refund_no": body["out_refund_no"],
            "out_trade_no": body["out_trade_no"],
            "status": "PROCESSING",
            "amount": {**body["amount"], "payer_refund": body["amount"]["refund"]},
        }
        self.refunds[body["out_refund_no"]] = record
        return 200, record


def _serve(fake: FakeWechatPay) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            fake.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                  "body": json.loads(raw) if raw else None})
            if not fake.authorized(self.command, self.path, self.headers.get("Authorization", ""), raw):
                status, answer = 401, {"code": "SIGN_ERROR", "message": "签名错误"}
            else:
                status, answer = fake.answer(self.command, self.path, json.loads(raw) if raw else {})
            payload = json.dumps(answer, ensure_ascii=False).encode()
            timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
            signature = _sign(fake.answer_signer, f"{timestamp}\n{nonce}\n".encode() + payload + b"\n")
            self.send_response(status)
            for name, value in (("Content-Type", "application/json; charset=utf-8"),
                                ("Content-Length", str(len(payload))), ("Wechatpay-Timestamp", timestamp),
                                ("Wechatpay-Nonce", nonce), ("Wechatpay-Signature", signature),
                                ("Wechatpay-Serial", PUB_KEY_ID)):
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            """Keep test output quiet."""

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


Gateway = tuple[FakeWechatPay, WechatPayProvider]


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    fake = FakeWechatPay()
    server = _serve(fake)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield fake, WechatPayProvider(replace(CONFIG, api_base=f"http://127.0.0.1:{server.server_address[1]}"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


PREPAY = PrepayRequest(
    out_trade_no="FM20260101000001",
    amount_fen=12345,
    description="拼团 · 有机草莓 2 盒",
    payer_openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    expires_at_iso="2026-01-01T12:30:00.123456+00:00",
)
REFUND_REQUEST = RefundRequest(
    out_trade_no="FM20260101000001",
    out_refund_no="RF-FM20260101000001-1",
    refund_fen=2345,
    total_fen=12345,
    reason="团购未成团",
)


async def test_prepay_returns_signed_request_payment_params(gateway: Gateway) -> None:
    fake, provider = gateway
    params = await provider.prepay(PREPAY)

    [sent] = fake.requests
    assert sent["path"] == "/v3/pay/transactions/jsapi"
    assert sent["headers"]["Wechatpay-Serial"] == PUB_KEY_ID
    assert sent["body"] == {
        "appid": APPID,
        "mchid": MCHID,
        "description": "拼团 · 有机草莓 2 盒",
        "out_trade_no": "FM20260101000001",
        "time_expire": "2026-01-01T20:30:00+08:00",
        "notify_url": NOTIFY_URL,
        "amount": {"total": 12345, "currency": "CNY"},
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    }
    assert params["appId"] == APPID
    assert params["package"] == "prepay_id=wxFM20260101000001"
    assert params["signType"] == "RSA"
    assert abs(int(str(params["timeStamp"])) - time.time()) < 60
    assert len(str(params["nonceStr"])) <= 32
    message = f"{APPID}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    assert _verifies(MERCHANT_KEY.public_key(), str(params["paySign"]), message)


async def test_prepay_error_answer_raises(gateway: Gateway) -> None:
    _, provider = gateway
    with pytest.raises(PaymentProviderError) as caught:
        await provider.prepay(replace(PREPAY, out_trade_no="FM-ALREADY-PAID"))
    assert caught.value.code == "ORDERPAID"


async def test_prepay_needs_an_openid(gateway: Gateway) -> None:
    fake, provider = gateway
    with pytest.raises(ValueError, match="openid"):
        await provider.prepay(replace(PREPAY, payer_openid=None))
    assert fake.requests == []


async def test_answer_not_signed_by_wechat_is_not_trusted(gateway: Gateway) -> None:
    fake, provider = gateway
    fake.answer_signer = ROGUE_KEY
    with pytest.raises(PaymentProviderError) as caught:
        await provider.prepay(PREPAY)
    assert caught.value.code == "INVALID_RESPONSE"


async def test_unreachable_gateway_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = WechatPayProvider(replace(CONFIG, api_base=f"http://127.0.0.1:{port}"))
    with pytest.raises(PaymentProviderError) as caught:
        await provider.refund(REFUND_REQUEST)
    assert caught.value.code == "NETWORK_ERROR"


async def test_refund_sends_out_refund_no_unchanged(gateway: Gateway) -> None:
    fake, provider = gateway
    await provider.refund(REFUND_REQUEST)

    [sent] = fake.requests
    assert sent["path"] == "/v3/refund/domestic/refunds"
    assert sent["body"] == {
        "out_trade_no": "FM20260101000001",
        "out_refund_no": "RF-FM20260101000001-1",
        "reason": "团购未成团",
        "notify_url": NOTIFY_URL,
        "amount": {"refund": 2345, "total": 12345, "currency": "CNY"},
    }
    assert list(fake.refunds) == ["RF-FM20260101000001-1"]


@pytest.mark.parametrize("repeat_answer", ["same refund", "already refunded"])
async def test_refund_retry_is_idempotent(
    gateway: Gateway, repeat_answer: str
) -> None:
    fake, provider = gateway
    fake.repeat_answer = repeat_answer
    await provider.refund(REFUND_REQUEST)
    await provider.refund(REFUND_REQUEST)
    assert len(fake.refunds) == 1
    assert {r["body"]["out_refund_no"] for r in fake.requests if r["method"] == "POST"} == {
        "RF-FM20260101000001-1"
    }


async def test_refund_number_reused_for_another_amount_is_an_error(
    gateway: Gateway,
) -> None:
    _, provider = gateway
    await provider.refund(REFUND_REQUEST)
    with pytest.raises(PaymentProviderError) as caught:
        await provider.refund(replace(REFUND_REQUEST, refund_fen=100))
    assert caught.value.code == "INVALID_REQUEST"


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (replace(REFUND_REQUEST, refund_fen=99_999), "INVALID_REQUEST"),
        (replace(REFUND_REQUEST, out_trade_no="FM-UNKNOWN"), "RESOURCE_NOT_EXISTS"),
    ],
)
async def test_refund_error_answer_raises(
    gateway: Gateway, request_: RefundRequest, code: str
) -> None:
    fake, provider = gateway
    with pytest.raises(PaymentProviderError) as caught:
        await provider.refund(request_)
    assert caught.value.code == code
    assert fake.refunds == {}

