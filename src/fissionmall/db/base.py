"""Declarative base and the column types every table shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Constraint,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer, "sqlite")
"""64-bit keys on PostgreSQL; INTEGER on SQLite so that rowid autoincrement works."""

JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Always timezone-aware UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(moment, datetime)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JsonDoc, list[Any]: JsonDoc}


class IdMixin:
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)


class TenantIdMixin:
    """The id of a row of one merchant's data (a tenant table, which a Citus cluster distributes by merchant_id).

    The database assigns it and the ORM knows the row by it alone, but the table's key is (id, merchant_id), declared
    with `tenant_key()`: a distributed table's primary and unique keys must include the distribution column."""

    id: Mapped[int] = mapped_column(Id, autoincrement=True)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        table: Table = cls.__table__  # type: ignore[attr-defined]
        return {"primary_key": [table.c.id]}


ONLY_ON = "only_on"
"""The `info` entry of a constraint the models build on one database only."""


def tenant_key(*, referenced: bool = False) -> tuple[Constraint, ...]:
    """A tenant table's primary key, (id, merchant_id): id first, so that a lookup by id alone still uses its index.

    SQLite assigns ids only to a lone INTEGER PRIMARY KEY, and the embedded database is never distributed: there the
    key stays (id), unique by itself. A table that `same_merchant` foreign keys point at (`referenced`) then needs
    (id, merchant_id) as a unique key of its own on SQLite, for them to point at."""
    key: tuple[Constraint, ...] = (PrimaryKeyConstraint("id", "merchant_id"),)
    if referenced:
        key += (UniqueConstraint("id", "merchant_id", info={ONLY_ON: "sqlite"}).ddl_if(dialect="sqlite"),)
    return key


def compared_on(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's `include_object` when the models are compared with a database (autogenerate, the migration test): a
    constraint built on another database only is left out of the comparison."""
    def include(model_or_reflected: Any, _name: str | None, _type: str, _reflected: bool, _compare_to: Any) -> bool:
        return bool(getattr(model_or_reflected, "info", {}).get(ONLY_ON, dialect) == dialect)
    return include


def same_merchant(column: str, target: str, **options: Any) -> ForeignKeyConstraint:
    """A foreign key from one tenant table to another through the merchant as well: the row named is the same
    merchant's, as co-located distributed tables require (and as an id alone never promised)."""
    return ForeignKeyConstraint([column, "merchant_id"], [f"{target}.id", f"{target}.merchant_id"], **options)

