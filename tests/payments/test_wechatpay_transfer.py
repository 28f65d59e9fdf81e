"""WeChat Pay 商家转账 (transfer-bills, the 2025 API) against a local stand-in gateway that checks the merchant's
signature and signs its answers with the platform key, as api.mch.weixin.qq.com does.

The provider looks the bill up under the withdrawal's own number first: NOT_FOUND → it creates the bill (scene 1005,
the remark cut to 32 characters, the scene report, the payee's name only from 2 000 yuan and then RSA-OAEP encrypted
to the platform key); a bill already there → no second one, its state reported (SUCCESS paid, FAIL/CANCELLED failed
with the reason, anything else pending with the package the mini-program needs). An answer WeChat did not sign is
never believed.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.hashes import SHA1

from fissionmall.core.payment_provider import PaymentProviderError, TransferRequest, TransferResult
from fissionmall.payments.providers.wechatpay import WechatPayProvider
from tests.payments.test_wechatpay_provider import (
    APPID,
    CONFIG,
    MCHID,
    PLATFORM_KEY,
    PUB_KEY_ID,
    ROGUE_KEY,
    FakeWechatPay,
    _sign,
)

pytestmark = pytest.mark.backend_free

BILLS = "/v3/fund-app/mch-transfer/transfer-bills"
NO = "W2601011200000123456789"
LOOKUP = f"{BILLS}/out-bill-no/{NO}"
NAME = "张三"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
PACKAGE = "ABBQO+oYAAABAAAAAAAB3tD8bXbQAAAAHMlKu0Th+Z1yrL6tUwP3a7zAUmQ="
REQUEST = TransferRequest(out_bill_no=NO, openid=OPENID, amount_fen=12_345, remark="佣金提现", real_name=NAME)
SCENE_REPORT = [{"info_type": "岗位类型", "info_content": "推广员"},
                {"info_type": "报酬说明", "info_content": "推广佣金"}]
UNTRUSTED = ("forged", "unsigned", "tampered", "wrong_serial", "stale")
"""Ways an answer can fail to be WeChat's: another key, no signature, a signature over another body, another
key id, a signature ten minutes old."""


class FakeTransfers(FakeWechatPay):
    """The gateway's transfer bills: one per out_bill_no; new bills take `new_state`. `untrusted[method]` spoils the
    signature of answers to that method; `errors[method]` answers it with an error instead."""

    def __init__(self) -> None:
        super().__init__()
        self.bills: dict[str, dict[str, Any]] = {}
        self.new_state = "WAIT_USER_CONFIRM"
        self.untrusted: dict[str, str] = {}
        self.errors: dict[str, tuple[int, dict[str, str]]] = {}

    def answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method in self.errors:
            return self.errors[method]
        if method == "GET" and path.startswith(f"{BILLS}/out-bill-no/"):
            found = self.bills.get(path.rsplit("/", 1)[1])
            return (200, found) if found else (404, {"code": "NOT_FOUND", "message": "记录不存在"})
        if method == "POST" and path == BILLS:
            return self.create(body)
        return super().answer(method, path, body)

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body["transfer_amount"] >= 200_000 and "user_name" not in body:
            return 400, {"code": "PARAM_ERROR", "message": "转账金额>=2000元时，收款用户姓名必填"}
        made = bill(body["out_bill_no"], self.new_state, f"13300001148500825022810000{len(self.bills):05d}")
        self.bills[body["out_bill_no"]] = {**made, "transfer_amount": body["transfer_amount"],
                                           "openid": body["openid"], "transfer_remark": body["transfer_remark"]}
        return 200, {k: made[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state", "package_info",
                                          "fail_reason") if k in made}

    def headers(self, method: str, payload: bytes) -> dict[str, str]:
        """WeChat's answer signature, or the spoilt one asked for."""
        spoilt = self.untrusted.get(method)
        if spoilt == "unsigned":
            return {}
        timestamp = str(int(time.time()) - (600 if spoilt == "stale" else 0))
        nonce = secrets.token_hex(16)
        signed = payload + b" " if spoilt == "tampered" else payload
        signer = ROGUE_KEY if spoilt == "forged" else PLATFORM_KEY
        return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": _sign(signer, f"{timestamp}\n{nonce}\n".encode() + signed + b"\n"),
                "Wechatpay-Serial": "PUB_KEY_ID_OTHER" if spoilt == "wrong_serial" else PUB_KEY_ID}

    def sent(self, method: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method]


def bill(out_bill_no: str, state: str, transfer_bill_no: str = "1330000114850082502281000000000",
         **extra: Any) -> dict[str, Any]:
    """A transfer bill as the gateway keeps it: a package while it waits for the customer, a reason if it failed."""
    found = {"mch_id": MCHID, "appid": APPID, "out_bill_no": out_bill_no, "transfer_bill_no": transfer_bill_no,
             "state": state, "create_time": "2026-01-01T20:00:00+08:00", "update_time": "2026-01-01T20:00:05+08:00"}
    if state == "WAIT_USER_CONFIRM":
        found["package_info"] = PACKAGE
    return {**found, **extra}


