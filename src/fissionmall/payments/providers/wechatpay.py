"""WeChat Pay API v3 for mini-program (JSAPI) payments, in platform-public-key ("微信支付公钥") mode.

Why the HTTP calls go through httpx and not the wechatpayv3 client: wechatpayv3 2.0.4 hard-codes its
gateway (``Core._gate_way``; no constructor argument), uses blocking ``requests`` with no default
timeout, raises bare ``Exception`` for every failure, and, when a signature's serial is not the
configured public key id, goes off to download platform certificates over the network. Its notification
helper also never checks ``Wechatpay-Timestamp``. So this module signs and sends the two requests
itself (async, with a timeout, against ``WechatPayConfig.api_base``) and verifies both responses and
notifications itself; the library does only the offline part it is good at: loading the PEM keys,
building the ``Authorization`` header and computing ``paySign``. That offline signing is a millisecond
of CPU, so it runs inline rather than in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP, PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA1, SHA256
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import build_authorization, load_private_key, load_public_key

from fissionmall.core.payment_provider import (
    InvalidNotification,
    PaymentProviderError,
    PrepayRequest,
    ProviderNotice,
    RefundRequest,
    TransferRequest,
    TransferResult,
)

MAX_CLOCK_SKEW = timedelta(minutes=5)
"""WeChat's own rule for signed messages: older or newer than this is a replay or a broken clock."""
HTTP_TIMEOUT_S = 10.0
CHINA_TZ = timezone(timedelta(hours=8))
REFUND_EVENTS = frozenset({"REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"})
NAME_REQUIRED_FROM_FEN = 200_000
"""WeChat Pay wants the payee's real name on transfers of 2,000 yuan and more (and checks it)."""
FAILED_TRANSFER_STATES = frozenset({"FAIL", "CANCELLED"})


@dataclass(frozen=True)
class WechatPayConfig:
    mchid: str
    appid: str
    apiv3_key: str
    """32 characters; the AES-256-GCM key for notification resources."""
    merchant_private_key_pem: str
    """PKCS#8 (``BEGIN PRIVATE KEY``), as in apiclient_key.pem; wechatpayv3 cannot read PKCS#1."""
    merchant_cert_serial_no: str
    platform_public_key_pem: str
    platform_public_key_id: str
    notify_url: str
    api_base: str = "https://api.mch.weixin.qq.com"
    transfer_scene_id: str = "1005"
    """商家转账 scene 1005, 佣金报酬: what commission withdrawals are, as reported to WeChat Pay."""

    def __post_init__(self) -> None:
        if len(self.apiv3_key.encode()) != 32:
            raise ValueError("apiv3_key must be exactly 32 bytes (AES-256)")



