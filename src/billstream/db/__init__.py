"""Storage: the declarative base, column types, engines and migrations."""

from billstream.db.base import Base, TimestampMixin
from billstream.db.types import Amount, UTCDateTime

__all__ = ["Amount", "Base", "TimestampMixin", "UTCDateTime"]
