"""mediation: a content's first arrival is unique per tenant, a line is rejected once

Two imports of the same file at the same moment each found no earlier arrival and each
stored the file's rejects. Imports now lock the content first (`lock_content`), and the
database holds it too: one first arrival (`duplicate_of IS NULL`) per tenant and checksum,
one reject per file and line.

Arrivals doubled by that race before are mended first: the later ones (by time received,
then id) become duplicates of the first, and their open rejects, the first's again, are
removed and counted as duplicates (records_in = accepted + rejected + duplicates still).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# an arrival recorded as first although an earlier first arrival of its content exists
_DOUBLED = """
    SELECT u.id FROM usage_files u WHERE u.duplicate_of IS NULL AND EXISTS (
        SELECT 1 FROM usage_files f
        WHERE f.tenant_id = u.tenant_id AND f.checksum = u.checksum
          AND f.duplicate_of IS NULL
          AND (f.received_at < u.received_at OR (f.received_at = u.received_at AND f.id < u.id))
    )
"""
_OPEN = (
    "SELECT count(*) FROM usage_rejects r WHERE r.file_id = usage_files.id AND r.status = 'open'"
)
_FIRST = """
    SELECT f.id FROM usage_files f
    WHERE f.tenant_id = usage_files.tenant_id AND f.checksum = usage_files.checksum
      AND f.duplicate_of IS NULL
    ORDER BY f.received_at, f.id LIMIT 1
"""


def upgrade() -> None:
    doubled = [row[0] for row in op.get_bind().execute(sa.text(_DOUBLED))]
    if doubled:
        ids: sa.BindParameter[list[str]] = sa.bindparam("ids", doubled, expanding=True)
        op.execute(
            sa.text(
                f"UPDATE usage_files SET duplicates = duplicates + ({_OPEN}), "
                f"rejected = rejected - ({_OPEN}) WHERE id IN :ids"
            ).bindparams(ids)
        )
        op.execute(
            sa.text(
                "DELETE FROM usage_rejects WHERE status = 'open' AND file_id IN :ids"
            ).bindparams(ids)
        )
        op.execute(
            sa.text(
                f"UPDATE usage_files SET duplicate_of = ({_FIRST}) WHERE id IN :ids"
            ).bindparams(ids)
        )
    op.create_index(
        "uq_usage_files_first_arrival",
        "usage_files",
        ["tenant_id", "checksum"],
        unique=True,
        postgresql_where=sa.text("duplicate_of IS NULL"),
        sqlite_where=sa.text("duplicate_of IS NULL"),
    )
    op.create_index(
        "ix_usage_rejects_file_id_line_no", "usage_rejects", ["file_id", "line_no"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_usage_rejects_file_id_line_no", table_name="usage_rejects")
    op.drop_index("uq_usage_files_first_arrival", table_name="usage_files")
