"""Parcel tracking under real concurrency (PostgreSQL): the same signed push delivered many times at once, with the
shopper confirming receipt at the same moment. However they interleave, each step is stored once, the order moves
shipped → received once (by whichever came first), and exactly one order_received event is written."""

from __future__ import annotations

import httpx
import pytest

from tests.logistics import kuaidi100_records as k100
from tests.logistics.conftest import received_by, shipped
from tests.logistics.test_kuaidi100_tracking import FORM, NOTIFY, Gateway
from tests.support import LONG_TOKEN_TTL_SECONDS, codes, rows, together

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS, "logistics_provider": "kuaidi100",
            "kuaidi100_key": k100.KEY, "kuaidi100_customer": k100.CUSTOMER, "kuaidi100_salt": k100.SALT}


@pytest.mark.parametrize("round_", range(3))
async def test_duplicate_pushes_and_a_confirmation_at_once_apply_the_steps_and_the_receipt_once(client, mall, runtime,
                                                                                               round_):
    Gateway().install(runtime, salt=k100.SALT)
    alice = await mall.shopper("alice")
    order = await shipped(mall, alice, k100.NUMBER)
    body = k100.push_body(k100.PUSH_SIGNED_FOR, k100.PUSH_SIGNED_FOR_SIGN)

    calls = [client.post(NOTIFY, content=body, headers=FORM) for _ in range(12)]
    calls.insert(round_ * 5, client.post(f"/orders/{order['id']}/receive", headers=alice))
    answers: list[httpx.Response] = await together(calls)

    pushes = [a for a in answers if "result" in a.text]
    assert all(a.status_code == 200 for a in pushes), codes(answers)
    assert sorted(a.json()["message"] for a in pushes) == ["成功 (applied)"] + ["成功 (duplicate)"] * 11
    confirmation = next(a for a in answers if "result" not in a.text)
    assert confirmation.status_code in (200, 409), confirmation.text

    assert await rows(runtime, "SELECT count(*), count(DISTINCT digest) FROM shipment_events") == [(4, 4)]
    assert (await mall.get_order(alice, order["id"]))["status"] == "received"
    by = await received_by(mall, order["id"])
    assert by == (["customer"] if confirmation.status_code == 200 else ["carrier"])
