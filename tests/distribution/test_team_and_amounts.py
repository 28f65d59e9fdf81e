"""The distributor's own views through the API: the team of direct referrals (names masked, paid orders counted,
nothing private, one level only), the identity they recorded, and a withdrawal amount typed in yuan, parsed exactly
to fen (more than two decimals is refused, never rounded)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fissionmall.distribution.rules import masked_name
from fissionmall.distribution.schemas import WithdrawalIn
from tests.distribution.test_commissions import Person, apply, buy, configured, invite_code, mine
from tests.distribution.test_withdrawals import id_number
from tests.support import Mall, problem

staff = pytest.mark.usefixtures("signed_staff_tokens")
"""Signed staff tokens for the tests that use the database (the others are backend-free)."""


async def join(mall: Mall, openid: str, nickname: str, referrer: Person | None = None, *,
               distributor: bool = True) -> Person:
    """Sign up with a nickname of any script (through the referrer's invite link if given)."""
    body = {"merchant_slug": mall.slug, "openid": openid, "nickname": nickname}
    if referrer is not None:
        body["share_code"] = await invite_code(mall, referrer)
    response = await mall.client.post("/auth/dev-login", json=body)
    assert response.status_code == 200, response.text
    person = Person(nickname, {"Authorization": f"Bearer {response.json()['token']}"},
                    int(response.json()["customer_id"]))
    if distributor:
        await apply(mall, person)
    return person


async def team(mall: Mall, who: dict[str, str]) -> list[dict[str, object]]:
    response = await mall.client.get("/distributors/me/team", headers=who)
    assert response.status_code == 200, response.text
    result: list[dict[str, object]] = response.json()
    return result


@pytest.mark.backend_free
@pytest.mark.parametrize(("nickname", "shown"), [("阿花", "阿*"), ("王小明", "王*明"), ("Alexander", "A*******r"),
                                                 ("x", "*"), ("  李 ", "*"), ("<script>", "<******>")])
def test_a_referral_is_shown_by_a_masked_name(nickname: str, shown: str) -> None:
    assert masked_name(nickname) == shown


@staff
async def test_the_team_is_the_direct_referrals_with_masked_names_and_paid_orders(mall):
    await configured(mall)
    ana = await join(mall, "ana", "安娜")
    ben = await join(mall, "ben", "<b>本杰明", ana)
    await join(mall, "chen", "陈晨", ben)  # ana's level 2: not her team
    await join(mall, "du", "杜鹃", ana, distributor=False)
    await buy(mall, ben, quantity=1)
    await buy(mall, ben, quantity=1)
    unpaid = await mall.place_order(ben.who, 1)
    assert unpaid.status_code == 201, unpaid.text

    members = await team(mall, ana.who)

    assert [(m["name"], m["paid_orders"]) for m in members] == [("杜*", 0), ("<****明", 2)]
    assert set(members[0]) == {"name", "joined_at", "paid_orders"}
    assert [m["name"] for m in await team(mall, ben.who)] == ["陈*"]


@staff
async def test_a_team_never_crosses_merchants(mall, beta):
    await configured(mall)
    ana = await join(mall, "ana", "安娜")
    await join(mall, "ben", "本", ana)
    outsider = await beta.shopper("ben")
    assert await team(beta, outsider) == []
    assert len(await team(mall, ana.who)) == 1


@staff
async def test_the_centre_shows_the_identity_recorded_for_withdrawals(mall):
    await configured(mall)
    ana = await join(mall, "ana", "安娜")
    assert (await mine(mall, ana))["payee"] is None
    number = id_number("11010519900307123")
    response = await mall.client.put("/distributors/me/identity", headers=ana.who,
                                     json={"real_name": "安娜", "id_number": number})
    assert response.status_code == 200, response.text
    payee = (await mine(mall, ana))["payee"]
    assert (payee["real_name"], payee["id_tail"]) == ("安娜", number[-4:])


@staff
async def test_a_wrong_id_number_is_refused_by_its_field_in_chinese(mall):
    await configured(mall)
    ana = await join(mall, "ana", "安娜")
    number = id_number("11010519900307123")
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    body = problem(await mall.client.put("/distributors/me/identity", headers=ana.who,
                                         json={"real_name": "安娜", "id_number": wrong}), 422, "invalid_id_number")
    assert body["field"] == "id_number"
    assert "身份证" in body["message"]
    assert (await mine(mall, ana))["payee"] is None


@pytest.mark.backend_free
@pytest.mark.parametrize(("typed", "fen"), [("12", 1200), ("12.3", 1230), ("12.30", 1230), ("0.01", 1),
                                           (" 7.05 ", 705)])
def test_a_withdrawal_in_yuan_is_parsed_exactly_to_fen(typed: str, fen: int) -> None:
    assert WithdrawalIn(amount_yuan=typed).fen == fen


@pytest.mark.backend_free
@pytest.mark.parametrize("typed", ["1.234", "0.005", "0", "0.00", "-1", "1e3", "abc", "", "1,5", "1000000.01"])
def test_a_withdrawal_in_yuan_with_more_than_two_decimals_or_no_amount_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        WithdrawalIn(amount_yuan=typed)
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [(("amount_yuan",), "yuan_amount")]


@pytest.mark.backend_free
def test_a_withdrawal_names_its_amount_once() -> None:
    assert WithdrawalIn(amount_fen=250).fen == 250
    for body in ({}, {"amount_fen": 100, "amount_yuan": "1"}):
        with pytest.raises(ValidationError):
            WithdrawalIn.model_validate(body)


@staff
async def test_a_withdrawal_typed_in_yuan_with_three_decimals_is_refused_by_its_field(mall):
    await configured(mall)
    ana = await join(mall, "ana", "安娜")
    body = problem(await mall.client.post("/distributors/me/withdrawals", headers=ana.who,
                                          json={"amount_yuan": "1.234"}), 422, "invalid_request")
    assert [(e["field"], e["hint"]) for e in body["errors"]] == [
        ("amount_yuan", "请填写金额，最少 0.01 元，最多两位小数")]
    listed = await mall.client.get("/distributors/me/withdrawals", headers=ana.who)
    assert listed.json() == []
