"""Writing many rows fast: COPY on PostgreSQL, one driver-level executemany on SQLite.

For the rows of a bill run (a million invoice lines): the ORM's bulk insert processes every
value through its column type in Python, which costs more than the database's own work.
Here the values are plain Python values converted once by their type, as the column types
store them: on SQLite a `Decimal` as its exact text (see `types.Amount`), a date as ISO text,
an instant as naive UTC text (see `types.UTCDateTime`), JSON as text.

COPY goes to psycopg directly (`copy_in`), past SQLAlchemy, so its errors are raised as
SQLAlchemy's (`IntegrityError`, `DataError`…, all `DBAPIError`), as an INSERT's are: a caller
that recovers from a failed write (a bill run writes a failed chunk's payers one by one) sees
the same error on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import JSON, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

CHUNK = 10_000


def _to_json(document: Any) -> str:
    """Compact JSON text: orjson writes a line's lineage in a tenth of the standard
    library's time (a million lines a run)."""
    return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _to_json(value)
    return value


@contextmanager
def copy_in(session: Session, statement: str, *, queued: bool = False) -> Iterator[Any]:
    """``COPY ... FROM STDIN`` on the session's own connection (PostgreSQL), so the rows
    commit or roll back with the rest of its transaction; yields psycopg's `Copy`. `queued`:
    a thread sends each chunk written while the caller formats the next one.

    A driver error (a unique key taken, a value too long) is raised as SQLAlchemy's."""
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    error_type: Any = connection.dialect.dbapi.Error  # type: ignore[union-attr]
    try:
        with driver.cursor() as cursor:
            writer = QueuedLibpqWriter(cursor) if queued else None
            with cursor.copy(statement, writer=writer) as copy:
                yield copy
    except error_type as error:
        raise DBAPIError.instance(
            statement, None, error, error_type, dialect=connection.dialect
        ) from error


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert `rows` (values in `columns` order) into `table` in the session's transaction."""
    connection = session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        # psycopg adapts every value but JSON, which goes as its text
        documents = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        with copy_in(session, f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                if documents:
                    row = list(row)
                    for i in documents:
                        row[i] = None if row[i] is None else _to_json(row[i])
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' for _ in columns)})"
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(tuple(_sqlite_value(v) for v in row))
        if len(batch) == CHUNK:
            connection.exec_driver_sql(sql, batch)
            batch = []
    if batch:
        connection.exec_driver_sql(sql, batch)
