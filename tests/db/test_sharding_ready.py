"""The schema can be sharded by merchant on Citus, read from the migrated PostgreSQL catalog (not from the models).

Citus distributes a table by one column; it then requires that column, never NULL, in the table's primary key and in
every unique key, and on both sides (the one column matched with the other) of every foreign key between two
distributed tables, which may not set it NULL or DEFAULT on delete nor act on update; ids come from sequences, not
identity columns. Reference tables, copied to every node, may be pointed at from anywhere; tables left local on the
coordinator take no part in foreign keys with the others. `fissionmall.tables` names the reference and local tables;
every other table is a tenant table, distributed by merchant_id (docs/scaling.md, whose Citus calls are
`citus_placement()`'s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from fissionmall.tables import LOCAL_TABLES, REFERENCE_TABLES, citus_placement

DISTRIBUTION_COLUMN = "merchant_id"
SCALING_DOC = Path(__file__).parents[2] / "docs" / "scaling.md"

_COLUMNS = """
SELECT c.relname, a.attname, a.attnotnull, format_type(a.atttypid, a.atttypmod), a.attidentity <> ''
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"""
_CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype::text,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS key(attnum, position)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = key.attnum ORDER BY key.position),
       t.relname,
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS key(attnum, position)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = key.attnum ORDER BY key.position),
       k.confdeltype::text IN ('n', 'd') OR k.confupdtype::text NOT IN ('a', 'r')
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class t ON t.oid = k.confrelid
WHERE n.nspname = current_schema() AND k.contype IN ('p', 'u', 'f', 'x')
ORDER BY c.relname, k.conname"""
_UNIQUE_INDEXES = """
SELECT c.relname, i.relname,
       ARRAY(SELECT coalesce(a.attname, '(expression)')
             FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS key(attnum, position)
             LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = key.attnum
             WHERE key.position <= x.indnkeyatts ORDER BY key.position)
FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND x.indisunique
  AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid)
ORDER BY c.relname, i.relname"""


@dataclass
class Table:
    columns: dict[str, tuple[bool, str]] = field(default_factory=dict)
    """name → (NOT NULL, type)"""
    identity: list[str] = field(default_factory=list)
    """Columns GENERATED AS IDENTITY (Citus takes serial columns, not identity ones, in distributed tables)."""
    primary_key: list[str] | None = None
    unique: list[tuple[str, list[str]]] = field(default_factory=list)
    """(constraint or index, its key columns)"""
    foreign_keys: list[tuple[str, list[str], str, list[str], bool]] = field(default_factory=list)
    """(constraint, columns, target table, target columns, whether a delete sets them NULL or DEFAULT or an update
    moves them: Citus refuses both when the key includes the distribution column)"""


async def read_schema(connection: AsyncConnection) -> dict[str, Table]:
    """Every table of the database's schema, as the catalog has it."""
    tables: dict[str, Table] = {}
    for name, column, not_null, type_, identity in await connection.execute(text(_COLUMNS)):
        table = tables.setdefault(name, Table())
        table.columns[column] = (not_null, type_)
        if identity:
            table.identity.append(column)
    for name, constraint, kind, columns, target, target_columns, moves in await connection.execute(
            text(_CONSTRAINTS)):
        table = tables[name]
        if kind == "p":
            table.primary_key = list(columns)
        elif kind == "f":
            table.foreign_keys.append((constraint, list(columns), target, list(target_columns), moves))
        else:  # unique and exclusion constraints: Citus requires the distribution column in both
            table.unique.append((constraint, list(columns)))
    for name, index, columns in await connection.execute(text(_UNIQUE_INDEXES)):
        tables[name].unique.append((index, list(columns)))
    return tables


def sharding_problems(tables: dict[str, Table]) -> list[str]:
    """What stops `citus_placement()` from being run on this schema, one line per problem, naming the table."""
    placed = REFERENCE_TABLES | LOCAL_TABLES
    problems = [f"{name}: listed in fissionmall.tables but not in the database"
                for name in placed if name not in tables]
    tenant = {name for name in tables if name not in placed}
    for name in sorted(tenant):
        table = tables[name]
        column = table.columns.get(DISTRIBUTION_COLUMN)
        if column is None:
            problems.append(f"{name}: a tenant table without {DISTRIBUTION_COLUMN}")
            continue
        if not column[0]:
            problems.append(f"{name}: {DISTRIBUTION_COLUMN} may be NULL (a distributed row needs its shard)")
        if column[1] != "bigint":
            problems.append(f"{name}: {DISTRIBUTION_COLUMN} is {column[1]}, not bigint like the tables it shares "
                            "nodes with")
        if table.primary_key is None or DISTRIBUTION_COLUMN not in table.primary_key:
            problems.append(f"{name}: primary key {table.primary_key} leaves out {DISTRIBUTION_COLUMN}")
        problems += [f"{name}: unique key {key} {columns} leaves out {DISTRIBUTION_COLUMN}"
                     for key, columns in table.unique if DISTRIBUTION_COLUMN not in columns]
        problems += [f"{name}: {column} is an identity column" for column in table.identity]
    for name in sorted(tables):
        for key, columns, target, target_columns, moves in tables[name].foreign_keys:
            pair = dict(zip(columns, target_columns, strict=True))
            if name in tenant and target in tenant and pair.get(DISTRIBUTION_COLUMN) != DISTRIBUTION_COLUMN:
                problems.append(f"{name}: foreign key {key} to {target} {columns} → {target_columns} does not match "
                                f"{DISTRIBUTION_COLUMN} with {DISTRIBUTION_COLUMN}")
            elif name in tenant and DISTRIBUTION_COLUMN in columns and moves:
                problems.append(f"{name}: foreign key {key} to {target} sets NULL or DEFAULT on delete, or acts on "
                                "update")
            elif name in LOCAL_TABLES or target in LOCAL_TABLES:
                problems.append(f"{name}: foreign key {key} to {target}: a local table takes part in none")
            elif name in REFERENCE_TABLES and target in tenant:
                problems.append(f"{name}: foreign key {key} from a reference table to the tenant table {target}")
    return problems


