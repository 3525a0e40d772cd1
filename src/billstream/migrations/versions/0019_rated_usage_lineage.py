"""rating: a rated record names the rounding rule and the tier set that billed it

Lineage: with `rounding_rule_id` a rated record says which of the brand's rounding rules
(`rating_rules`) set its increments (null: the rate's own increments applied), and with
`tier_set_id` which tier set (`rating_tiers.set_id`) priced it on its account's period total
(null: none). Rows rated before stay null: this was not recorded anywhere else.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rated_usage") as batch:
        batch.add_column(sa.Column("rounding_rule_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("tier_set_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rated_usage") as batch:
        batch.drop_column("tier_set_id")
        batch.drop_column("rounding_rule_id")
