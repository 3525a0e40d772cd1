"""Ingesting CDR files and events into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.core.clock import FakeClock
from billstream.mediation.definition import CdrFormat, parse_format
from billstream.mediation.errors import RejectReason, RejectStatus
from billstream.mediation.models import UsageFile, UsageRecord, UsageReject
from billstream.mediation.service import (
    FileReport,
    accepted_usage,
    find_format,
    ingest_cdr_file,
    ingest_usage_events,
    list_rejects,
    reprocess_rejects,
)
from billstream.tenants.models import Tenant
from tests.factories import assign, context_of, make_account, make_number, make_tenant, scope_of
from tests.unit.mediation.samples import (
    CALLER,
    GENERIC_HEADER,
    NY,
    asterisk_row,
    freeswitch_row,
    generic_row,
    lines,
)

ASTERISK = find_format("asterisk-cdr-csv", None)
FREESWITCH = find_format("freeswitch-cdr-csv", None)
GENERIC = find_format("generic-carrier-csv", None)
JAN = datetime(2026, 1, 1, tzinfo=UTC)
MID_JAN = datetime(2026, 1, 16, tzinfo=UTC)
LONDON = "2071234567"  # +44 20 7123 4567, held by the brand


@dataclass
class Provider:
    root: Tenant
    brand: Tenant
    first: Account  # holds NY until mid-January
    second: Account  # holds NY from mid-January
    in_brand: Account  # the brand's customer, holding LONDON


@pytest.fixture
def provider(session: Session, clock: FakeClock) -> Provider:
    root = make_tenant(session, clock, slug="telco", name="Telco")
    brand = make_tenant(session, clock, parent=root, slug="telco-uk", name="Telco UK")
    first = make_account(session, clock, root, name="First")
    second = make_account(session, clock, root, name="Second")
    in_brand = make_account(session, clock, brand, name="Brand customer")
    ny = make_number(session, clock, root, "+1" + NY)
    assign(session, clock, ny, first, JAN, MID_JAN)
    assign(session, clock, ny, second, MID_JAN)
    london = make_number(session, clock, brand, "+44" + LONDON)
    assign(session, clock, london, in_brand, JAN)
    return Provider(root, brand, first, second, in_brand)


def ingest(
    session: Session,
    clock: FakeClock,
    provider: Provider,
    data: bytes,
    fmt: CdrFormat = ASTERISK,
    name: str = "f.csv",
) -> FileReport:
    return ingest_cdr_file(
        session,
        clock=clock,
        ctx=context_of(session, provider.root),
        fmt=fmt,
        name=name,
        data=data,
    )


def counts(report: FileReport) -> tuple[int, int, int, int]:
    return report.records_in, report.accepted, report.rejected, report.duplicates


def stored(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(UsageRecord)) or 0)


def test_a_file_is_routed_at_each_record_instant_across_a_reassignment(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    # given NY held by First until Jan 16 and by Second from then
    data = lines(
        asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid="u1"),
        asterisk_row(CALLER, NY, "2026-01-15 23:59:59", 30, uniqueid="u2"),
        asterisk_row(CALLER, NY, "2026-01-16 00:00:00", 10, uniqueid="u3"),
        asterisk_row(CALLER, "+44" + LONDON, "2026-01-20 08:00:00", 5, uniqueid="u4"),
    )

    # when the root tenant imports a file
    report = ingest(session, clock, provider, data)

    # then each call goes to whoever held the number at its start, the brand's too
    assert counts(report) == (4, 4, 0, 0)
    usage = accepted_usage(
        session,
        scope=scope_of(session, provider.root),
        start=JAN,
        end=datetime(2026, 2, 1, tzinfo=UTC),
    ).collect()
    assert usage["record_key"].to_list() == ["u1", "u2", "u3", "u4"]
    assert usage["account_id"].to_list() == [
        provider.first.id,
        provider.first.id,
        provider.second.id,
        provider.in_brand.id,
    ]
    assert usage["tenant_id"].to_list() == [provider.root.id] * 3 + [provider.brand.id]
    assert usage["called"].to_list() == ["+1" + NY] * 3 + ["+44" + LONDON]
    assert usage["calling"].to_list() == ["+1" + CALLER] * 4
    assert usage["duration_s"].to_list() == [65, 30, 10, 5]
    assert usage["file_id"].to_list() == [report.file_id] * 4
    assert usage["line_no"].to_list() == [1, 2, 3, 4]
    assert usage.schema["started_at"] == pl.Datetime("us", "UTC")
    # and one account's usage alone
    second = accepted_usage(
        session,
        scope=scope_of(session, provider.root),
        start=JAN,
        end=datetime(2026, 2, 1, tzinfo=UTC),
        account_id=provider.second.id,
    ).collect()
    assert second["record_key"].to_list() == ["u3"]


def test_the_arrival_is_recorded_with_its_checksum_and_counts(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    data = lines(asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid="u1"), "x,y")
    report = ingest(session, clock, provider, data, name="Master.csv")
    arrival = session.get(UsageFile, report.file_id)
    assert arrival is not None
    assert (arrival.name, arrival.format, arrival.received_at) == (
        "Master.csv",
        "asterisk-cdr-csv",
        clock.now(),
    )
    assert len(arrival.checksum) == 64
    assert (arrival.records_in, arrival.accepted, arrival.rejected, arrival.duplicates) == (
        2,
        1,
        1,
        0,
    )


def test_the_same_file_twice_counts_once(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    data = lines(
        asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid="u1"),
        asterisk_row(CALLER, NY, "2026-01-10 11:00:00", 65, uniqueid="u2"),
        asterisk_row(CALLER, "9995550000", "2026-01-10 11:00:00", 65, uniqueid="u3"),
    )
    first = ingest(session, clock, provider, data)
    again = ingest(session, clock, provider, data, name="again.csv")
    assert counts(first) == (3, 2, 1, 0)
    assert counts(again) == (3, 0, 0, 3)
    assert again.duplicate_of == first.file_id
    assert stored(session) == 2
    assert session.scalar(select(func.count()).select_from(UsageReject)) == 1


def test_overlapping_files_count_each_record_once(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    rows = [
        asterisk_row(CALLER, NY, f"2026-01-10 1{i}:00:00", 60 + i, uniqueid=f"u{i}")
        for i in range(4)
    ]
    first = ingest(session, clock, provider, lines(*rows[:3]))
    second = ingest(session, clock, provider, lines(*rows[1:], rows[3]))
    assert counts(first) == (3, 3, 0, 0)
    assert counts(second) == (4, 1, 0, 3)  # two seen before, one twice in the file itself
    assert stored(session) == 4


def test_hashed_keys_dedupe_across_files_too(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    row = asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65)
    ingest(session, clock, provider, lines(row))
    report = ingest(session, clock, provider, lines(row, row.replace("10:00:00", "10:30:00")))
    assert counts(report) == (2, 1, 0, 1)


def _leg(start: str, billsec: int, sequence: int) -> str:
    """One leg of a call: 21 columns, the call's uniqueid and linkedid, the leg's sequence."""
    return asterisk_row(
        CALLER,
        NY,
        start,
        billsec,
        uniqueid="1736503200.11",
        userfield="",
        newer=("", "1736503200.11", sequence),
        dstchannel=f"SIP/trunk-0000001{sequence}",
    )


def test_the_answered_legs_of_one_call_are_each_accepted_and_a_repeated_line_is_a_duplicate(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    # given a 21-column Master.csv: two answered legs sharing uniqueid, and one line twice
    first, second = _leg("2026-01-10 10:00:00", 30, 1), _leg("2026-01-10 10:00:20", 45, 2)
    data = lines(first, second, second)

    # when it is imported
    report = ingest(session, clock, provider, data, name="Master.csv")

    # then in = accepted + rejected + duplicates: both legs accepted, the repeat a duplicate
    assert counts(report) == (3, 2, 0, 1)
    usage = accepted_usage(
        session,
        scope=scope_of(session, provider.root),
        start=JAN,
        end=datetime(2026, 2, 1, tzinfo=UTC),
    ).collect()
    assert usage["record_key"].to_list() == ["1736503200.11#1", "1736503200.11#2"]
    assert usage["duration_s"].to_list() == [30, 45]
    # and a later file holding the same legs again counts them as duplicates
    again = ingest(session, clock, provider, lines(second, first), name="Master-2.csv")
    assert counts(again) == (2, 0, 0, 2)


def test_a_19_column_file_is_imported_by_linkedid_and_sequence(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    # given 19 columns: the 16, then peeraccount, linkedid and sequence (no uniqueid)
    rows = [
        asterisk_row(CALLER, NY, f"2026-01-10 1{i}:00:00", 60, newer=("peer", "call-1", i))
        for i in range(2)
    ]
    report = ingest(session, clock, provider, lines(*rows, rows[0]))
    assert counts(report) == (3, 2, 0, 1)
    assert stored(session) == 2


def test_bad_records_are_rejected_with_reasons_and_the_rest_goes_on(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    # given a file with good records and bad ones of every kind
    data = (
        lines(
            asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid="good"),
            "only,three,columns",
            asterisk_row(CALLER, NY, "not a date", 5, uniqueid="date"),
            asterisk_row(CALLER, NY, "2026-01-10 10:00:00", -1, uniqueid="neg"),
            asterisk_row(CALLER, "3125550000", "2026-01-10 10:00:00", 5, uniqueid="unknown"),
            asterisk_row(CALLER, "12", "2026-01-10 10:00:00", 5, uniqueid="bad-number"),
            asterisk_row(CALLER, NY, "2026-01-10 10:01:00", 7, uniqueid="good2"),
        )
        + b'"\xc3\x28",broken\n'
        + b'"","4155550123","21255'
    )

    # when it is ingested
    report = ingest(session, clock, provider, data)

    # then the good ones are stored and each bad one is an open reject with its reason
    assert counts(report) == (9, 2, 7, 0)
    rejects = list_rejects(session, scope=scope_of(session, provider.root), limit=100).items
    assert [(r.line_no, r.reason) for r in rejects] == sorted(
        [
            (2, RejectReason.WRONG_COLUMN_COUNT),
            (3, RejectReason.BAD_TIMESTAMP),
            (4, RejectReason.NEGATIVE_DURATION),
            (5, RejectReason.UNKNOWN_NUMBER),
            (6, RejectReason.BAD_NUMBER),
            (8, RejectReason.INVALID_ENCODING),
            (9, RejectReason.TRUNCATED_LINE),
        ],
        key=lambda pair: [r.line_no for r in rejects].index(pair[0]),
    )
    unknown = next(r for r in rejects if r.reason == RejectReason.UNKNOWN_NUMBER)
    assert (
        unknown.detail == "no account held the called number +13125550000 at 2026-01-10T10:00:00Z"
    )
    assert unknown.raw.startswith('"","4155550123","3125550000"')
    assert {r.status for r in rejects} == {RejectStatus.OPEN}
    by_reason = list_rejects(
        session, scope=scope_of(session, provider.root), reason="bad_number"
    ).items
    assert [r.line_no for r in by_reason] == [6]


def test_an_empty_file_is_recorded_with_one_reject(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    report = ingest(session, clock, provider, b"")
    assert counts(report) == (1, 0, 1, 0)
    [reject] = list_rejects(session, scope=scope_of(session, provider.root)).items
    assert (reject.line_no, reject.reason) == (0, RejectReason.EMPTY_FILE)


def test_reprocessing_after_assigning_the_number_accepts_the_rejects(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    # given two calls to a number nobody held, and a bad date
    chicago = "3125550000"
    data = lines(
        asterisk_row(CALLER, chicago, "2026-01-10 10:00:00", 65, uniqueid="c1"),
        asterisk_row(CALLER, chicago, "2026-01-11 10:00:00", 30, uniqueid="c2"),
        asterisk_row(CALLER, NY, "soon", 30, uniqueid="c3"),
    )
    report = ingest(session, clock, provider, data)
    assert counts(report) == (3, 0, 3, 0)

    # when the number is assigned from Jan 11 and the unknown-number rejects reprocessed
    number = make_number(session, clock, provider.root, "+1" + chicago)
    assign(session, clock, number, provider.first, datetime(2026, 1, 11, tzinfo=UTC))
    result = reprocess_rejects(
        session,
        clock=clock,
        scope=scope_of(session, provider.root),
        formats_dir=None,
        reason="unknown_number",
    )

    # then the call after the assignment is accepted; the other stays open; the date waits
    assert (result.reprocessed, result.accepted, result.duplicates, result.still_rejected) == (
        2,
        1,
        0,
        1,
    )
    still = list_rejects(session, scope=scope_of(session, provider.root)).items
    assert sorted((r.line_no, r.reason) for r in still) == [
        (1, RejectReason.UNKNOWN_NUMBER),
        (3, RejectReason.BAD_TIMESTAMP),
    ]
    done = list_rejects(
        session, scope=scope_of(session, provider.root), status=RejectStatus.REPROCESSED
    ).items
    assert [(r.line_no, r.reprocessed_at) for r in done] == [(2, clock.now())]
    arrival = session.get(UsageFile, report.file_id)
    assert arrival is not None
    assert (arrival.records_in, arrival.accepted, arrival.rejected, arrival.duplicates) == (
        3,
        1,
        2,
        0,
    )
    # and reprocessing again changes nothing
    again = reprocess_rejects(
        session, clock=clock, scope=scope_of(session, provider.root), formats_dir=None
    )
    assert (again.accepted, again.still_rejected) == (0, 2)
    assert stored(session) == 1


def test_a_reject_whose_record_arrived_since_is_reprocessed_as_a_duplicate(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    chicago = "3125550000"
    row = asterisk_row(CALLER, chicago, "2026-01-10 10:00:00", 65, uniqueid="c1")
    ingest(session, clock, provider, lines(row))
    number = make_number(session, clock, provider.root, "+1" + chicago)
    assign(session, clock, number, provider.first, JAN)
    later = ingest(
        session,
        clock,
        provider,
        lines(row, asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 1, uniqueid="n")),
    )
    assert counts(later) == (2, 2, 0, 0)
    result = reprocess_rejects(
        session, clock=clock, scope=scope_of(session, provider.root), formats_dir=None
    )
    assert (result.accepted, result.duplicates, result.still_rejected) == (0, 1, 0)
    assert stored(session) == 2


def test_freeswitch_and_generic_files_are_ingested(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    fs = lines(
        freeswitch_row(CALLER, NY, "2026-01-10 10:00:00", 42, uuid="f1"),
        freeswitch_row(CALLER, NY, "2026-01-10 10:00:00", 0, uuid="f2", codecs=False),
    )
    generic = lines(
        GENERIC_HEADER,
        generic_row("g1", "2026-01-20 10:00:00", CALLER, NY, "61", "sms"),
        # routed by the calling number when nobody holds the called one
        generic_row("g2", "2026-01-20 10:00:00", NY, "3125550000", "30"),
    )
    assert counts(ingest(session, clock, provider, fs, FREESWITCH)) == (2, 2, 0, 0)
    assert counts(ingest(session, clock, provider, generic, GENERIC)) == (2, 2, 0, 0)
    usage = accepted_usage(
        session,
        scope=scope_of(session, provider.root),
        start=JAN,
        end=datetime(2026, 2, 1, tzinfo=UTC),
    ).collect()
    assert usage.select("record_key", "usage_type", "account_id").rows() == [
        ("f1", "voice", provider.first.id),
        ("f2", "voice", provider.first.id),
        ("g1", "sms", provider.second.id),
        ("g2", "voice", provider.second.id),
    ]


def test_the_brand_importing_alone_cannot_route_to_the_root(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    data = lines(
        asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid="u1"),
        asterisk_row(CALLER, "+44" + LONDON, "2026-01-10 10:00:00", 65, uniqueid="u2"),
    )
    report = ingest_cdr_file(
        session,
        clock=clock,
        ctx=context_of(session, provider.brand),
        fmt=ASTERISK,
        name="brand.csv",
        data=data,
    )
    assert counts(report) == (2, 1, 1, 0)
    assert report.rejects["reason"].to_list() == [RejectReason.UNKNOWN_NUMBER]


def test_the_same_event_batch_twice_counts_once(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    events: list[dict[str, Any]] = [
        {
            "record_key": "e1",
            "started_at": "2026-01-10T10:00:00Z",
            "duration_s": 60,
            "calling": CALLER,
            "called": NY,
        },
        {
            "started_at": "2026-01-10T10:00:00+01:00",
            "quantity": 1,
            "usage_type": "sms",
            "calling": CALLER,
            "called": NY,
        },
        {"record_key": "e3", "started_at": "yesterday", "called": NY},
        {"record_key": "e4", "started_at": "2026-01-10T10:00:00", "called": "3125550000"},
    ]
    scope = scope_of(session, provider.root)
    ctx = context_of(session, provider.root)
    first = ingest_usage_events(session, clock=clock, ctx=ctx, events=events)
    again = ingest_usage_events(session, clock=clock, ctx=ctx, events=events)
    overlapping = ingest_usage_events(session, clock=clock, ctx=ctx, events=events[:2])
    assert counts(first) == (4, 2, 2, 0)
    assert first.rejects.select("line_no", "reason").rows() == [
        (2, RejectReason.BAD_TIMESTAMP),
        (3, RejectReason.UNKNOWN_NUMBER),
    ]
    assert counts(again) == (4, 0, 0, 4)
    assert counts(overlapping) == (2, 0, 0, 2)
    usage = accepted_usage(
        session, scope=scope, start=JAN, end=datetime(2026, 2, 1, tzinfo=UTC)
    ).collect()
    assert usage.select("usage_type", "duration_s", "quantity").rows() == [
        ("sms", 0, 1),
        ("voice", 60, 0),
    ]


def test_event_rejects_are_reprocessed_from_their_json(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    scope = scope_of(session, provider.root)
    ctx = context_of(session, provider.root)
    events = [{"record_key": "e1", "started_at": "2026-01-10T10:00:00Z", "called": "3125550000"}]
    ingest_usage_events(session, clock=clock, ctx=ctx, events=events)
    number = make_number(session, clock, provider.root, "+13125550000")
    assign(session, clock, number, provider.first, JAN)
    result = reprocess_rejects(session, clock=clock, scope=scope, formats_dir=None)
    assert (result.accepted, result.still_rejected) == (1, 0)
    assert stored(session) == 1


def test_a_tenant_format_routes_by_its_toll_free_column(
    session: Session, clock: FakeClock, provider: Provider
) -> None:
    # given a carrier's ;-separated file naming the toll-free number dialled, in Chicago time
    toll_free = make_number(session, clock, provider.root, "+18005550199")
    assign(session, clock, toll_free, provider.second, JAN)
    fmt = parse_format(
        """
