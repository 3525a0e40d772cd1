"""Alembic migrations. Run them with `billstream db upgrade` (see `billstream.db.migrate`)."""
