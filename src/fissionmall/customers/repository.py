"""Every query about customers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.customers.models import Customer, SavedAddress
from fissionmall.db.sql import china_day, insert_ignoring_conflicts, table


async def insert_if_absent(session: AsyncSession, **values: object) -> int | None:
    """Create the customer unless (merchant, openid) exists; returns the new id or None."""
    statement = insert_ignoring_conflicts(session, Customer).values(**values).returning(Customer.id)
    return (await session.execute(statement)).scalar()


async def by_openid(session: AsyncSession, merchant_id: int, openid: str) -> Customer:
    statement = select(Customer).where(Customer.merchant_id == merchant_id, Customer.openid == openid)
    return (await session.execute(statement)).scalar_one()


_CUSTOMERS = table(Customer)
_CUSTOMER = select(Customer).where(Customer.merchant_id == bindparam("merchant_id"),
                                   Customer.id == bindparam("customer_id"))
_FIRST_PAID = (update(_CUSTOMERS)
               .where(_CUSTOMERS.c.id == bindparam("customer_id"), _CUSTOMERS.c.first_paid_at.is_(None))
               .values(first_paid_at=bindparam("at", type_=_CUSTOMERS.c.first_paid_at.type))
               .returning(_CUSTOMERS.c.inviter_id))


async def by_id(session: AsyncSession, merchant_id: int, customer_id: int) -> Customer | None:
    return (await session.execute(_CUSTOMER, dict(merchant_id=merchant_id, customer_id=customer_id))
            ).scalar_one_or_none()


async def mark_first_paid(session: AsyncSession, customer_id: int, at: datetime) -> tuple[bool, int | None]:
    """The customer stops being new: (True only for the payment that made it so, their inviter)."""
    result = await session.execute(_FIRST_PAID, dict(customer_id=customer_id, at=at))
    row = result.first()
    return (row is not None, row[0] if row else None)


async def device_seen_before(session: AsyncSession, merchant_id: int, device_id: str, customer_id: int) -> bool:
    statement = select(Customer.id).where(Customer.merchant_id == merchant_id, Customer.signup_device_id == device_id,
                                          Customer.id < customer_id).limit(1)
    return (await session.execute(statement)).scalar() is not None


async def count_invited(session: AsyncSession, merchant_id: int, inviter_id: int) -> int:
    statement = select(func.count()).where(Customer.merchant_id == merchant_id, Customer.inviter_id == inviter_id)
    return int((await session.execute(statement)).scalar_one())


async def lock_customer(session: AsyncSession, customer_id: int) -> None:
    """Serialise a shopper's address book changes (the cap of 20, the one default) on PostgreSQL; SQLite's writers
    are serialised already."""
    await session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


async def addresses_of(session: AsyncSession, merchant_id: int, customer_id: int) -> list[SavedAddress]:
    """The address book, the default first, then the newest."""
    statement = (select(SavedAddress)
                 .where(SavedAddress.merchant_id == merchant_id, SavedAddress.customer_id == customer_id)
                 .order_by(SavedAddress.is_default.desc(), SavedAddress.id.desc()))
    return list((await session.execute(statement)).scalars())


async def count_addresses(session: AsyncSession, merchant_id: int, customer_id: int) -> int:
    statement = select(func.count()).select_from(SavedAddress).where(
        SavedAddress.merchant_id == merchant_id, SavedAddress.customer_id == customer_id)
    return int((await session.execute(statement)).scalar_one())


async def address_of(session: AsyncSession, merchant_id: int, customer_id: int,
                     address_id: int) -> SavedAddress | None:
    statement = select(SavedAddress).where(SavedAddress.id == address_id, SavedAddress.merchant_id == merchant_id,
                                           SavedAddress.customer_id == customer_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def add_address(session: AsyncSession, **values: object) -> SavedAddress:
    address = SavedAddress(**values)
    session.add(address)
    await session.flush()
    return address


async def make_default(session: AsyncSession, merchant_id: int, customer_id: int, address_id: int) -> None:
    """This address becomes the default and every other one stops being it, in one statement."""
    await session.execute(update(SavedAddress)
                          .where(SavedAddress.merchant_id == merchant_id, SavedAddress.customer_id == customer_id)
                          .values(is_default=SavedAddress.id == address_id))


async def delete_address(session: AsyncSession, address_id: int) -> None:
    await session.execute(delete(SavedAddress).where(SavedAddress.id == address_id))


async def new_customers_by_day(session: AsyncSession, merchant_id: int,
                               since: datetime) -> list[tuple[str, int, int]]:
    """(day in China's time, customers who signed up, how many of them through a share link) since `since`."""
    day = china_day(Customer.created_at)
    rows = await session.execute(select(day, func.count(), func.count(Customer.acquired_by_share_id))
                                 .where(Customer.merchant_id == merchant_id, Customer.created_at >= since)
                                 .group_by(day))
    return [(str(d), int(n), int(shared)) for d, n, shared in rows]
