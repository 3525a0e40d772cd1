"""rating: margin rules (retail = cost + x %) and the rated row's margin_rule_id

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import billstream.db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "margin_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("usage_type", sa.String(length=32), nullable=True),
        sa.Column("prefix", sa.String(length=15), nullable=True),
        sa.Column("percent", billstream.db.types.Amount(precision=28, scale=10), nullable=False),
        sa.Column("min_margin_micros", sa.BigInteger(), nullable=True),
        sa.Column("effective_from", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_margin_rules_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_margin_rules")),
    )
    with op.batch_alter_table("margin_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_margin_rules_tenant_id_usage_type_prefix_effective_from"),
            ["tenant_id", "usage_type", "prefix", "effective_from"],
            unique=False,
        )
    # nullable, no default: a metadata-only change on PostgreSQL, however many rows there are
    with op.batch_alter_table("rated_usage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("margin_rule_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rated_usage", schema=None) as batch_op:
        batch_op.drop_column("margin_rule_id")
    with op.batch_alter_table("margin_rules", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_margin_rules_tenant_id_usage_type_prefix_effective_from")
        )
    op.drop_table("margin_rules")
