"""Owners manage staff; passwords are argon2-hashed; nobody else can, and an owner cannot lock themselves out."""

from sqlalchemy import select

from fissionmall.merchants.models import Staff
from tests.support import problem


async def test_owner_adds_staff_who_can_log_in(client, mall, runtime):
    owner = await mall.staff("owner")
    response = await client.post("/admin/staff", headers=owner,
                                 json={"username": "li.lei", "password": "a long passphrase", "role": "support"})
    assert response.status_code == 201, response.text
    assert response.json() == {"id": response.json()["id"], "username": "li.lei", "role": "support", "active": True}
    async with runtime.sessionmaker() as session:
        stored = (await session.execute(select(Staff.password_hash).where(Staff.username == "li.lei"))).scalar_one()
    assert stored.startswith("$argon2") and "a long passphrase" not in stored
    login = await client.post("/admin/auth/login",
                              json={"merchant_slug": "acme", "username": "li.lei", "password": "a long passphrase"})
    assert login.status_code == 200
    problem(await client.post("/admin/staff", headers=owner,
                              json={"username": "li.lei", "password": "another passphrase", "role": "owner"}),
            409, "username_taken")


async def test_disabled_staff_cannot_log_in(client, mall):
    owner = await mall.staff("owner")
    created = await client.post("/admin/staff", headers=owner,
                                json={"username": "temp", "password": "a long passphrase", "role": "operator"})
    await client.patch(f"/admin/staff/{created.json()['id']}", headers=owner, json={"active": False})
    login = await client.post("/admin/auth/login",
                              json={"merchant_slug": "acme", "username": "temp", "password": "a long passphrase"})
    problem(login, 401, "invalid_credentials")


async def test_only_owners_manage_staff_and_not_themselves(client, mall):
    for role in ("operator", "finance", "support"):
        problem(await client.get("/admin/staff", headers=await mall.staff(role)), 403, "forbidden")
    owner = await mall.staff("owner")
    me = next(s for s in (await client.get("/admin/staff", headers=owner)).json() if s["username"] == "owner")
    problem(await client.patch(f"/admin/staff/{me['id']}", headers=owner, json={"role": "support"}),
            409, "cannot_demote_self")
    problem(await client.post("/admin/staff", headers=owner,
                              json={"username": "x y", "password": "short", "role": "boss"}), 422, "invalid_request")
