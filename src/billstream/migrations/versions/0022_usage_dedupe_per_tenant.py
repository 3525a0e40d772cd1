"""mediation: files and record keys deduplicated per tenant, not per tenant tree

Dedupe was per root tenant: a brand uploading a sibling brand's file got `duplicate_of` the
sibling's file id, and events with a sibling's record keys counted as duplicates, so one
brand could learn about another's files and calls. Now a file is deduplicated within the
tenant that uploaded it (`usage_files.tenant_id`, checksum) and a record within the tenant it
routes to (`usage_records`' primary key becomes tenant_id, record_key); `root_tenant_id`
stays on both tables as information.

Every key unique per root tenant is unique per tenant, so the upgrade cannot clash. The
downgrade can: two tenants of one tree may now hold the same key, which the old key cannot
store; it then refuses, naming how many keys clash, and changes nothing.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _rekey("tenant_id", "record_key")
    with op.batch_alter_table("usage_files") as batch:
        batch.drop_index("ix_usage_files_root_tenant_id_checksum")
        batch.create_index("ix_usage_files_tenant_id_checksum", ["tenant_id", "checksum"])


def downgrade() -> None:
    clashes = op.get_bind().scalar(
        sa.text(
            "SELECT count(*) FROM (SELECT 1 FROM usage_records "
            "GROUP BY root_tenant_id, record_key HAVING count(*) > 1) AS clashing"
        )
    )
    if clashes:
        raise RuntimeError(
            f"{clashes} record keys are held by two tenants of one tree; the schema before "
            "0021 keys records per tree and cannot hold them: downgrade refused"
        )
    with op.batch_alter_table("usage_files") as batch:
        batch.drop_index("ix_usage_files_tenant_id_checksum")
        batch.create_index("ix_usage_files_root_tenant_id_checksum", ["root_tenant_id", "checksum"])
    _rekey("root_tenant_id", "record_key")


def _rekey(*new: str) -> None:
    """usage_records' primary key on the `new` columns (SQLite rebuilds the table)."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("pk_usage_records", "usage_records", type_="primary")
        op.create_primary_key("pk_usage_records", "usage_records", list(new))
        return
    with op.batch_alter_table("usage_records", recreate="always") as batch:
        batch.drop_constraint("pk_usage_records", type_="primary")
        batch.create_primary_key("pk_usage_records", list(new))
