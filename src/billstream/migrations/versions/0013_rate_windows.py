"""rating: one prefix / usage type / band several times in a card version, with windows apart

A rate card file may now price one destination twice when the rows' own effective windows do
not overlap (a price change on a date). The unique key of a version's rates gains
`effective_from`: the import refuses overlapping windows; the key still stops two rates of one
destination starting at the same instant.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEY = ["version_id", "prefix", "usage_type", "band"]
NEW_KEY = [*OLD_KEY, "effective_from"]


def upgrade() -> None:
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_rates_version_id_prefix_usage_type_band"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_rates_version_id_prefix_usage_type_band_effective_from"), NEW_KEY
        )


def downgrade() -> None:
    repeated = op.get_bind().execute(
        sa.text(
            "SELECT count(*) FROM (SELECT 1 FROM rates GROUP BY "
            + ", ".join(OLD_KEY)
            + " HAVING count(*) > 1) AS repeated"
        )
    )
    if repeated.scalar_one():
        raise RuntimeError(
            "some card versions price one prefix / usage type / band more than once (windows "
            "apart); the schema before 0013 cannot hold them: delete those versions first"
        )
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_rates_version_id_prefix_usage_type_band_effective_from"),
            type_="unique",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_rates_version_id_prefix_usage_type_band"), OLD_KEY
        )
