"""Rejected records: list them, and reprocess the open ones after a configuration fix."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billstream.core.clock import Clock
from billstream.core.errors import InvalidInputError
from billstream.db.locks import locked
from billstream.db.pagination import Page, paginate
from billstream.mediation.definition import CdrFormat
from billstream.mediation.errors import FINAL_REASONS, RejectReason, RejectStatus
from billstream.mediation.models import UsageFile, UsageReject
from billstream.mediation.parsing import Lines, interpret, no_rejects, parse_cdr_lines
from billstream.mediation.service.admission import admit
from billstream.mediation.service.formats import EVENTS_FORMAT, find_format
from billstream.mediation.service.ingest import events_frame, target_of
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import load_context


def reason_of(value: str | None, *, field: str = "reason") -> RejectReason | None:
    if value is None:
        return None
    try:
        return RejectReason(value)
    except ValueError:
        known = ", ".join(r.value for r in RejectReason)
        raise InvalidInputError(
            f"{value!r} is not a reject reason ({known})", field=field
        ) from None


def list_rejects(
    session: Session,
    *,
    scope: TenantScope,
    cursor: str | None = None,
    limit: int = 50,
    reason: str | None = None,
    status: RejectStatus | None = RejectStatus.OPEN,
) -> Page[UsageReject]:
    stmt = select(UsageReject).where(scope.filter(UsageReject))
    if (wanted := reason_of(reason)) is not None:
        stmt = stmt.where(UsageReject.reason == wanted)
    if status is not None:
        stmt = stmt.where(UsageReject.status == status)
    return paginate(session, stmt, UsageReject.id, cursor=cursor, limit=limit)


@dataclass(frozen=True)
class ReprocessReport:
    """Open rejects re-run: how many were accepted now, were duplicates, or stay rejected."""

    reprocessed: int
    accepted: int
    duplicates: int
    still_rejected: int


def _open_rejects(
    session: Session, scope: TenantScope, reason: RejectReason | None
) -> list[UsageReject]:
    stmt = (
        select(UsageReject)
        .where(
            scope.filter(UsageReject),
            UsageReject.status == RejectStatus.OPEN,
            UsageReject.reason.not_in([str(r) for r in FINAL_REASONS]),
        )
        .order_by(UsageReject.id)
    )
    if reason is not None:
        stmt = stmt.where(UsageReject.reason == reason)
    return list(session.scalars(locked(stmt)))


def _reparsed(
    file: UsageFile, fmt: CdrFormat, rejects: list[UsageReject]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rejects' raw lines read again with the format as it is now: (records, rejects).

    Each raw line is read as a whole line: a `truncated_line` reject was the file's last line
    without a line end, but what is kept is all of it there is, so it is judged on what it
    holds now (accepted, or rejected for what is wrong with it), never truncated again."""
    if fmt.name == EVENTS_FORMAT.name:
        frame = events_frame([json.loads(r.raw) for r in rejects])
        frame = frame.with_columns(pl.Series("line_no", [r.line_no for r in rejects], pl.Int64))
        parsed = interpret(frame, fmt)
        return parsed.records, parsed.rejects
    lines = pl.DataFrame(
        {
            "line_no": [r.line_no for r in rejects],
            "raw": [r.raw for r in rejects],
            "last_incomplete": [False] * len(rejects),
        },
        schema={"line_no": pl.Int64, "raw": pl.String, "last_incomplete": pl.Boolean},
    )
    header = next(csv.reader([file.header], delimiter=fmt.delimiter)) if file.header else None
    parsed = parse_cdr_lines(Lines(lines, header, no_rejects()), fmt)
    return parsed.records, parsed.rejects


def _reprocess_file(
    session: Session,
    *,
    clock: Clock,
    scope: TenantScope,
    formats_dir: Path | None,
    file: UsageFile,
    rejects: list[UsageReject],
) -> ReprocessReport:
    fmt = find_format(file.format, formats_dir).with_timezone(file.timezone)
    target = target_of(load_context(session, scope=scope, tenant_id=file.tenant_id))
    records, early = _reparsed(file, fmt, rejects)
    admitted = admit(session, target=target, fmt=fmt, records=records, file_ids=pl.lit(file.id))
    still = pl.concat([early, admitted.rejects])
    by_line = {r.line_no: r for r in rejects}
    done = admitted.accepted["line_no"].to_list() + admitted.duplicate_lines.to_list()
    if done:
        session.execute(
            update(UsageReject)
            .where(UsageReject.id.in_([by_line[n].id for n in done]))
            .values(status=RejectStatus.REPROCESSED, reprocessed_at=clock.now())
        )
    for row in still.iter_rows(named=True):  # rejects only: few, and each changes its own row
        reject = by_line[row["line_no"]]
        reject.reason, reject.detail = row["reason"], row["detail"]
    file.accepted += admitted.accepted.height
    file.duplicates += admitted.duplicate_lines.len()
    file.rejected -= len(done)
    session.flush()
    return ReprocessReport(
        reprocessed=len(rejects),
        accepted=admitted.accepted.height,
        duplicates=admitted.duplicate_lines.len(),
        still_rejected=still.height,
    )


def reprocess_rejects(
    session: Session,
    *,
    clock: Clock,
    scope: TenantScope,
    formats_dir: Path | None,
    reason: str | None = None,
) -> ReprocessReport:
    """Re-run the open rejects of the scope (of one reason, or all) through the file's format
    as configured now; accepted or duplicate ones become `reprocessed`, the others stay open
    with their new reason. `empty_file` and `invalid_encoding` cannot be fixed this way and
    are left as they are."""
    rejects = _open_rejects(session, scope, reason_of(reason))
    by_file: dict[str, list[UsageReject]] = {}
    for reject in rejects:
        by_file.setdefault(reject.file_id, []).append(reject)
    totals = ReprocessReport(0, 0, 0, 0)
    for file_id in sorted(by_file):
        file = session.get(UsageFile, file_id)
        assert file is not None
        part = _reprocess_file(
            session,
            clock=clock,
            scope=scope,
            formats_dir=formats_dir,
            file=file,
            rejects=by_file[file_id],
        )
        totals = ReprocessReport(
            totals.reprocessed + part.reprocessed,
            totals.accepted + part.accepted,
            totals.duplicates + part.duplicates,
            totals.still_rejected + part.still_rejected,
        )
    return totals
