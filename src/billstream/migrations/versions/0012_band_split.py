"""rating: split calls at time-band boundaries (rounding rule's split_bands) and its lineage

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rating_rules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("split_bands", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("rated_usage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("split_s", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("band_split", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rated_usage", schema=None) as batch_op:
        batch_op.drop_column("band_split")
        batch_op.drop_column("split_s")
    with op.batch_alter_table("rating_rules", schema=None) as batch_op:
        batch_op.drop_column("split_bands")
