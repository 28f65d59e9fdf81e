"""Small dialect bridges, so repositories read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import String, Table, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from fissionmall.db.base import UtcDateTime


def table(model: type[Any]) -> Table:
    """A mapped class's Table, for Core statements (which skip the ORM's per-statement work on hot paths)."""
    return cast(Table, model.__table__)


def utc_times(statement: Any, *names: str) -> Any:
    """A text statement whose named parameters are bound as UTC datetimes, stored alike on both databases."""
    return statement.bindparams(*(bindparam(name, type_=UtcDateTime()) for name in names))


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"


def dialect_insert(session: AsyncSession, model: Any) -> Any:
    """INSERT with the dialect's ON CONFLICT clauses (PostgreSQL and SQLite write them alike)."""
    return (pg_insert if dialect_of(session) == "postgresql" else sqlite_insert)(model)


def insert_ignoring_conflicts(session: AsyncSession, model: type[Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: the unique key decides who wins a race."""
    return dialect_insert(session, model).on_conflict_do_nothing()


class Prebuilt:
    """A statement built once per dialect and then reused with bound parameters.

    On a hot path, building a statement (and its cache key) costs as much CPU as sending it; a prebuilt one is
    looked up in SQLAlchemy's compiled cache at once. `build` gets the dialect's INSERT (for ON CONFLICT)."""

    def __init__(self, build: Callable[[Callable[[Any], Any]], Any]) -> None:
        self._build = build
        self._built: dict[str, Any] = {}

    def __call__(self, session: AsyncSession) -> Any:
        dialect = dialect_of(session)
        statement = self._built.get(dialect)
        if statement is None:
            statement = self._built[dialect] = self._build(
                pg_insert if dialect == "postgresql" else sqlite_insert)
        return statement


class Direct:
    """A Core statement that, on PostgreSQL, skips SQLAlchemy's execution layer and goes straight to asyncpg.

    Measured in-process here: a one-row UPDATE or SELECT costs 220–260 µs of CPU through `session.execute` (the
    execution context, the cursor adapter, the greenlet hop, the Result; `exec_driver_sql` costs the same) and
    about 30 µs as `asyncpg.Connection.fetch`. SQLAlchemy still compiles the SQL (once per dialect) and each bound
    value and result column goes through its type's processors, so what is sent and read is what SQLAlchemy would
    send and read; asyncpg keeps the statement prepared per connection. It runs in the session's transaction (begun
    here if this is the request's first statement), and a driver error reaches the app as SQLAlchemy's own would
    (a `DBAPIError`, the connection invalidated on a disconnect). On SQLite, and while anything listens to the
    engine's statements (the bench's capture, tracing), the statement goes through the session.

    For hot statements whose answer is a few plain columns; rows come back as tuples in the statement's order.
    `build` gets the dialect's INSERT (for ON CONFLICT), as with Prebuilt. No "expanding" IN parameters."""

    def __init__(self, build: Callable[[Callable[[Any], Any]], Any]) -> None:
        self._statement = Prebuilt(build)
        self._compiled: dict[tuple[str, ...], _Compiled] = {}
        """By the parameters' names: an INSERT names only the columns it is given values for."""

    async def rows(self, session: AsyncSession, params: dict[str, Any]) -> Sequence[tuple[Any, ...]]:
        statement = self._statement(session)
        connection = await session.connection()
        if connection.dialect.name != "postgresql" or connection.sync_engine.dispatch.before_cursor_execute:
            # SQLite, or someone listens to what is sent (a statement capture, tracing): the session's way
            result = await session.execute(statement, params)
            return [tuple(row) for row in result.all()] if result.returns_rows else []  # type: ignore[attr-defined]
        names = tuple(params)
        compiled = self._compiled.get(names)
        if compiled is None:
            compiled = self._compiled[names] = _Compiled(statement, connection.dialect, names)
        arguments = compiled.arguments(params)
        adapted = (await connection.get_raw_connection()).dbapi_connection
        try:
            async with adapted._execute_mutex:  # type: ignore[union-attr]
                if adapted._transaction is None:  # type: ignore[union-attr]
                    await adapted._start_transaction()  # type: ignore[union-attr]
                records = await adapted._connection.fetch(compiled.sql, *arguments)  # type: ignore[union-attr]
        except Exception as error:  # asyncpg's error, raised as SQLAlchemy raises it from session.execute
            raise await _as_dbapi_error(connection, adapted, error, compiled.sql, arguments) from error
        return compiled.result(records)

    async def scalar(self, session: AsyncSession, params: dict[str, Any]) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows = await self.rows(session, params)
        return rows[0][0] if rows else None


class _Compiled:
    """A statement as asyncpg takes it: SQL with $n placeholders, the bound names in order, the type processors."""

    def __init__(self, statement: Any, dialect: Any, names: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(names))
        self.sql: str = compiled.string
        self.compiled = compiled
        self.names: list[str] = list(compiled.positiontup or ())
        self.binders = {name: compiled._bind_processors.get(name) for name in self.names}
        self.readers = [entry.type._cached_result_processor(dialect, None) for entry in compiled._result_columns]

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params)
        out = []
        for name in self.names:
            value, bind = values[name], self.binders[name]
            out.append(bind(value) if bind is not None and value is not None else value)
        return out

    def result(self, records: Sequence[Any]) -> list[tuple[Any, ...]]:
        readers = self.readers
        if not any(readers):
            return [tuple(record) for record in records]
        return [tuple(read(value) if read is not None else value for read, value in zip(readers, record, strict=True))
                for record in records]


async def _as_dbapi_error(connection: Any, adapted: Any, error: Exception, sql: str,
                          arguments: list[Any]) -> Exception:
    """The exception `session.execute` would have raised for this driver error, made by SQLAlchemy's own handling
    (the engine's handle_error listeners included, and the pool invalidated on a disconnect)."""
    try:
        adapted._handle_exception(error)  # raises the DBAPI-level translation
    except Exception as translated:  # noqa: BLE001
        dbapi_error = translated

    def handle(sync_connection: Any) -> None:
        sync_connection._handle_dbapi_exception(dbapi_error, sql, tuple(arguments), None, None)

    try:
        await connection.run_sync(handle)
    except Exception as raised:  # noqa: BLE001
        return raised
    return dbapi_error


async def add_unique(session: AsyncSession, *objects: Any) -> bool:
    """Insert rows guarded by a unique key; False (and nothing written) when the key is taken.

    A savepoint keeps the request's transaction usable after the violation, so the caller can answer
    with a domain error: the constraint decides, never an earlier existence check.
    """
    try:
        async with session.begin_nested():
            session.add_all(objects)
            await session.flush()
    except IntegrityError:
        return False
    return True


class china_day(FunctionElement[str]):  # noqa: N801  (used like a SQL function)
    """The calendar day, in China's time (UTC+8, no daylight saving), of a stored UTC moment: for counting by day.
    PostgreSQL: `(t AT TIME ZONE 'Asia/Shanghai')::date`; SQLite: `date(t, '+8 hours')`."""

    type = String()
    inherit_cache = True


@compiles(china_day, "postgresql")
def _china_day_postgresql(element: china_day, compiler: Any, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"


@compiles(china_day, "sqlite")
def _china_day_sqlite(element: china_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"
