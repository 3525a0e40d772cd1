"""rating: a margin rule can be ended

A margin rule was in force until the next rule of its tenant, usage type and prefix started,
so it could be replaced but never ended. A row without a percent now ends the series from its
`effective_from`: records after it fall to the next rule that matches (a shorter prefix, an
ancestor's rule) or, with none, stay without a rate. Rows stay versioned by date, never
updated in place.

Downgrading deletes the ends (the schema before could not hold them).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 10:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

from billstream.db.types import Amount

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("margin_rules") as batch:
        batch.alter_column("percent", existing_type=Amount(precision=28, scale=10), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM margin_rules WHERE percent IS NULL")
    with op.batch_alter_table("margin_rules") as batch:
        batch.alter_column("percent", existing_type=Amount(precision=28, scale=10), nullable=False)