def placement_order_problems(tables: dict[str, Table]) -> list[str]:
    """A table placed before a table its foreign keys point at (Citus refuses that), or a table left unplaced."""
    order = [re.search(r"\('(\w+)'", call).group(1) for call in citus_placement()]  # type: ignore[union-attr]
    position = {name: n for n, name in enumerate(order)}
    problems = [f"{name}: in no call" for name in tables if name not in position and name not in LOCAL_TABLES]
    for name in order:
        problems += [f"{name}: placed before {target}, which its foreign key {key} points at"
                     for key, _, target, _, _ in tables[name].foreign_keys if position[target] > position[name]]
    return problems


@pytest.mark.postgres
async def test_every_tenant_table_can_be_distributed_by_merchant(engine):
    async with engine.connect() as connection:
        tables = await read_schema(connection)
    assert sharding_problems(tables) == []
    assert placement_order_problems(tables) == []


BREAKING_EACH_RULE = (
    "CREATE TABLE wishlist_notes (id bigserial PRIMARY KEY, customer_id bigint, note text)",
    """CREATE TABLE wishlist_items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, merchant_id bigint,
                                 sku_id bigint NOT NULL)""",
    """CREATE TABLE wishlists (id bigserial, merchant_id bigint NOT NULL, customer_id bigint NOT NULL, sku_id bigint,
                            code text NOT NULL, PRIMARY KEY (id, merchant_id),
                            CONSTRAINT uq_wishlists_code UNIQUE (code),
                            CONSTRAINT fk_wishlists_customer_id_customers FOREIGN KEY (customer_id, merchant_id)
                                REFERENCES customers (merchant_id, id),
                            CONSTRAINT fk_wishlists_sku_id_skus FOREIGN KEY (sku_id, merchant_id)
                                REFERENCES skus (id, merchant_id) ON DELETE SET NULL)""",
    "CREATE UNIQUE INDEX uq_wishlists_customer ON wishlists (customer_id) WHERE code <> ''",
    "ALTER TABLE merchants ADD COLUMN first_customer bigint",
    """ALTER TABLE merchants ADD CONSTRAINT fk_merchants_first_customer FOREIGN KEY (first_customer, id)
           REFERENCES customers (id, merchant_id)""",
)


@pytest.mark.postgres
async def test_a_table_that_breaks_a_rule_is_named(engine):
    """The check fails on what Citus would refuse: tables made in a transaction that is rolled back."""
    async with engine.connect() as connection, connection.begin():
        for statement in BREAKING_EACH_RULE:
            await connection.exec_driver_sql(statement)
        problems = sharding_problems(await read_schema(connection))
        await connection.rollback()
    assert problems == [
        "wishlist_items: merchant_id may be NULL (a distributed row needs its shard)",
        "wishlist_items: primary key ['id'] leaves out merchant_id",
        "wishlist_items: id is an identity column",
        "wishlist_notes: a tenant table without merchant_id",
        "wishlists: unique key uq_wishlists_code ['code'] leaves out merchant_id",
        "wishlists: unique key uq_wishlists_customer ['customer_id'] leaves out merchant_id",
        "merchants: foreign key fk_merchants_first_customer from a reference table to the tenant table customers",
        "wishlists: foreign key fk_wishlists_customer_id_customers to customers ['customer_id', 'merchant_id'] → "
        "['merchant_id', 'id'] does not match merchant_id with merchant_id",
        "wishlists: foreign key fk_wishlists_sku_id_skus to skus sets NULL or DEFAULT on delete, or acts on update",
    ]


@pytest.mark.backend_free
def test_the_docs_place_the_schema_as_the_code_does():
    """docs/scaling.md shows `citus_placement()`'s calls, whole and in order."""
    section = SCALING_DOC.read_text().split("## Sharding by merchant (Citus)", 1)[1].split("\n## ", 1)[0]
    shown = re.search(r"```sql\n(.*?)```", section, re.S)
    assert shown is not None and shown.group(1).splitlines() == citus_placement()