class Stand:
    """The gateway's current memory: each test gets a fresh FakeTransfers behind the one server of the module."""

    fake = FakeTransfers()


def _serve(stand: type[Stand]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            fake = stand.fake
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            body = json.loads(raw) if raw else None
            fake.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                  "body": body})
            if not fake.authorized(self.command, self.path, self.headers.get("Authorization", ""), raw):
                status, answer = 401, {"code": "SIGN_ERROR", "message": "签名错误"}
            else:
                status, answer = fake.answer(self.command, self.path, body or {})
            payload = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(payload)),
                                **fake.headers(self.command, payload)}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            """Keep test output quiet."""

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


Gateway = tuple[FakeTransfers, WechatPayProvider]


@pytest.fixture(scope="module")
def provider() -> Iterator[WechatPayProvider]:
    """One server and one provider for the module (building a provider loads its keys: a third of a second)."""
    server = _serve(Stand)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield WechatPayProvider(replace(CONFIG, api_base=f"http://127.0.0.1:{server.server_address[1]}"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def gateway(provider: WechatPayProvider) -> Gateway:
    Stand.fake = FakeTransfers()
    return Stand.fake, provider


def decrypted(sealed: str) -> str:
    """What only WeChat can read: the platform private key opens what the mall sealed to the platform public key."""
    return PLATFORM_KEY.decrypt(base64.b64decode(sealed), OAEP(mgf=MGF1(algorithm=SHA1()), algorithm=SHA1(),
                                                               label=None)).decode()


# --- a new bill -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "expected"), [
    ("WAIT_USER_CONFIRM", TransferResult(state="pending", bill_no="1330000114850082502281000000000",
                                         package_info=PACKAGE)),
    ("ACCEPTED", TransferResult(state="pending", bill_no="1330000114850082502281000000000")),
    ("SUCCESS", TransferResult(state="paid", bill_no="1330000114850082502281000000000")),
])
async def test_a_bill_not_found_is_created_with_the_withdrawals_number(gateway: Gateway, state: str,
                                                                       expected: TransferResult) -> None:
    """GET by out_bill_no answers NOT_FOUND, so the provider POSTs the bill: appid, the withdrawal's number, scene
    1005, the customer's openid, the amount in fen, the remark and the scene report; no name under 2 000 yuan. Both
    calls ask WeChat to sign with the platform key id; the new bill's state is what the provider reports."""
    fake, provider = gateway
    fake.new_state = state
    assert await provider.transfer(REQUEST) == expected
    assert [(r["method"], r["path"]) for r in fake.requests] == [("GET", LOOKUP), ("POST", BILLS)]
    assert fake.requests[0]["body"] is None
    assert fake.requests[1]["body"] == {
        "appid": APPID,
        "out_bill_no": NO,
        "transfer_scene_id": "1005",
        "openid": OPENID,
        "transfer_amount": 12_345,
        "transfer_remark": "佣金提现",
        "transfer_scene_report_infos": SCENE_REPORT,
    }
    assert {r["headers"]["Wechatpay-Serial"] for r in fake.requests} == {PUB_KEY_ID}
    assert list(fake.bills) == [NO]


async def test_a_long_remark_is_cut_to_32_characters(gateway: Gateway) -> None:
    """WeChat takes at most 32 characters of remark: a longer one is cut, not refused."""
    fake, provider = gateway
    remark = "本月推广佣金提现" * 5
    await provider.transfer(replace(REQUEST, remark=remark))
    [created] = fake.sent("POST")
    assert created["body"]["transfer_remark"] == remark[:32]
    assert len(created["body"]["transfer_remark"]) == 32


@pytest.mark.parametrize(("amount", "named"), [(199_999, False), (200_000, True), (5_000_000, True)])
async def test_the_name_goes_only_from_2000_yuan_sealed_to_the_platform_key(gateway: Gateway, amount: int,
                                                                            named: bool) -> None:
    """Under 200 000 fen no user_name is sent; from 200 000 it is sent, never in clear: RSA-OAEP (SHA-1) to the
    platform public key, so WeChat's private key reads back the payee's checked name."""
    fake, provider = gateway
    await provider.transfer(replace(REQUEST, amount_fen=amount))
    [created] = fake.sent("POST")
    assert created["body"]["transfer_amount"] == amount
    assert ("user_name" in created["body"]) is named
    if named:
        sealed = created["body"]["user_name"]
        assert NAME not in sealed and len(base64.b64decode(sealed)) == 256
        assert decrypted(sealed) == NAME


# --- a bill already made ----------------------------------------------------------------------------------------------

