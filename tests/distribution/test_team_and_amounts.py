"""The distributor's own views through the API: the team of direct referrals (names masked, paid orders counted,
nothing private, one level only, never another merchant's), and the identity they recorded for withdrawals (a wrong
ID number refused by its field, in Chinese)."""

from __future__ import annotations

import pytest

from fissionmall.distribution.rules import masked_name
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
