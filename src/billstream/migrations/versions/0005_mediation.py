"""mediation

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:36:54.977035
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import billstream.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_files",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("root_tenant_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=63), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("header", sa.Text(), nullable=True),
        sa.Column("records_in", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("duplicate_of", sa.String(length=36), nullable=True),
        sa.Column("received_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["usage_files.id"],
            name=op.f("fk_usage_files_duplicate_of_usage_files"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["root_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_usage_files_root_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_usage_files_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_files")),
    )
    with op.batch_alter_table("usage_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_files_root_tenant_id_checksum"),
            ["root_tenant_id", "checksum"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_usage_files_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "usage_records",
        sa.Column("root_tenant_id", sa.String(length=36), nullable=False),
        sa.Column("record_key", sa.String(length=160), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=True),
        sa.Column("usage_type", sa.String(length=32), nullable=False),
        sa.Column("started_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("calling", sa.String(length=64), nullable=True),
        sa.Column("called", sa.String(length=64), nullable=True),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("file_id", sa.String(length=36), nullable=True),
        sa.Column("line_no", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("root_tenant_id", "record_key", name=op.f("pk_usage_records")),
    )
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_records_account_id_started_at"),
            ["account_id", "started_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_usage_records_tenant_id_started_at"),
            ["tenant_id", "started_at"],
            unique=False,
        )

    op.create_table(
        "usage_rejects",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("file_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reprocessed_at", billstream.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["usage_files.id"],
            name=op.f("fk_usage_rejects_file_id_usage_files"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_usage_rejects_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_rejects")),
    )
    with op.batch_alter_table("usage_rejects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_rejects_file_id"), ["file_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_usage_rejects_tenant_id_status_reason"),
            ["tenant_id", "status", "reason"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_rejects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_rejects_tenant_id_status_reason"))
        batch_op.drop_index(batch_op.f("ix_usage_rejects_file_id"))

    op.drop_table("usage_rejects")
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_records_tenant_id_started_at"))
        batch_op.drop_index(batch_op.f("ix_usage_records_account_id_started_at"))

    op.drop_table("usage_records")
    with op.batch_alter_table("usage_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_files_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_usage_files_root_tenant_id_checksum"))

    op.drop_table("usage_files")
