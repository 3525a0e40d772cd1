"""documents: tenant and customer templates, invoice e-mail deliveries

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import billstream.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_templates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_document_templates_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_document_templates_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_templates")),
        sa.UniqueConstraint(
            "tenant_id",
            "account_id",
            "kind",
            name=op.f("uq_document_templates_tenant_id_account_id_kind"),
        ),
    )
    with op.batch_alter_table("document_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_templates_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_document_templates_tenant_id_kind", ["tenant_id", "kind"], unique=False
        )

    op.create_table(
        "invoice_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("to", sa.String(length=320), nullable=False),
        sa.Column("sent_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_deliveries_invoice_id_invoices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_invoice_deliveries_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_deliveries")),
    )
    with op.batch_alter_table("invoice_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_deliveries_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_invoice_deliveries_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("invoice_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_deliveries_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_deliveries_invoice_id"))
    op.drop_table("invoice_deliveries")
    with op.batch_alter_table("document_templates", schema=None) as batch_op:
        batch_op.drop_index("ix_document_templates_tenant_id_kind")
        batch_op.drop_index(batch_op.f("ix_document_templates_account_id"))
    op.drop_table("document_templates")
