"""API shapes of mediation: file arrivals, usage events, rejects, reprocessing."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from billstream.mediation.errors import RejectReason

MAX_EVENTS = 10_000


class UsageFileOut(BaseModel):
    """One arrival of a file or event batch. records_in = accepted + rejected + duplicates."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    name: str
    checksum: str = Field(description="sha256 of the content")
    format: str
    timezone: str
    records_in: int
    accepted: int
    rejected: int
    duplicates: int
    duplicate_of: str | None = Field(description="The first arrival of the same content")
    received_at: datetime


class UsageEventIn(BaseModel):
    """A usage event. Values are checked like a file's fields: a bad one rejects the event
    (returned with its index), not the batch."""

    model_config = ConfigDict(extra="forbid")

    record_key: str | None = Field(
        default=None, max_length=160, description="Your id of the event; default: a hash"
    )
    started_at: str | None = Field(default=None, description="ISO 8601; no offset: UTC")
    duration_s: StrictInt | str | None = Field(default=None, description="Seconds; default 0")
    quantity: StrictInt | str | None = Field(
        default=None, description="Units (SMS, bytes); default 0"
    )
    calling: str | None = None
    called: str | None = None
    usage_type: str | None = Field(default=None, description="voice (default), sms, data…")
    carrier: str | None = None


class UsageEventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str | None = Field(default=None, description="Default: the key's tenant")
    events: list[UsageEventIn] = Field(min_length=1, max_length=MAX_EVENTS)


class EventReject(BaseModel):
    index: int
    reason: RejectReason
    detail: str


class UsageEventsOut(UsageFileOut):
    rejects: list[EventReject]


class RejectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    file_id: str
    line_no: int = Field(description="The file's line (1-based), or the event's index")
    reason: RejectReason
    detail: str
    raw: str
    status: str
    created_at: datetime
    reprocessed_at: datetime | None


class ReprocessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str | None = Field(default=None, description="Only this tenant and its brands")
    reason: RejectReason | None = Field(default=None, description="Only rejects of this reason")


class ReprocessOut(BaseModel):
    reprocessed: int
    accepted: int
    duplicates: int
    still_rejected: int
