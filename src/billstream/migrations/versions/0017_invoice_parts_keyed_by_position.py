"""billing: invoice lines and taxes keyed by their invoice and position, without an id

A line's `id` was made from its invoice's id and its position, so it said nothing the unique
`(invoice_id, position)` did not, and it cost an index entry and 37 bytes a line: of the
1.42M lines of a 100,000-account run, that index alone took about a fifth of the server's time
to insert them. `(invoice_id, position)` becomes the primary key, of taxes too.

SQLite cannot change a primary key in place, so the tables are rebuilt in batch mode there,
and migration 0014's triggers (which a rebuild loses) are created again.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 10:30:00.000000
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIXES = {"invoice_lines": "inl", "invoice_taxes": "itx"}  # of the ids given back (down)
# the triggers of 0014 (dropped and created again around a SQLite rebuild)
_0014 = importlib.import_module("billstream.migrations.versions.0014_invoice_part_references")
_0015 = importlib.import_module("billstream.migrations.versions.0015_invoice_line_indexes")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if not postgresql:
        _0015._drop_sqlite_triggers()
    for table in PREFIXES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_invoice_id_position", type_="unique")
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.drop_column("id")
            batch.create_primary_key(f"pk_{table}", ["invoice_id", "position"])
    if not postgresql:
        _0014._sqlite_checks()


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if not postgresql:
        _0015._drop_sqlite_triggers()
    for table, prefix in PREFIXES.items():
        # the ids bill runs gave: the invoice's first 24 hex digits and 8 of the position
        hex_position = (
            "lpad(to_hex(position), 8, '0')" if postgresql else "printf('%08x', position)"
        )
        op.add_column(table, sa.Column("id", sa.String(length=36), nullable=True))
        if postgresql:  # the guard of issued invoices' parts refuses the update otherwise
            op.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        op.execute(
            f"UPDATE {table} SET id = '{prefix}_' || substr(invoice_id, 5, 24) || {hex_position}"
        )
        if postgresql:
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.alter_column("id", existing_type=sa.String(length=36), nullable=False)
            batch.create_primary_key(f"pk_{table}", ["id"])
            batch.create_unique_constraint(
                f"uq_{table}_invoice_id_position", ["invoice_id", "position"]
            )
    if not postgresql:
        _0014._sqlite_checks()
