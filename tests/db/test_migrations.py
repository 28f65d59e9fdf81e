"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from fissionmall.db.base import compared_on
from fissionmall.tables import Base


async def test_migrated_schema_matches_the_models(engine):
    """A constraint the models build on one database only (a referenced tenant table's (id, merchant_id) on SQLite,
    where its primary key is id alone: `db.base.tenant_key`) is compared on that database only."""
    def differences(connection):
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": compared_on(engine.dialect.name)})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_primary_keys_are_the_models(engine):
    """Alembic compares no primary keys. On PostgreSQL each is the model's; on SQLite a tenant table's leaves out
    merchant_id (`db.base.tenant_key`: SQLite assigns ids only to a lone INTEGER PRIMARY KEY)."""
    def keys(connection):
        inspector = inspect(connection)
        return {name: inspector.get_pk_constraint(name)["constrained_columns"]
                for name in inspector.get_table_names() if name != "alembic_version"}

    async with engine.connect() as connection:
        migrated = await connection.run_sync(keys)
    modelled = {table.name: [column.name for column in table.primary_key.columns]
                for table in Base.metadata.sorted_tables}
    if engine.dialect.name == "sqlite":
        modelled = {name: [column for column in key if column != "merchant_id"] for name, key in modelled.items()}
    assert migrated == modelled
