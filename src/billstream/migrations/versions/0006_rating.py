"""rating: rate cards, versions and rates; rating runs and rated usage

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:49:50.056382
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import billstream.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rated_usage",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("superseded_by", sa.String(length=36), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("record_key", sa.String(length=160), nullable=False),
        sa.Column("usage_type", sa.String(length=32), nullable=False),
        sa.Column("started_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("called", sa.String(length=64), nullable=True),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("rate_id", sa.String(length=36), nullable=True),
        sa.Column("card_version_id", sa.String(length=36), nullable=True),
        sa.Column("matched_prefix", sa.String(length=15), nullable=True),
        sa.Column("first_increment_s", sa.Integer(), nullable=True),
        sa.Column("next_increment_s", sa.Integer(), nullable=True),
        sa.Column("billed_s", sa.BigInteger(), nullable=False),
        sa.Column("billed_units", sa.BigInteger(), nullable=False),
        sa.Column("allowance_s", sa.BigInteger(), nullable=False),
        sa.Column("allowance_units", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("cost_rate_id", sa.String(length=36), nullable=True),
        sa.Column("cost_card_version_id", sa.String(length=36), nullable=True),
        sa.Column("cost_prefix", sa.String(length=15), nullable=True),
        sa.Column("cost_micros", sa.BigInteger(), nullable=True),
        sa.Column("margin_micros", sa.BigInteger(), nullable=True),
        sa.Column("reject_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rated_usage")),
    )
    with op.batch_alter_table("rated_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rated_usage_account_id_started_at"),
            ["account_id", "started_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_rated_usage_run_id"), ["run_id"], unique=False)

    op.create_table(
        "rate_cards",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_rate_cards_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_rate_cards_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_cards")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_rate_cards_tenant_id_name")),
    )
    with op.batch_alter_table("rate_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_cards_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rate_cards_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "rating_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("period_start", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rated", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("superseded", sa.BigInteger(), nullable=False),
        sa.Column("retail_micros", sa.BigInteger(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("superseded_micros", sa.BigInteger(), nullable=False),
        sa.Column("parquet_path", sa.String(length=500), nullable=True),
        sa.Column("created_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_rating_runs_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_rating_runs_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_runs")),
    )
    with op.batch_alter_table("rating_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_runs_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rating_runs_tenant_id_period_start"),
            ["tenant_id", "period_start"],
            unique=False,
        )

    op.create_table(
        "rate_card_versions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("card_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("effective_to", billstream.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("rates", sa.Integer(), nullable=False),
        sa.Column("imported_at", billstream.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["rate_cards.id"],
            name=op.f("fk_rate_card_versions_card_id_rate_cards"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_rate_card_versions_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_card_versions")),
        sa.UniqueConstraint(
            "card_id", "version", name=op.f("uq_rate_card_versions_card_id_version")
        ),
    )
    with op.batch_alter_table("rate_card_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_card_versions_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "rates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("prefix", sa.String(length=15), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("usage_type", sa.String(length=32), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("rate_micros", sa.BigInteger(), nullable=False),
        sa.Column("connect_fee_micros", sa.BigInteger(), nullable=False),
        sa.Column("min_duration_s", sa.Integer(), nullable=False),
        sa.Column("first_increment_s", sa.Integer(), nullable=False),
        sa.Column("next_increment_s", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_rates_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["rate_card_versions.id"],
            name=op.f("fk_rates_version_id_rate_card_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rates")),
        sa.UniqueConstraint(
            "version_id",
            "prefix",
            "usage_type",
            "band",
            name=op.f("uq_rates_version_id_prefix_usage_type_band"),
        ),
    )
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rates_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rates_tenant_id"))

    op.drop_table("rates")
    with op.batch_alter_table("rate_card_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_card_versions_tenant_id"))

    op.drop_table("rate_card_versions")
    with op.batch_alter_table("rating_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_runs_tenant_id_period_start"))
        batch_op.drop_index(batch_op.f("ix_rating_runs_tenant_id"))

    op.drop_table("rating_runs")
    with op.batch_alter_table("rate_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_cards_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_rate_cards_account_id"))

    op.drop_table("rate_cards")
    with op.batch_alter_table("rated_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rated_usage_run_id"))
        batch_op.drop_index(batch_op.f("ix_rated_usage_account_id_started_at"))

    op.drop_table("rated_usage")
