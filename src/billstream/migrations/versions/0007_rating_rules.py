"""rating rules: rounding rules and period tiers per tenant, inherited by brands

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:12:18.663956
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import billstream.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rating_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("usage_type", sa.String(length=32), nullable=True),
        sa.Column("free_below_s", sa.Integer(), nullable=False),
        sa.Column("first_s", sa.Integer(), nullable=False),
        sa.Column("next_s", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("charge_attempts", sa.Boolean(), nullable=False),
        sa.Column("effective_from", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_rating_rules_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_rules")),
    )
    with op.batch_alter_table("rating_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rating_rules_tenant_id_usage_type_effective_from"),
            ["tenant_id", "usage_type", "effective_from"],
            unique=False,
        )

    op.create_table(
        "rating_tiers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("set_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("usage_type", sa.String(length=32), nullable=False),
        sa.Column("from_quantity", sa.BigInteger(), nullable=False),
        sa.Column("rate_micros", sa.BigInteger(), nullable=False),
        sa.Column("effective_from", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_rating_tiers_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_tiers")),
    )
    with op.batch_alter_table("rating_tiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rating_tiers_tenant_id_usage_type_effective_from"),
            ["tenant_id", "usage_type", "effective_from"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("rating_tiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_tiers_tenant_id_usage_type_effective_from"))

    op.drop_table("rating_tiers")
    with op.batch_alter_table("rating_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_rules_tenant_id_usage_type_effective_from"))

    op.drop_table("rating_rules")