class WechatPayProvider:
    """The PaymentProvider for WeChat mini-programs; `now` (aware datetimes) drives the 5-minute
    signature window and the paySign timeStamp, so tests can pin it."""

    name = "wechatpay"

    def __init__(self, config: WechatPayConfig, now: Callable[[], datetime] | None = None) -> None:
        self._config = config
        self._now = now or (lambda: datetime.now(UTC))
        try:
            private_key = load_private_key(config.merchant_private_key_pem)
            public_key = load_public_key(config.platform_public_key_pem)
            # Public-key mode: given public_key, the constructor does not download platform certificates.
            self._client = WeChatPay(
                wechatpay_type=WeChatPayType.MINIPROG,
                mchid=config.mchid,
                private_key=config.merchant_private_key_pem,
                cert_serial_no=config.merchant_cert_serial_no,
                appid=config.appid,
                apiv3_key=config.apiv3_key,
                notify_url=config.notify_url,
                public_key=config.platform_public_key_pem,
                public_key_id=config.platform_public_key_id,
            )
        except Exception as exc:  # wechatpayv3 raises bare Exception for unreadable keys
            raise ValueError(f"unusable WeChat Pay key: {exc}") from exc
        if not isinstance(private_key, RSAPrivateKey) or not isinstance(public_key, RSAPublicKey):
            raise ValueError("WeChat Pay keys must be RSA")
        self._private_key = private_key
        self._platform_key = public_key

    async def prepay(self, request: PrepayRequest) -> dict[str, object]:
        """Create the JSAPI order, then sign the parameters for the mini-program's wx.requestPayment."""
        if not request.payer_openid:
            raise ValueError("a mini-program payment needs the payer's openid")
        if request.amount_fen <= 0:
            raise ValueError("amount must be positive")
        cfg = self._config
        answer = await self._call("POST", "/v3/pay/transactions/jsapi", {
            "appid": cfg.appid,
            "mchid": cfg.mchid,
            "description": request.description,
            "out_trade_no": request.out_trade_no,
            "time_expire": _rfc3339(request.expires_at_iso),
            "notify_url": cfg.notify_url,
            "amount": {"total": request.amount_fen, "currency": "CNY"},
            "payer": {"openid": request.payer_openid},
        })
        prepay_id = answer.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise PaymentProviderError("INVALID_RESPONSE", "no prepay_id in the answer")
        timestamp = str(int(self._now().timestamp()))
        nonce = uuid.uuid4().hex.upper()
        package = f"prepay_id={prepay_id}"
        return {
            "appId": cfg.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self._client.sign([cfg.appid, timestamp, nonce, package]),
        }

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> ProviderNotice:
        """Trust nothing before the signature, serial and timestamp check out; then decrypt and decode."""
        self._verify_signed(headers, body)
        try:
            envelope = json.loads(body)
            event_id, event_type = envelope["id"], envelope["event_type"]
            resource = envelope["resource"]
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidNotification("malformed body") from exc
        if not isinstance(event_id, str) or not event_id:
            raise InvalidNotification("malformed body")
        data = self._decrypt(resource)
        try:
            if event_type == "TRANSACTION.SUCCESS":
                return self._payment_notice(event_id, data)
            if event_type in REFUND_EVENTS:
                return self._refund_notice(event_id, event_type, data)
        except (KeyError, TypeError) as exc:
            raise InvalidNotification("malformed resource") from exc
        raise InvalidNotification(f"unknown event type {event_type!r}")

    async def refund(self, request: RefundRequest) -> None:
        """Ask for the refund; a retry with the same out_refund_no is answered with the same refund."""
        try:
            await self._call("POST", "/v3/refund/domestic/refunds", {
                "out_trade_no": request.out_trade_no,
                "out_refund_no": request.out_refund_no,
                "reason": request.reason,
                "notify_url": self._config.notify_url,
                "amount": {"refund": request.refund_fen, "total": request.total_fen, "currency": "CNY"},
            })
        except PaymentProviderError as exc:
            # WeChat answers some repeats with INVALID_REQUEST (e.g. "already fully refunded"); if the
            # refund under this number is ours, the first call went through and this one is a no-op.
            if exc.code != "INVALID_REQUEST" or not await self._refund_exists(request):
                raise

    async def _refund_exists(self, request: RefundRequest) -> bool:
        try:
            found = await self._call("GET", f"/v3/refund/domestic/refunds/{quote(request.out_refund_no)}")
        except PaymentProviderError:
            return False
        amount = found.get("amount")
        return (
            found.get("out_trade_no") == request.out_trade_no
            and isinstance(amount, dict)
            and amount.get("refund") == request.refund_fen
        )

    async def transfer(self, request: TransferRequest) -> TransferResult:
        """商家转账 under the new (2025) API: look the bill up first, so a retry reports the bill already made
        instead of making another; otherwise create it."""
        path = "/v3/fund-app/mch-transfer/transfer-bills"
        try:
            bill = await self._call("GET", f"{path}/out-bill-no/{quote(request.out_bill_no)}")
        except PaymentProviderError as exc:
            if exc.code != "NOT_FOUND":
                raise
            payload: dict[str, Any] = {
                "appid": self._config.appid,
                "out_bill_no": request.out_bill_no,
                "transfer_scene_id": self._config.transfer_scene_id,
                "openid": request.openid,
                "transfer_amount": request.amount_fen,
                "transfer_remark": request.remark[:32],
                "transfer_scene_report_infos": [{"info_type": "岗位类型", "info_content": "推广员"},
                                                {"info_type": "报酬说明", "info_content": "推广佣金"}],
            }
            if request.amount_fen >= NAME_REQUIRED_FROM_FEN:
                payload["user_name"] = self._encrypt(request.real_name)
            bill = await self._call("POST", path, payload)
        state = bill.get("state")
        if state == "SUCCESS":
            return TransferResult(state="paid", bill_no=bill.get("transfer_bill_no"))
        if state in FAILED_TRANSFER_STATES:
            return TransferResult(state="failed", bill_no=bill.get("transfer_bill_no"),
                                  reason=str(bill.get("fail_reason") or state))
        if not isinstance(state, str):
            raise PaymentProviderError("INVALID_RESPONSE", "no state in the transfer bill")
        return TransferResult(state="pending", bill_no=bill.get("transfer_bill_no"),
                              package_info=bill.get("package_info"))

    def _encrypt(self, text: str) -> str:
        """Sensitive fields go encrypted to the platform key (RSA-OAEP, SHA-1, as WeChat Pay specifies)."""
        sealed = self._platform_key.encrypt(text.encode(), OAEP(mgf=MGF1(algorithm=SHA1()), algorithm=SHA1(),
                                                               label=None))
        return base64.b64encode(sealed).decode()

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one signed request; return the verified JSON answer or raise PaymentProviderError."""
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        cfg = self._config
        headers = {
            "Authorization": build_authorization(
                path, method, cfg.mchid, cfg.merchant_cert_serial_no, self._private_key, data=body
            ),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "fissionmall-wechatpay",
            # Tells WeChat to sign its answer with the key behind this id, i.e. the one we verify with.
            "Wechatpay-Serial": cfg.platform_public_key_id,
        }
        try:
            async with httpx.AsyncClient(base_url=self._config.api_base, timeout=HTTP_TIMEOUT_S) as http:
                response = await http.request(method, path, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise PaymentProviderError("NETWORK_ERROR", f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise _error_from(response)
        try:
            self._verify_signed(response.headers, response.content)
        except InvalidNotification as exc:
            raise PaymentProviderError("INVALID_RESPONSE", f"answer not trusted: {exc.reason}") from exc
        try:
            answer = response.json()
        except ValueError as exc:
            raise PaymentProviderError("INVALID_RESPONSE", "answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise PaymentProviderError("INVALID_RESPONSE", "answer is not a JSON object")
        return answer

    def _verify_signed(self, headers: Mapping[str, str], body: bytes) -> None:
        """WeChat's signature scheme, shared by notifications and API answers."""
        lower = {k.lower(): v for k, v in headers.items()}
        values = []
        for name in ("wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature", "wechatpay-serial"):
            if not lower.get(name):
                raise InvalidNotification(f"missing header {name}")
            values.append(lower[name])
        timestamp, nonce, signature, serial = values
        if serial != self._config.platform_public_key_id:
            raise InvalidNotification("unknown serial")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise InvalidNotification("bad timestamp")
        skew = abs(self._now().timestamp() - int(timestamp))
        if skew > MAX_CLOCK_SKEW.total_seconds():
            raise InvalidNotification("timestamp outside the 5 minute window")
        try:
            raw_signature = base64.b64decode(signature, validate=True)
            message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
            self._platform_key.verify(raw_signature, message, PKCS1v15(), SHA256())
        except (binascii.Error, InvalidSignature) as exc:
            raise InvalidNotification("bad signature") from exc

    def _decrypt(self, resource: object) -> dict[str, Any]:
        try:
            if not isinstance(resource, dict) or resource["algorithm"] != "AEAD_AES_256_GCM":
                raise InvalidNotification("unsupported resource")
            plain = AESGCM(self._config.apiv3_key.encode()).decrypt(
                resource["nonce"].encode(),
                base64.b64decode(resource["ciphertext"], validate=True),
                (resource.get("associated_data") or "").encode(),
            )
            data = json.loads(plain)
        except (KeyError, AttributeError, TypeError, ValueError, binascii.Error, InvalidTag) as exc:
            raise InvalidNotification("undecryptable resource") from exc
        if not isinstance(data, dict):
            raise InvalidNotification("undecryptable resource")
        return data

    def _payment_notice(self, event_id: str, data: dict[str, Any]) -> ProviderNotice:
        if data["mchid"] != self._config.mchid:
            raise InvalidNotification("mchid mismatch")
        if data["appid"] != self._config.appid:
            raise InvalidNotification("appid mismatch")
        return ProviderNotice(
            event_id=event_id,
            kind="payment",
            succeeded=data["trade_state"] == "SUCCESS",
            out_trade_no=_text(data["out_trade_no"]),
            out_refund_no=None,
            transaction_id=_text(data["transaction_id"]),
            amount_fen=_fen(data["amount"]["total"]),
        )

    def _refund_notice(self, event_id: str, event_type: str, data: dict[str, Any]) -> ProviderNotice:
        if data["mchid"] != self._config.mchid:
            raise InvalidNotification("mchid mismatch")
        return ProviderNotice(
            event_id=event_id,
            kind="refund",
            succeeded=event_type == "REFUND.SUCCESS" and data["refund_status"] == "SUCCESS",
            out_trade_no=_text(data["out_trade_no"]),
            out_refund_no=_text(data["out_refund_no"]),
            transaction_id=_text(data["transaction_id"]),
            amount_fen=_fen(data["amount"]["refund"]),
        )


def _rfc3339(iso: str) -> str:
    """WeChat wants 'yyyy-MM-DDTHH:mm:ss+08:00': no fractions, no 'Z', an explicit offset."""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        raise ValueError("expires_at_iso needs a UTC offset")
    return moment.astimezone(CHINA_TZ).isoformat(timespec="seconds")


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty string")
    return value


def _fen(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("expected a whole number of fen")
    return value


def _error_from(response: httpx.Response) -> PaymentProviderError:
    try:
        problem = response.json()
        return PaymentProviderError(str(problem["code"]), str(problem.get("message", "")))
    except (ValueError, TypeError, KeyError):
        return PaymentProviderError(f"HTTP_{response.status_code}", response.text[:200])
