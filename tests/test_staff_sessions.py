"""Staff access that can be taken back, signing keys that rotate, sign-in throttling and timing, the audit log.

A token issued before a member is disabled, demoted, given a new password or signed out is refused on the very next
request (401 session_revoked), while other members carry on. Tokens and share codes signed with a retired key still
read; with an unknown key they do not. Failed sign-ins are counted per account and per address (in a transaction of
their own, which the refused request's rollback does not undo) and back off; a missing account answers as slowly as
a wrong password. Every sign-in, sign-out and staff change leaves an audit row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fissionmall.config import SettingsError, load_settings
from fissionmall.core.auth import verify_password
from fissionmall.core.runtime import Runtime
from fissionmall.core.tokens import SigningKeys, read_code, sign_code, sign_token
from fissionmall.merchants import service as merchants_service
from fissionmall.merchants.models import AuditEntry
from fissionmall.merchants.rules import FREE_FAILURES_PER_ACCOUNT, FREE_FAILURES_PER_ADDRESS, MAX_WAIT_SECONDS
from fissionmall.merchants.throttle import RedisLoginThrottle
from tests.support import PASSWORD, Mall, problem, rows

RETIRED_KEY = "a-retired-signing-key-0123456789abcdef"
UNKNOWN_KEY = "a-key-this-mall-never-had-0123456789ab"
REDIS_URL = "redis://127.0.0.1:6379/2"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"retired_secret_keys": RETIRED_KEY}


def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD, slug: str = "acme") -> Any:
    return client.post("/admin/auth/login", json={"merchant_slug": slug, "username": username, "password": password})


async def token_for(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await login(client, username, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def staff_id(mall: Mall, username: str) -> int:
    members = (await mall.client.get("/admin/staff", headers=await mall.staff("owner"))).json()
    return int(next(member["id"] for member in members if member["username"] == username))


def from_ip(app: Any, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)),
                             base_url="http://mall.test/api/v1")


async def audit_log(runtime: Runtime) -> list[tuple[Any, ...]]:
    """(action, subject, staff id, source address, detail) of every entry, oldest first."""
    columns = (AuditEntry.action, AuditEntry.subject, AuditEntry.staff_id, AuditEntry.source_ip, AuditEntry.detail)
    async with runtime.sessionmaker() as session:
        return [tuple(row) for row in await session.execute(select(*columns).order_by(AuditEntry.id))]


# --- revocation ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", [{"active": False}, {"role": "support"}, {"password": NEW_PASSWORD}])
async def test_a_change_to_a_member_ends_their_sessions_at_the_next_request(client, mall, change):
    """The operator's token (issued before) is refused right after the owner changes them; finance is unaffected."""
    operator, finance = await token_for(client, "operator"), await token_for(client, "finance")
    assert (await client.get("/admin/orders", headers=operator)).status_code == 200
    owner = await mall.staff("owner")
    response = await client.patch(f"/admin/staff/{await staff_id(mall, 'operator')}", headers=owner, json=change)
    assert response.status_code == 200, response.text
    problem(await client.get("/admin/orders", headers=operator), 401, "session_revoked")
    problem(await client.post("/admin/products", headers=operator, json={"title": "x", "skus": []}), 401,
            "session_revoked")
    assert (await client.get("/admin/orders", headers=finance)).status_code == 200
    assert (await client.get("/admin/staff", headers=owner)).status_code == 200


async def test_a_demoted_member_signs_in_again_with_the_lesser_role_only(client, mall):
    operator = await token_for(client, "operator")
    product = {"title": "Coffee", "skus": [{"code": "coffee", "name": "250g", "price_fen": 3990}]}
    assert (await client.post("/admin/products", headers=operator, json=product)).status_code == 201
    await client.patch(f"/admin/staff/{await staff_id(mall, 'operator')}", headers=await mall.staff("owner"),
                       json={"role": "support"})
    problem(await client.post("/admin/products", headers=operator, json=product), 401, "session_revoked")
    support = await token_for(client, "operator")
    problem(await client.post("/admin/products", headers=support, json=product), 403, "forbidden")
    assert (await client.get("/admin/orders", headers=support)).status_code == 200