name: tf-carrier
header: true
delimiter: ";"
columns: [TransactionId, StartTime, CallDuration, ANI, DNIS, TollFree]
fields: {started_at: [StartTime], duration: CallDuration, calling: ANI, called: DNIS,
         toll_free: TollFree}
duration_unit: minutes
timezone: America/Chicago
record_key: {column: TransactionId}
route_by: [toll_free]
carrier: tf-carrier
"""
    )
    data = lines(
        "TransactionId;StartTime;CallDuration;ANI;DNIS;TollFree",
        f"t1;2026-01-10 09:00:00;1.5;{'9' * 80};3125550000;1-800-555-0199",
    )

    # when it is ingested
    report = ingest(session, clock, provider, data, fmt)

    # then the toll-free number's holder gets it; a non-number is kept, cut to its column
    assert counts(report) == (1, 1, 0, 0)
    [row] = (
        accepted_usage(
            session,
            scope=scope_of(session, provider.root),
            start=JAN,
            end=datetime(2026, 2, 1, tzinfo=UTC),
        )
        .collect()
        .to_dicts()
    )
    assert row["account_id"] == provider.second.id
    assert row["started_at"] == datetime(2026, 1, 10, 15, tzinfo=UTC)
    assert row["duration_s"] == 90
    assert row["calling"] == "9" * 64
    assert row["called"] == "+13125550000"
    assert row["carrier"] == "tf-carrier"


TRUNCATING_CARRIER = """
name: trunc-carrier
columns: [call_id, start, from_number, to_number, seconds, {plan_list}]
{optional}
fields: {{started_at: [start], duration: seconds, calling: from_number, called: to_number}}
record_key: {{column: call_id}}
default_region: US
"""


def _write_carrier(folder: Path, *, plan_optional: bool) -> None:
    text = TRUNCATING_CARRIER.format(
        plan_list="" if plan_optional else "plan",
        optional="optional_columns: [plan]" if plan_optional else "",
    ).replace(", ]", "]")
    (folder / "trunc-carrier.yaml").write_text(text, encoding="utf-8")


def test_a_truncated_last_line_is_read_again_as_a_whole_line_on_reprocessing(
    session: Session, clock: FakeClock, provider: Provider, tmp_path: Path
) -> None:
    # given a carrier format whose rows end with a plan column, and two files whose last
    # lines end without a line end: one lacking the plan, one cut inside a quoted number
    _write_carrier(tmp_path, plan_optional=False)
    fmt = find_format("trunc-carrier", tmp_path)
    short = lines("c1,2026-01-10 10:00:00,4155550123,2125551234,65,gold") + (
        b"c2,2026-01-10 10:05:00,4155550123,2125551234,30"
    )
    cut = lines("c3,2026-01-10 10:06:00,4155550123,2125551234,12,gold") + (
        b'c4,2026-01-10 10:07:00,4155550123,"21255'
    )
    ingest(session, clock, provider, short, fmt, name="short.csv")
    ingest(session, clock, provider, cut, fmt, name="cut.csv")
    scope = scope_of(session, provider.root)
    first = list_rejects(session, scope=scope).items
    assert sorted((r.raw, r.reason) for r in first) == [
        ("c2,2026-01-10 10:05:00,4155550123,2125551234,30", RejectReason.TRUNCATED_LINE),
        ('c4,2026-01-10 10:07:00,4155550123,"21255', RejectReason.TRUNCATED_LINE),
    ]

    # when they are reprocessed with the format unchanged
    unchanged = reprocess_rejects(session, clock=clock, scope=scope, formats_dir=tmp_path)

    # then each is judged on what its line holds, not called truncated again
    assert (unchanged.accepted, unchanged.still_rejected) == (0, 2)
    assert sorted(
        (r.line_no, r.reason, r.detail) for r in list_rejects(session, scope=scope).items
    ) == [
        (2, RejectReason.MALFORMED_ROW, "a quoted field is not closed"),
        (2, RejectReason.WRONG_COLUMN_COUNT, "5 columns, expected 6"),
    ]

    # when the plan column is made optional and they are reprocessed again
    _write_carrier(tmp_path, plan_optional=True)
    fixed = reprocess_rejects(session, clock=clock, scope=scope, formats_dir=tmp_path)

    # then the line lacking only the plan is accepted; the cut one stays malformed
    assert (fixed.reprocessed, fixed.accepted, fixed.duplicates, fixed.still_rejected) == (
        2,
        1,
        0,
        1,
    )
    [left] = list_rejects(session, scope=scope).items
    assert (left.raw, left.reason) == (
        'c4,2026-01-10 10:07:00,4155550123,"21255',
        RejectReason.MALFORMED_ROW,
    )
    usage = accepted_usage(
        session, scope=scope, start=JAN, end=datetime(2026, 2, 1, tzinfo=UTC)
    ).collect()
    assert sorted(usage.select("record_key", "duration_s").rows()) == [
        ("c1", 65),
        ("c2", 30),
        ("c3", 12),
    ]
    short_file = session.scalar(select(UsageFile).where(UsageFile.name == "short.csv"))
    assert short_file is not None
    assert (short_file.records_in, short_file.accepted, short_file.rejected) == (2, 2, 0)
