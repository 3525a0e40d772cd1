"""Tables of mediation: file arrivals, accepted usage records, rejected records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from billstream.db import Base
from billstream.db.types import UTCDateTime


class UsageFile(Base):
    """One arrival of a CDR file (or of a batch of API events), with its counts.

    records_in = accepted + rejected + duplicates, always; reprocessing moves records from
    rejected to accepted or duplicates. The same content again (same sha256) from the same
    uploading tenant (`tenant_id`) is recorded as a new arrival whose records are all
    duplicates, pointing at the first (`duplicate_of`). A file belongs to the tenant that
    uploaded it: another tenant's upload of the same bytes is a first arrival of its own.
    """

    __tablename__ = "usage_files"
    __table_args__ = (
        Index(None, "tenant_id", "checksum"),
        # one first arrival per tenant and content (two imports at once: see `lock_content`)
        Index(
            "uq_usage_files_first_arrival",
            "tenant_id",
            "checksum",
            unique=True,
            postgresql_where=text("duplicate_of IS NULL"),
            sqlite_where=text("duplicate_of IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    root_tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(63))
    timezone: Mapped[str] = mapped_column(String(64))
    header: Mapped[str | None] = mapped_column(Text)
    records_in: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    duplicate_of: Mapped[str | None] = mapped_column(
        ForeignKey("usage_files.id", ondelete="RESTRICT")
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UsageRecord(Base):
    """An accepted usage record, routed to tenant, account and subscription.

    The key is unique per tenant the record routes to (the tenant that bills it): the same
    record never counts twice for a tenant, and one tenant's keys tell another nothing.
    `root_tenant_id` is the root of the importing tenant's tree, kept for reports.
    Written in bulk (COPY on PostgreSQL), never as ORM objects. A fact table: no foreign
    keys, because each costs a trigger per row on COPY (docs/performance.md), and the only
    writer routes every row through the number inventory, whose accounts cannot be deleted
    once they have held a number.
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        Index(None, "tenant_id", "started_at"),
        Index(None, "account_id", "started_at"),
    )

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    root_tenant_id: Mapped[str] = mapped_column(String(36))
    account_id: Mapped[str] = mapped_column(String(36))
    subscription_id: Mapped[str | None] = mapped_column(String(36))
    usage_type: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_s: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    calling: Mapped[str | None] = mapped_column(String(64))
    called: Mapped[str | None] = mapped_column(String(64))
    carrier: Mapped[str | None] = mapped_column(String(100))
    file_id: Mapped[str | None] = mapped_column(String(36))
    line_no: Mapped[int | None] = mapped_column(BigInteger)


class UsageReject(Base):
    """A record that was not accepted, with why and its raw line, until reprocessed."""

    __tablename__ = "usage_rejects"
    __table_args__ = (
        Index(None, "tenant_id", "status", "reason"),
        Index(None, "file_id", "line_no", unique=True),  # a line is rejected once
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    file_id: Mapped[str] = mapped_column(
        ForeignKey("usage_files.id", ondelete="RESTRICT"), index=True
    )
    line_no: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reprocessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
