"""billing: the rating runs a bill run has settled for each account

A month-end run summed every rated record of the last 400 days again, to find what earlier
invoices had not charged yet: thirteen months of records a month, at steady state. Now a bill
run records, per account, the rating runs it has settled (invoiced, or found owing nothing);
a rating period whose runs are all settled for an account is not read again, and a re-rating
(a new run) unsettles it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoiced_usage_runs",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=True),
        sa.Column("bill_run_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "run_id", name=op.f("pk_invoiced_usage_runs")),
    )


def downgrade() -> None:
    op.drop_table("invoiced_usage_runs")
