"""Every query about customers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fissionmall.core.pagination import row_id_in
from fissionmall.customers.models import Customer, SavedAddress
from fissionmall.db.sql import Direct, china_day, table

_SIGN_UP = Direct(lambda insert: insert(table(Customer)).on_conflict_do_nothing().returning(table(Customer).c.id))


async def insert_if_absent(session: AsyncSession, **values: object) -> int | None:
    """Create the customer unless (merchant, openid) exists; returns the new id or None."""
    new_id: int | None = await _SIGN_UP.scalar(session, values)
    return new_id


async def by_openid(session: AsyncSession, merchant_id: int, openid: str) -> Customer:
    statement = select(Customer).where(Customer.merchant_id == merchant_id, Customer.openid == openid)
    return (await session.execute(statement)).scalar_one()


_CUSTOMERS = table(Customer)
_CUSTOMER = select(Customer).where(Customer.merchant_id == bindparam("merchant_id"),
                                   Customer.id == bindparam("customer_id"))
_FIRST_PAID = Direct(lambda _: update(_CUSTOMERS)
               .where(_CUSTOMERS.c.id == bindparam("customer_id"), _CUSTOMERS.c.first_paid_at.is_(None))
               .values(first_paid_at=bindparam("at", type_=_CUSTOMERS.c.first_paid_at.type))
               .returning(_CUSTOMERS.c.inviter_id))


async def by_id(session: AsyncSession, merchant_id: int, customer_id: int) -> Customer | None:
    return (await session.execute(_CUSTOMER, dict(merchant_id=merchant_id, customer_id=customer_id))
            ).scalar_one_or_none()


async def mark_first_paid(session: AsyncSession, customer_id: int, at: datetime) -> tuple[bool, int | None]:
    """The customer stops being new: (True only for the payment that made it so, their inviter)."""
    rows = await _FIRST_PAID.rows(session, dict(customer_id=customer_id, at=at))
    return (bool(rows), rows[0][0] if rows else None)


async def device_seen_before(session: AsyncSession, merchant_id: int, device_id: str, customer_id: int) -> bool:
    statement = select(Customer.id).where(Customer.merchant_id == merchant_id, Customer.signup_device_id == device_id,
                                          Customer.id < customer_id).limit(1)
    return (await session.execute(statement)).scalar() is not None


async def count_invited(session: AsyncSession, merchant_id: int, inviter_id: int) -> int:
    statement = select(func.count()).where(Customer.merchant_id == merchant_id, Customer.inviter_id == inviter_id)
    return int((await session.execute(statement)).scalar_one())


async def friend_ids(session: AsyncSession, merchant_id: int, customer_id: int, limit: int) -> list[int]:
    """The customer's inviter and the customers they invited (the merchant-and-inviter index serves the second)."""
    inviter = select(Customer.inviter_id).where(Customer.merchant_id == merchant_id, Customer.id == customer_id)
    invited = (select(Customer.id).where(Customer.merchant_id == merchant_id, Customer.inviter_id == customer_id)
               .order_by(Customer.id).limit(limit))
    found = [i for i in (await session.execute(inviter)).scalars() if i is not None]
    return found + list((await session.execute(invited)).scalars())


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


def _matching(merchant_id: int, query: str | None) -> list[ColumnElement[bool]]:
    """A merchant's customers whose nickname contains `query`, or whose id it is (digits)."""
    criteria: list[ColumnElement[bool]] = [Customer.merchant_id == merchant_id]
    if query:
        named = Customer.nickname.icontains(query, autoescape=True)
        typed_id = row_id_in(query)
        criteria.append(or_(named, Customer.id == typed_id) if typed_id is not None else named)
    return criteria


async def customer_page(session: AsyncSession, merchant_id: int, query: str | None, before_id: int | None,
                        limit: int) -> list[Customer]:
    """Newest first (the merchant's customers by id), narrowed by nickname or id."""
    statement = select(Customer).where(*_matching(merchant_id, query)).order_by(Customer.id.desc()).limit(limit)
    if before_id is not None:
        statement = statement.where(Customer.id < before_id)
    return list((await session.execute(statement)).scalars())


async def matching_ids(session: AsyncSession, merchant_id: int, query: str, limit: int) -> list[int]:
    """Ids of the newest customers matching `query` (an order search by customer), at most `limit`."""
    statement = select(Customer.id).where(*_matching(merchant_id, query)).order_by(Customer.id.desc()).limit(limit)
    return list((await session.execute(statement)).scalars())


async def by_ids(session: AsyncSession, merchant_id: int, customer_ids: Sequence[int]) -> list[Customer]:
    if not customer_ids:
        return []
    statement = select(Customer).where(Customer.merchant_id == merchant_id, Customer.id.in_(list(customer_ids)))
    return list((await session.execute(statement)).scalars())


async def invited_by(session: AsyncSession, merchant_id: int, inviter_id: int, limit: int) -> list[Customer]:
    """Whom a customer brought directly, newest first (ix_customers_merchant_inviter)."""
    statement = (select(Customer).where(Customer.merchant_id == merchant_id, Customer.inviter_id == inviter_id)
                 .order_by(Customer.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())


async def subtree_size(session: AsyncSession, merchant_id: int, customer_id: int) -> int:
    """Everyone a customer brought, directly or through those they brought, at any depth: a recursive walk down
    inviter_id, one index range per customer reached (the same SQL on SQLite and PostgreSQL). An inviter always
    signed up before whom they brought, so the walk has no cycle."""
    tree = (select(Customer.id).where(Customer.merchant_id == merchant_id, Customer.inviter_id == customer_id)
            .cte("tree", recursive=True))
    child = aliased(Customer)
    tree = tree.union_all(select(child.id).where(child.merchant_id == merchant_id, child.inviter_id == tree.c.id))
    return int((await session.execute(select(func.count()).select_from(tree))).scalar_one())