async def test_a_new_password_replaces_the_old_one(client, mall):
    await client.patch(f"/admin/staff/{await staff_id(mall, 'finance')}", headers=await mall.staff("owner"),
                       json={"password": NEW_PASSWORD})
    problem(await login(client, "finance"), 401, "invalid_credentials")
    assert (await client.get("/admin/orders", headers=await token_for(client, "finance", NEW_PASSWORD))).is_success


async def test_signing_out_ends_the_session_and_no_one_elses(client, mall):
    support, operator = await token_for(client, "support"), await token_for(client, "operator")
    assert (await client.post("/admin/auth/logout", headers=support)).status_code == 204
    problem(await client.get("/admin/orders", headers=support), 401, "session_revoked")
    problem(await client.post("/admin/auth/logout", headers=support), 401, "session_revoked")
    assert (await client.get("/admin/orders", headers=operator)).status_code == 200
    assert (await client.get("/admin/orders", headers=await token_for(client, "support"))).status_code == 200


async def test_an_unchanged_member_keeps_their_session(client, mall):
    """A patch that changes nothing (the same role) ends no session and leaves no audit row."""
    operator = await token_for(client, "operator")
    owner = await mall.staff("owner")
    before = await audit_log(mall.runtime)
    await client.patch(f"/admin/staff/{await staff_id(mall, 'operator')}", headers=owner, json={"role": "operator"})
    assert (await client.get("/admin/orders", headers=operator)).status_code == 200
    assert await audit_log(mall.runtime) == before


# --- key rotation ----------------------------------------------------------------------------------------------------

async def test_tokens_signed_with_a_retired_key_still_read_and_unknown_keys_do_not(client, mall, runtime, clock):
    claims = {"aud": "staff", "sub": str(await staff_id(mall, "owner")), "mid": mall.merchant_id, "sv": 0}
    ttl = timedelta(hours=1)
    retired = sign_token(SigningKeys(RETIRED_KEY), claims, now=clock.now(), ttl=ttl)
    assert (await client.get("/admin/merchant", headers={"Authorization": f"Bearer {retired}"})).status_code == 200
    unknown = sign_token(SigningKeys(UNKNOWN_KEY), claims, now=clock.now(), ttl=ttl)
    problem(await client.get("/admin/merchant", headers={"Authorization": f"Bearer {unknown}"}), 401,
            "unauthenticated")
    assert RETIRED_KEY not in retired and runtime.settings.secret_key not in (await token_for(client, "owner"))[
        "Authorization"]


async def test_share_codes_signed_with_a_retired_key_still_open(client, mall, runtime):
    alice = await mall.shopper("alice")
    response = await client.post("/shares", headers=alice, json={"target_type": "product",
                                                                 "target_id": mall.product_id})
    share_id = read_code(runtime.settings.signing_keys, "share", response.json()["code"])
    assert share_id is not None
    assert (await client.get(f"/shares/{sign_code(SigningKeys(RETIRED_KEY), 'share', share_id)}")).status_code == 200
    problem(await client.get(f"/shares/{sign_code(SigningKeys(UNKNOWN_KEY), 'share', share_id)}"), 404,
            "share_not_found")


@pytest.mark.backend_free
def test_a_short_retired_key_stops_start_up_naming_the_setting():
    with pytest.raises(SettingsError, match="RETIRED_SECRET_KEYS"):
        load_settings(retired_secret_keys=f"{RETIRED_KEY}, too-short")


# --- throttling ------------------------------------------------------------------------------------------------------

async def wrong_passwords(client: httpx.AsyncClient, clock: Any, count: int) -> None:
    """`count` wrong passwords for the operator, each one heard: waiting out every back-off on the way."""
    for _ in range(count):
        response = await login(client, "operator", "not the password")
        if response.status_code == 429:
            clock.advance(seconds=int(response.headers["Retry-After"]))
            response = await login(client, "operator", "not the password")
        problem(response, 401, "invalid_credentials")