EXISTING = [
    (bill(NO, "SUCCESS"), TransferResult(state="paid", bill_no="1330000114850082502281000000000")),
    (bill(NO, "FAIL", fail_reason="ACCOUNT_FROZEN"),
     TransferResult(state="failed", bill_no="1330000114850082502281000000000", reason="ACCOUNT_FROZEN")),
    (bill(NO, "CANCELLED"), TransferResult(state="failed", bill_no="1330000114850082502281000000000",
                                           reason="CANCELLED")),
    (bill(NO, "WAIT_USER_CONFIRM"), TransferResult(state="pending", bill_no="1330000114850082502281000000000",
                                                   package_info=PACKAGE)),
    (bill(NO, "PROCESSING"), TransferResult(state="pending", bill_no="1330000114850082502281000000000")),
    (bill(NO, "TRANSFERING"), TransferResult(state="pending", bill_no="1330000114850082502281000000000")),
    (bill(NO, "CANCELING"), TransferResult(state="pending", bill_no="1330000114850082502281000000000")),
]


@pytest.mark.parametrize(("found", "expected"), EXISTING, ids=[found["state"] for found, _ in EXISTING])
async def test_a_bill_already_made_is_reported_not_made_again(gateway: Gateway, found: dict[str, Any],
                                                              expected: TransferResult) -> None:
    """The lookup finds the bill: no POST; SUCCESS → paid, FAIL → failed with WeChat's reason, CANCELLED → failed
    (the state as the reason), waiting for the customer → pending with the package, others → pending."""
    fake, provider = gateway
    fake.bills[NO] = found
    assert await provider.transfer(REQUEST) == expected
    assert [(r["method"], r["path"]) for r in fake.requests] == [("GET", LOOKUP)]


async def test_a_retried_transfer_finds_the_bill_it_made(gateway: Gateway) -> None:
    """Asked twice under the same number (the worker retrying): one bill, one POST, the same answer."""
    fake, provider = gateway
    first = await provider.transfer(REQUEST)
    fake.bills[NO]["state"] = "SUCCESS"
    second = await provider.transfer(REQUEST)
    assert (first.state, second.state) == ("pending", "paid")
    assert first.bill_no == second.bill_no == fake.bills[NO]["transfer_bill_no"]
    assert [r["method"] for r in fake.requests] == ["GET", "POST", "GET"]
    assert len(fake.bills) == 1


async def test_a_bill_without_a_state_is_an_invalid_answer(gateway: Gateway) -> None:
    """A signed bill that says nothing of its state is neither paid nor failed: INVALID_RESPONSE, no new bill."""
    fake, provider = gateway
    fake.bills[NO] = {k: v for k, v in bill(NO, "SUCCESS").items() if k != "state"}
    with pytest.raises(PaymentProviderError) as caught:
        await provider.transfer(REQUEST)
    assert caught.value.code == "INVALID_RESPONSE"
    assert fake.sent("POST") == []


# --- answers not to be believed, and refusals -------------------------------------------------------------------------

@pytest.mark.parametrize("spoilt", UNTRUSTED)
async def test_a_lookup_answer_not_signed_by_wechat_is_not_believed(gateway: Gateway, spoilt: str) -> None:
    """A "SUCCESS" that WeChat did not sign would mark money paid that never moved: INVALID_RESPONSE, and no bill
    is created either."""
    fake, provider = gateway
    fake.bills[NO] = bill(NO, "SUCCESS")
    fake.untrusted["GET"] = spoilt
    with pytest.raises(PaymentProviderError) as caught:
        await provider.transfer(REQUEST)
    assert caught.value.code == "INVALID_RESPONSE"
    assert fake.sent("POST") == []


@pytest.mark.parametrize("spoilt", UNTRUSTED)
async def test_a_creation_answer_not_signed_by_wechat_is_not_believed(gateway: Gateway, spoilt: str) -> None:
    """The lookup is genuine (NOT_FOUND) but the answer to the POST is not WeChat's: INVALID_RESPONSE."""
    fake, provider = gateway
    fake.new_state = "SUCCESS"
    fake.untrusted["POST"] = spoilt
    with pytest.raises(PaymentProviderError) as caught:
        await provider.transfer(REQUEST)
    assert caught.value.code == "INVALID_RESPONSE"
    assert [r["method"] for r in fake.requests] == ["GET", "POST"]


@pytest.mark.parametrize(("method", "status", "code"), [
    ("GET", 500, "SYSTEM_ERROR"),
    ("GET", 429, "FREQUENCY_LIMITED"),
    ("POST", 403, "NOT_ENOUGH"),
    ("POST", 400, "INVALID_REQUEST"),
])
async def test_a_refusal_raises_with_wechats_code(gateway: Gateway, method: str, status: int, code: str) -> None:
    """A lookup that fails other than NOT_FOUND makes no bill (the worker asks again later); a refused creation
    raises with WeChat's own code."""
    fake, provider = gateway
    fake.errors[method] = (status, {"code": code, "message": "系统繁忙"})
    with pytest.raises(PaymentProviderError) as caught:
        await provider.transfer(REQUEST)
    assert caught.value.code == code
    assert [r["method"] for r in fake.requests] == (["GET"] if method == "GET" else ["GET", "POST"])
    assert fake.bills == {}
