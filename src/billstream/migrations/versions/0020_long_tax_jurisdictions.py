"""billing: a line's tax jurisdiction as long as an address's region allows

A line's jurisdiction is its account's service address: the country code, then the region
as written (`billing.taxes.jurisdiction_of`), and a region may be up to 100 characters
(``GB-WEST YORKSHIRE``, ``US-NORTH CAROLINA``). The columns held 16, so on PostgreSQL a bill
run with such an account failed as a whole (SQLite does not enforce a VARCHAR's length).
They now hold 2 + 1 + 100. Tax rules keep their codes (``US-NC``): `tax_rates` is unchanged.

SQLite rebuilds the tables in batch mode, and migration 0014's triggers (which a rebuild
loses) are created again. Downgrading cuts longer values to 16 characters (the schema before
could not hold them).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 10:40:00.000000
"""

import importlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {"invoice_lines": "tax_jurisdiction", "invoice_taxes": "jurisdiction"}
NULLABLE = {"invoice_lines": True, "invoice_taxes": False}
OLD, NEW = 16, 103
# the triggers of 0014 (dropped and created again around a SQLite rebuild)
_0014 = importlib.import_module("billstream.migrations.versions.0014_invoice_part_references")
_0015 = importlib.import_module("billstream.migrations.versions.0015_invoice_line_indexes")


def upgrade() -> None:
    with _triggers_set_aside():
        _resize(OLD, NEW)


def downgrade() -> None:
    with _triggers_set_aside():
        for table, column in COLUMNS.items():
            op.execute(
                f"UPDATE {table} SET {column} = substr({column}, 1, {OLD}) "
                f"WHERE length({column}) > {OLD}"
            )
        _resize(NEW, OLD)


@contextmanager
def _triggers_set_aside() -> Iterator[None]:
    """0014's triggers out of the way: on PostgreSQL disabled (the guard of issued invoices'
    parts refuses the downgrade's update), on SQLite dropped and created again (a rebuild in
    batch mode loses them, and SQLite refuses to rebuild a table other triggers name)."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for table in COLUMNS:
            op.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    else:
        _0015._drop_sqlite_triggers()
    yield
    if postgresql:
        for table in COLUMNS:
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    else:
        _0014._sqlite_checks()


def _resize(before: int, after: int) -> None:
    for table, column in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sa.String(length=before),
                type_=sa.String(length=after),
                existing_nullable=NULLABLE[table],
            )
