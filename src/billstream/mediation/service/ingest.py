"""Ingest a CDR file or a batch of usage events: record the arrival, admit the records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from billstream.core.clock import Clock
from billstream.core.ids import new_id
from billstream.mediation.definition import CdrFormat
from billstream.mediation.errors import RejectStatus
from billstream.mediation.models import UsageFile, UsageReject
from billstream.mediation.parsing import (
    Lines,
    blank_as_null,
    interpret,
    no_rejects,
    parse_cdr_file,
)
from billstream.mediation.service.admission import Target, admit
from billstream.mediation.service.formats import EVENTS_FORMAT
from billstream.tenants.context import TenantContext
from billstream.tenants.scope import TenantScope

EVENT_FIELDS = (
    "record_key",
    "started_at",
    "duration_s",
    "quantity",
    "calling",
    "called",
    "usage_type",
    "carrier",
)


@dataclass(frozen=True)
class FileReport:
    """What became of one file's (or batch's) records: in = accepted + rejected + duplicates."""

    file_id: str
    name: str
    format: str
    records_in: int
    accepted: int
    rejected: int
    duplicates: int
    duplicate_of: str | None
    rejects: pl.DataFrame  # line_no, reason, detail, raw of this arrival's rejects


def target_of(ctx: TenantContext) -> Target:
    """The importing tenant (`ctx`'s), its root, and the scope routing uses: the tenant's
    own subtree as far as the caller sees it."""
    tenant = ctx.tenant_id
    reach = ctx.scope.tenant_ids & ctx.tree.subtree(tenant)
    routing = TenantScope(home=tenant, tenant_ids=frozenset(reach), includes_descendants=True)
    return Target(
        tenant_id=tenant, root_tenant_id=ctx.chain[-1], scope=routing, settings=ctx.settings
    )


def _first_arrival(session: Session, target: Target, checksum: str) -> UsageFile | None:
    """The importing tenant's own first arrival of this content: a file belongs to the
    tenant that uploaded it, and another tenant's arrivals are not consulted. The content is
    locked until the transaction ends, so a second import of it at the same moment waits for
    the first and then finds it (the first arrival is unique per tenant and content, and a
    reject per file and line, in the database too)."""
    lock_content(session, checksum)
    return session.scalar(
        select(UsageFile)
        .where(
            UsageFile.tenant_id == target.tenant_id,
            UsageFile.checksum == checksum,
            UsageFile.duplicate_of.is_(None),
        )
        .limit(1)
    )


CONTENT_LOCKS = 0x75666C  # the advisory locks' first key ("ufl"): files' contents


def lock_content(session: Session, checksum: str) -> None:
    """Lock a file's content (its sha256) until the transaction ends: a transaction-level
    advisory lock on PostgreSQL, whatever tenant imports it (SQLite's BEGIN IMMEDIATE already
    serialises imports)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:content AS integer))"
            ),
            {
                "space": CONTENT_LOCKS,
                "content": int.from_bytes(bytes.fromhex(checksum[:8]), "big", signed=True),
            },
        )


def _arrival(
    session: Session, clock: Clock, target: Target, *, name: str, checksum: str, fmt: CdrFormat
) -> UsageFile:
    arrival = UsageFile(
        id=new_id("ufl"),
        tenant_id=target.tenant_id,
        root_tenant_id=target.root_tenant_id,
        name=name[:255],
        checksum=checksum,
        format=fmt.name,
        timezone=fmt.timezone,
        records_in=0,
        accepted=0,
        rejected=0,
        duplicates=0,
        received_at=clock.now(),
    )
    session.add(arrival)
    return arrival


def store_rejects(
    session: Session, clock: Clock, target: Target, file_id: str, rejects: pl.DataFrame
) -> None:
    if rejects.is_empty():
        return
    now = clock.now()
    rows = rejects.select("line_no", "reason", "detail", "raw").to_dicts()
    session.flush()
    session.execute(
        insert(UsageReject),
        [
            {
                **row,
                "id": new_id("rej"),
                "tenant_id": target.tenant_id,
                "file_id": file_id,
                "status": RejectStatus.OPEN,
                "created_at": now,
            }
            for row in rows
        ],
    )