async def test_after_fifteen_wrong_passwords_even_the_right_one_waits(client, mall, runtime, clock):
    """Five failures are free; then each waits twice as long (capped). While it waits, the right password is refused
    too, and a refused attempt does not lengthen the wait; after it, the right password works and clears the count."""
    for _ in range(FREE_FAILURES_PER_ACCOUNT):
        problem(await login(client, "operator", "not the password"), 401, "invalid_credentials")
    body = problem(await login(client, "operator", "not the password"), 429, "login_throttled")
    assert (body["scope"], body["retry_after"]) == ("account", 1)
    await wrong_passwords(client, clock, 15 - FREE_FAILURES_PER_ACCOUNT)
    sixteenth = await login(client, "operator", "not the password")
    problem(sixteenth, 429, "login_throttled")
    assert sixteenth.headers["Retry-After"] == str(min(2 ** 10, MAX_WAIT_SECONDS))
    refused = await login(client, "operator")
    assert problem(refused, 429, "login_throttled")["retry_after"] == MAX_WAIT_SECONDS
    clock.advance(seconds=MAX_WAIT_SECONDS - 1)
    problem(await login(client, "operator"), 429, "login_throttled")
    clock.advance(seconds=1)
    assert (await login(client, "operator")).status_code == 200
    problem(await login(client, "operator", "not the password"), 401, "invalid_credentials")
    assert (await client.get("/admin/orders", headers=await token_for(client, "finance"))).status_code == 200


async def test_one_address_trying_many_usernames_is_throttled_and_others_are_not(client, mall, app):
    async with from_ip(app, "203.0.113.7") as attacker, from_ip(app, "198.51.100.2") as colleague:
        for n in range(FREE_FAILURES_PER_ADDRESS):
            problem(await login(attacker, f"guess-{n}", "password123"), 401, "invalid_credentials")
        body = problem(await login(attacker, "guess-next", "password123"), 429, "login_throttled")
        assert (body["scope"], body["retry_after"]) == ("address", 1)
        problem(await login(attacker, "owner"), 429, "login_throttled")
        assert (await login(colleague, "owner")).status_code == 200


async def test_a_failure_is_counted_and_logged_although_its_request_rolls_back(client, mall, runtime):
    problem(await login(client, "support", "not the password"), 401, "invalid_credentials")
    problem(await login(client, "nobody", "not the password"), 401, "invalid_credentials")
    assert await rows(runtime, "SELECT key, failures FROM login_failures ORDER BY key") == [
        ("account:nobody", 1), ("account:support", 1), ("address:127.0.0.1", 2)]
    support = await staff_id(mall, "support")
    assert [entry[:4] for entry in await audit_log(runtime)] == [
        ("staff.login_failed", "support", support, "127.0.0.1"), ("staff.login_failed", "nobody", None, "127.0.0.1"),
        ("staff.login", "owner", await staff_id(mall, "owner"), "127.0.0.1")]
    assert [(await audit_log(runtime))[i][4] for i in (0, 1)] == [{"reason": "wrong_password"},
                                                                   {"reason": "unknown_account"}]
    await token_for(client, "support")
    assert await rows(runtime, "SELECT key, failures FROM login_failures ORDER BY key") == [
        ("account:nobody", 1), ("address:127.0.0.1", 2)]
    assert (await audit_log(runtime))[-1][:3] == ("staff.login", "support", support)


