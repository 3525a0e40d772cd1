"""catalog: products, plans, plan charges, price versions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:06:57.497579
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import billstream.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currencies", sa.JSON(), nullable=False),
        sa.Column("sellable_from", sa.Date(), nullable=True),
        sa.Column("sellable_to", sa.Date(), nullable=True),
        sa.Column("trial_days", sa.Integer(), nullable=False),
        sa.Column("commitment_months", sa.Integer(), nullable=False),
        sa.Column("early_termination_fees", sa.JSON(), nullable=False),
        sa.Column("setup_fees", sa.JSON(), nullable=False),
        sa.Column("included", sa.JSON(), nullable=False),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_plans_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_plans_tenant_id_code")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("characteristics", sa.JSON(), nullable=False),
        sa.Column("sellable_from", sa.Date(), nullable=True),
        sa.Column("sellable_to", sa.Date(), nullable=True),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_products_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_products_tenant_id_code")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "plan_charges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("timing", sa.String(length=16), nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=False),
        sa.Column("addon", sa.Boolean(), nullable=False),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_charges_plan_id_plans"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_plan_charges_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_plan_charges_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_charges")),
        sa.UniqueConstraint("plan_id", "code", name=op.f("uq_plan_charges_plan_id_code")),
    )
    with op.batch_alter_table("plan_charges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_charges_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plan_charges_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "prices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("series", sa.String(length=300), nullable=False),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("charge_id", sa.String(length=36), nullable=True),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("commitment", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("adjustments", sa.JSON(), nullable=False),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_prices_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["plan_charges.id"],
            name=op.f("fk_prices_charge_id_plan_charges"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_prices_plan_id_plans"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_prices_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_prices_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prices")),
        sa.UniqueConstraint(
            "series", "effective_from", name=op.f("uq_prices_series_effective_from")
        ),
    )
    with op.batch_alter_table("prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prices_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_prices_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index("ix_prices_product_id_layer", ["product_id", "layer"], unique=False)
        batch_op.create_index(batch_op.f("ix_prices_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prices_tenant_id"))
        batch_op.drop_index("ix_prices_product_id_layer")
        batch_op.drop_index(batch_op.f("ix_prices_plan_id"))
        batch_op.drop_index(batch_op.f("ix_prices_account_id"))

    op.drop_table("prices")
    with op.batch_alter_table("plan_charges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_charges_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_plan_charges_product_id"))

    op.drop_table("plan_charges")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_tenant_id"))

    op.drop_table("products")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_tenant_id"))

    op.drop_table("plans")