def _replayed(
    session: Session, clock: Clock, target: Target, first: UsageFile, name: str, fmt: CdrFormat
) -> FileReport:
    again = _arrival(session, clock, target, name=name, checksum=first.checksum, fmt=fmt)
    again.records_in = again.duplicates = first.records_in
    again.duplicate_of = first.id
    session.flush()
    return _report(again, no_rejects())


def _report(arrival: UsageFile, rejects: pl.DataFrame) -> FileReport:
    return FileReport(
        file_id=arrival.id,
        name=arrival.name,
        format=arrival.format,
        records_in=arrival.records_in,
        accepted=arrival.accepted,
        rejected=arrival.rejected,
        duplicates=arrival.duplicates,
        duplicate_of=arrival.duplicate_of,
        rejects=rejects,
    )


def _admit_all(
    session: Session,
    clock: Clock,
    target: Target,
    arrival: UsageFile,
    fmt: CdrFormat,
    records: pl.DataFrame,
    early_rejects: pl.DataFrame,
) -> FileReport:
    admitted = admit(session, target=target, fmt=fmt, records=records, file_ids=pl.lit(arrival.id))
    rejects = pl.concat([early_rejects, admitted.rejects]).sort("line_no")
    arrival.accepted = admitted.accepted.height
    arrival.duplicates = admitted.duplicate_lines.len()
    arrival.rejected = rejects.height
    arrival.records_in = arrival.accepted + arrival.duplicates + arrival.rejected
    store_rejects(session, clock, target, arrival.id, rejects)
    session.flush()
    return _report(arrival, rejects)


def ingest_cdr_file(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    fmt: CdrFormat,
    name: str,
    data: bytes,
) -> FileReport:
    """Ingest one CDR file in `fmt` for `ctx`'s tenant (its brands included, as far as the
    scope reaches). The same content again is recorded and reports all its records as
    duplicates.
    """
    target = target_of(ctx)
    checksum = hashlib.sha256(data).hexdigest()
    first = _first_arrival(session, target, checksum)
    if first is not None:
        return _replayed(session, clock, target, first, name, fmt)
    parsed, lines = parse_cdr_file(data, fmt)
    arrival = _arrival(session, clock, target, name=name, checksum=checksum, fmt=fmt)
    arrival.header = _header_text(lines, fmt)
    return _admit_all(session, clock, target, arrival, fmt, parsed.records, parsed.rejects)


def _header_text(lines: Lines, fmt: CdrFormat) -> str | None:
    return fmt.delimiter.join(lines.header) if lines.header is not None else None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)


def events_frame(events: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Events as the string columns the events format reads, numbered from 0 (their index)."""
    columns: dict[str, list[str | None]] = {name: [] for name in EVENT_FIELDS}
    for event in events:
        for name in EVENT_FIELDS:
            columns[name].append(_as_text(event.get(name)))
    frame = pl.DataFrame(columns, schema=dict.fromkeys(EVENT_FIELDS, pl.String()))
    raws = [json.dumps(dict(e), sort_keys=True, default=str) for e in events]
    return frame.select(blank_as_null(c) for c in EVENT_FIELDS).with_columns(
        pl.Series("raw", raws, dtype=pl.String),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("line_no"),
        pl.col("duration_s").fill_null("0"),
        pl.col("quantity").fill_null("0"),
    )


def ingest_usage_events(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    events: Sequence[Mapping[str, Any]],
) -> FileReport:
    """Ingest a batch of usage events as one arrival; rejects carry the event's index."""
    target = target_of(ctx)
    raws = [json.dumps(dict(e), sort_keys=True, default=str) for e in events]
    checksum = hashlib.sha256("\n".join(raws).encode()).hexdigest()
    name = f"{len(events)} usage events"
    first = _first_arrival(session, target, checksum)
    if first is not None:
        return _replayed(session, clock, target, first, name, EVENTS_FORMAT)
    arrival = _arrival(session, clock, target, name=name, checksum=checksum, fmt=EVENTS_FORMAT)
    parsed = interpret(events_frame(events), EVENTS_FORMAT)
    return _admit_all(
        session, clock, target, arrival, EVENTS_FORMAT, parsed.records, parsed.rejects
    )