async def test_a_missing_account_answers_as_slowly_as_a_wrong_password(client, mall, clock, monkeypatch):
    """A wrong password, a username that does not exist and a mall that does not exist each cost exactly one argon2
    verification with the same parameters as a real staff hash, so the answer's timing tells none of them apart.
    Counted, not timed: the work is the same by construction, whatever the machine is doing."""
    verified: list[str] = []

    def counting(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return verify_password(password_hash, password)

    monkeypatch.setattr(merchants_service, "verify_password", counting)
    staff_hash = (await rows(mall.runtime, "SELECT password_hash FROM staff WHERE merchant_id = :merchant "
                                           "AND username = 'operator'", merchant=mall.merchant_id))[0][0]
    for slug, username in [("acme", "operator"), ("acme", "no-such-user"), ("no-such-mall", "owner")]:
        clock.advance(hours=2)
        problem(await login(client, username, "not the password", slug=slug), 401, "invalid_credentials")
    assert len(verified) == 3
    assert verified[0] == staff_hash
    assert {argon2_parameters(h) for h in verified} == {argon2_parameters(staff_hash)}


def argon2_parameters(password_hash: str) -> tuple[str, str, str]:
    """The variant, version and cost (memory, time, lanes) of an argon2 hash: what its verification costs."""
    variant, version, cost, _salt, _digest = password_hash.lstrip("$").split("$")
    return variant, version, cost


# --- throttling in Redis ---------------------------------------------------------------------------------------------

async def forget_all(throttle: RedisLoginThrottle) -> None:
    keys = [key async for key in throttle.redis.scan_iter(match="fm:login:*")]
    if keys:
        await throttle.redis.delete(*keys)


@pytest.fixture
async def redis_throttle(runtime: Runtime) -> AsyncIterator[RedisLoginThrottle]:
    """The runtime's sign-in counts moved to Redis (a database of this suite's own), emptied before and after."""
    throttle = RedisLoginThrottle(REDIS_URL)
    await forget_all(throttle)
    runtime.login_throttle = throttle
    yield throttle
    await forget_all(throttle)
    await throttle.close()


async def test_redis_counts_back_off_and_a_success_clears_them(client, mall, runtime, clock, redis_throttle):
    for _ in range(FREE_FAILURES_PER_ACCOUNT):
        problem(await login(client, "operator", "not the password", slug=mall.slug), 401, "invalid_credentials")
    assert problem(await login(client, "operator", slug=mall.slug), 429, "login_throttled")["retry_after"] == 1
    clock.advance(seconds=1)
    problem(await login(client, "operator", "not the password", slug=mall.slug), 401, "invalid_credentials")
    assert problem(await login(client, "operator", slug=mall.slug), 429, "login_throttled")["retry_after"] == 2
    assert await rows(runtime, "SELECT count(*) FROM login_failures") == [(0,)]
    clock.advance(seconds=2)
    assert (await login(client, "operator", slug=mall.slug)).status_code == 200
    assert await redis_throttle.redis.exists(f"fm:login:{mall.merchant_id}:account:operator") == 0
    problem(await login(client, "operator", "not the password", slug=mall.slug), 401, "invalid_credentials")


# --- the audit log of staff changes ----------------------------------------------------------------------------------

async def test_staff_changes_are_logged_before_and_after_never_with_the_password(client, mall, runtime):
    owner = await mall.staff("owner")
    created = await client.post("/admin/staff", headers=owner,
                                json={"username": "li.lei", "password": "first passphrase", "role": "support"})
    new_id = created.json()["id"]
    await client.patch(f"/admin/staff/{new_id}", headers=owner, json={"role": "finance", "password": NEW_PASSWORD})
    owner_id = await staff_id(mall, "owner")
    await client.post("/admin/auth/logout", headers=owner)
    entries = await audit_log(runtime)
    assert entries[1:4] == [
        ("staff.create", f"staff:{new_id}", owner_id, "127.0.0.1",
         {"after": {"username": "li.lei", "role": "support", "active": True}}),
        ("staff.update", f"staff:{new_id}", owner_id, "127.0.0.1",
         {"before": {"username": "li.lei", "role": "support", "active": True},
          "after": {"username": "li.lei", "role": "finance", "active": True}, "password_changed": True}),
        ("staff.logout", f"staff:{owner_id}", owner_id, "127.0.0.1", {})]
    [stored_hash] = await rows(runtime, "SELECT password_hash FROM staff WHERE id = :id", id=new_id)
    assert not any(secret in repr(entries) for secret in ("first passphrase", NEW_PASSWORD, stored_hash[0][:30]))
