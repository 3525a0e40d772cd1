"""Reading CDR files into typed records and rejects (pure: no database)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.core.errors import InvalidInputError
from billstream.mediation.definition import CdrFormat, parse_format
from billstream.mediation.errors import RejectReason
from billstream.mediation.parsing import Parsed, parse_cdr_file
from billstream.mediation.service.formats import SHIPPED, find_format, format_names
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


def parse(data: bytes, fmt: CdrFormat) -> Parsed:
    parsed, _ = parse_cdr_file(data, fmt)
    return parsed


def reasons(parsed: Parsed) -> dict[int, str]:
    return dict(zip(parsed.rejects["line_no"], parsed.rejects["reason"], strict=True))


def test_the_shipped_formats_load() -> None:
    assert format_names(None) == ["asterisk-cdr-csv", "freeswitch-cdr-csv", "generic-carrier-csv"]
    assert len(list(SHIPPED.glob("*.yaml"))) == 3


def test_asterisk_16_columns_keys_by_hash_and_zeroes_unanswered_calls() -> None:
    # given Master.csv with the default 16 columns: an answered and an unanswered call
    data = lines(
        asterisk_row(CALLER, NY, "2026-01-15 10:00:00", 65),
        asterisk_row(CALLER, NY, "2026-01-15 11:00:00", 12, disposition="NO ANSWER"),
    )

    # when it is read
    parsed = parse(data, ASTERISK)

    # then both are records, the unanswered one with duration 0, keyed by a sha256
    records = parsed.records
    assert parsed.rejects.is_empty()
    assert records["duration_s"].to_list() == [65, 0]
    assert records["started_at"].to_list() == [
        datetime(2026, 1, 15, 10, tzinfo=UTC),
        datetime(2026, 1, 15, 11, tzinfo=UTC),
    ]
    assert records["calling"].to_list() == [CALLER, CALLER]
    assert records["called"].to_list() == [NY, NY]
    assert records["usage_type"].to_list() == ["voice", "voice"]
    start = "2026-01-15 10:00:00"
    joined = "\x1f".join(["", CALLER, NY, "SIP/100-00000001", "SIP/trunk-00000002", start, start])
    assert records["record_key"][0] == "sha256:" + hashlib.sha256(joined.encode()).hexdigest()


def test_asterisk_18_columns_keys_by_uniqueid_and_mixed_widths_read_together() -> None:
    data = lines(
        asterisk_row(CALLER, NY, "2026-01-15 10:00:00", 65, uniqueid="1736935200.1", userfield=""),
        asterisk_row(CALLER, NY, "2026-01-15 10:05:00", 30, uniqueid="1736935500.2"),
        asterisk_row(CALLER, NY, "2026-01-15 10:10:00", 5),
    )
    parsed = parse(data, ASTERISK)
    assert parsed.rejects.is_empty()
    keys = parsed.records["record_key"].to_list()
    assert keys[:2] == ["1736935200.1", "1736935500.2"]
    assert keys[2].startswith("sha256:")


def test_asterisk_reads_16_to_21_columns_by_position() -> None:
    # given the shipped format: 16 columns, uniqueid and userfield where switched on, and the
    # newer versions' peeraccount, linkedid and sequence after them
    widths = ASTERISK.column_counts()
    assert sorted(widths) == [16, 17, 18, 19, 20, 21]
    assert widths[19][16:] == ["peeraccount", "linkedid", "sequence"]
    assert widths[20][16:] == ["uniqueid", "peeraccount", "linkedid", "sequence"]
    assert widths[21][16:] == ["uniqueid", "userfield", "peeraccount", "linkedid", "sequence"]
    # when rows of 18, 19, 20 and 21 columns are read together
    newer = ("peer", "1736935200.0", 7)
    data = lines(
        asterisk_row(CALLER, NY, "2026-01-15 10:00:00", 65, uniqueid="1736935200.1", userfield=""),
        asterisk_row(CALLER, NY, "2026-01-15 10:01:00", 65, newer=("peer", "1736935200.0", 8)),
        asterisk_row(CALLER, NY, "2026-01-15 10:02:00", 65, uniqueid="1736935200.3",
                     newer=("peer", "1736935200.0", 9)),
        asterisk_row(CALLER, NY, "2026-01-15 10:03:00", 65, uniqueid="1736935200.4",
                     userfield="", newer=newer),
    )  # fmt: skip
    parsed = parse(data, ASTERISK)
    # then all are records, keyed linkedid#sequence where a row has both (else uniqueid)
    assert parsed.rejects.is_empty()
    keys = parsed.records["record_key"].to_list()
    assert keys == ["1736935200.1", "1736935200.0#8", "1736935200.0#9", "1736935200.0#7"]


def test_asterisk_legs_of_one_call_sharing_uniqueid_keep_their_own_keys() -> None:
    # given two answered legs of one call (same uniqueid and linkedid, sequence 3 and 4)
    data = lines(
        *(
            asterisk_row(
                CALLER,
                NY,
                "2026-01-15 10:00:00",
                billsec,
                uniqueid="1736935200.1",
                userfield="",
                newer=("", "1736935200.1", sequence),
                dstchannel=f"SIP/trunk-0000000{sequence}",
            )
            for billsec, sequence in ((30, 3), (45, 4))
        )
    )
    parsed = parse(data, ASTERISK)
    # then each leg is a record of its own key (linkedid#sequence), with its own duration
    assert parsed.records["record_key"].to_list() == ["1736935200.1#3", "1736935200.1#4"]
    assert parsed.records["duration_s"].to_list() == [30, 45]
    # and a tenant format may key by uniqueid#sequence instead, read by position too
    by_uniqueid = {**ASTERISK.model_dump(), "record_key": {"columns": ["uniqueid", "sequence"]}}
    legs = parse(data, CdrFormat.model_validate(by_uniqueid))
    assert legs.records["record_key"].to_list() == ["1736935200.1#3", "1736935200.1#4"]


def test_a_header_format_reads_any_column_count_in_any_order() -> None:
    # given a format naming its columns by header, keyed by uniqueid and sequence
    fmt = parse_format(
        """
name: asterisk-with-header
header: true
columns: [start, src, dst, billsec, uniqueid, sequence]
fields: {started_at: [start], duration: billsec, calling: src, called: dst}
record_key: {columns: [uniqueid, sequence], hash_of: [start, src, dst]}
"""
    )
    # when two files have the columns in other orders, with extra ones or not
    wide = lines(
        "sequence,linkedid,dst,peeraccount,billsec,src,uniqueid,start",
        f"4,L1,{NY},,45,{CALLER},U1,2026-01-15 10:00:00",
        f",L1,{NY},,30,{CALLER},U1,2026-01-15 10:00:00",
    )
    narrow = lines(
        "uniqueid,src,dst,start,billsec,sequence", f"U2,{CALLER},{NY},2026-01-15 10:00:00,5,1"
    )
    # then each is read by its own header; an empty sequence falls back to the hash
    parsed = parse(wide, fmt)
    assert parsed.rejects.is_empty()
    keys = parsed.records["record_key"].to_list()
    assert keys[0] == "U1#4"
    assert keys[1].startswith("sha256:")
    assert parsed.records["duration_s"].to_list() == [45, 30]
    assert parse(narrow, fmt).records["record_key"].to_list() == ["U2#1"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("{columns: [uniqueid]}", "use record_key.column for a single column"),
        ("{columns: [uniqueid, uniqueid]}", "record_key.columns names uniqueid more than once"),
        ("{hash_of: [src, src]}", "record_key.hash_of names src more than once"),
        ("{}", "record_key needs columns, a column, hash_of columns"),
        (
            "{columns: [uniqueid, seq]}",
            "record_key.columns name columns the format does not list: ['seq']",
        ),
    ],
)
def test_a_bad_record_key_is_refused_naming_it(key: str, message: str) -> None:
    text = f"""
name: keyed
columns: [start, src, dst, uniqueid, sequence]
fields: {{started_at: [start], calling: src, called: dst}}
record_key: {key}
"""
    with pytest.raises(InvalidInputError, match=re.escape(message)) as caught:
        parse_format(text)
    assert caught.value.field in ("format: record_key", "format")


def test_asterisk_local_time_is_read_in_the_configured_zone() -> None:
    data = lines(asterisk_row(CALLER, NY, "2026-01-15 10:00:00", 65, uniqueid="u1"))
    parsed = parse(data, ASTERISK.with_timezone("America/New_York"))
    assert parsed.records["started_at"].to_list() == [datetime(2026, 1, 15, 15, tzinfo=UTC)]


def test_a_time_in_a_dst_gap_is_a_bad_timestamp_and_the_overlap_reads_the_first() -> None:
    data = lines(
        asterisk_row(CALLER, NY, "2026-03-08 02:30:00", 5, uniqueid="gap"),
        asterisk_row(CALLER, NY, "2026-11-01 01:30:00", 5, uniqueid="overlap"),
    )
    parsed = parse(data, ASTERISK.with_timezone("America/New_York"))
    assert reasons(parsed) == {1: RejectReason.BAD_TIMESTAMP}
    assert parsed.records["started_at"].to_list() == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]


def test_the_alternative_asterisk_date_format_is_read() -> None:
    data = lines(asterisk_row(CALLER, NY, "20260115-100000", 7, uniqueid="u"))
    parsed = parse(data, ASTERISK)
    assert parsed.records["started_at"].to_list() == [datetime(2026, 1, 15, 10, tzinfo=UTC)]


@pytest.mark.parametrize("codecs", [True, False], ids=["15 columns", "13 columns"])
def test_freeswitch_example_and_builtin_templates(codecs: bool) -> None:
    data = lines(
        freeswitch_row(CALLER, NY, "2026-01-15 10:00:00", 42, uuid="a-1", codecs=codecs),
        freeswitch_row(
            CALLER, NY, "2026-01-15 10:01:00", 0, uuid="a-2", cause="NO_ANSWER", codecs=codecs
        ),
    )
    parsed = parse(data, FREESWITCH)
    assert parsed.rejects.is_empty()
    assert parsed.records["record_key"].to_list() == ["a-1", "a-2"]
    assert parsed.records["duration_s"].to_list() == [42, 0]


def test_generic_carrier_reads_its_header_and_maps_usage_types() -> None:
    data = lines(
        GENERIC_HEADER,
        generic_row("c1", "2026-01-15T10:00:00Z", CALLER, NY, "61", "voice"),
        generic_row("c2", "2026-01-15 10:00:00", CALLER, NY, "0", "SMS"),
        generic_row("c3", "2026-01-15 10:00:00", CALLER, NY, "1", "fax"),
    )
    parsed = parse(data, GENERIC)
    assert parsed.records["usage_type"].to_list() == ["voice", "sms"]
    assert reasons(parsed) == {4: RejectReason.UNKNOWN_USAGE_TYPE}


def test_a_header_missing_a_column_the_format_reads_refuses_the_file() -> None:
    data = lines("call_id,start_time,from_number", "c1,2026-01-15 10:00:00,4155550123")
    with pytest.raises(InvalidInputError, match="to_number, billed_seconds"):
        parse(data, GENERIC)


def test_every_bad_line_is_a_reject_with_its_reason_and_the_rest_goes_on() -> None:
    # given a file with one good record among every kind of bad line
    good = asterisk_row(CALLER, NY, "2026-01-15 10:00:00", 65, uniqueid="good")
    data = (
        "\n".join(
            [
                good,
                '"","4155550123","unclosed',
                "a,b,c",
                asterisk_row(CALLER, NY, "15/01/2026 10:00", 5, uniqueid="date"),
                asterisk_row(CALLER, NY, "2026-01-15 10:00:00", -5, uniqueid="negative"),
                good.replace(",65,", ",sixty,").replace('"good"', '"words"'),
                "",  # a blank line: skipped, not a record
                "",
            ]
        ).encode()
        + b'"\xff\xfe","x"\n'
        + good.replace('"good"', '"cut"')[:60].encode()
    )

    # when it is read
    parsed = parse(data, ASTERISK)

    # then the good record is read, and each bad line is a reject with its raw line
    assert parsed.records["record_key"].to_list() == ["good"]
    assert reasons(parsed) == {
        2: RejectReason.MALFORMED_ROW,
        3: RejectReason.WRONG_COLUMN_COUNT,
        4: RejectReason.BAD_TIMESTAMP,
        5: RejectReason.NEGATIVE_DURATION,
        6: RejectReason.BAD_DURATION,
        8: RejectReason.INVALID_ENCODING,
        9: RejectReason.TRUNCATED_LINE,
    }
    raw = dict(zip(parsed.rejects["line_no"], parsed.rejects["raw"], strict=True))
    assert raw[3] == "a,b,c"
    detail = dict(zip(parsed.rejects["line_no"], parsed.rejects["detail"], strict=True))
    assert detail[3] == "3 columns, expected 16 or 17 or 18 or 19 or 20 or 21"


def test_a_complete_last_line_without_a_line_end_is_read() -> None:
    data = asterisk_row(CALLER, NY, "2026-01-15 10:00:00", 65, uniqueid="last").encode()
    assert parse(data, ASTERISK).records["record_key"].to_list() == ["last"]


@pytest.mark.parametrize("data", [b"", b"\n\n", GENERIC_HEADER.encode() + b"\n"])
def test_an_empty_file_is_one_empty_file_reject(data: bytes) -> None:
    parsed = parse(data, GENERIC)
    assert parsed.records.is_empty()
    assert reasons(parsed) == {0: RejectReason.EMPTY_FILE}


def test_windows_line_ends_and_a_byte_order_mark_are_read() -> None:
    text = (
        "\ufeff"
        + GENERIC_HEADER
        + "\r\n"
        + generic_row("c1", "2026-01-15 10:00:00", CALLER, NY, "5")
        + "\r\n"
    )
    parsed = parse(text.encode(), GENERIC)
    assert parsed.records["record_key"].to_list() == ["c1"]


def test_durations_in_milliseconds_round_up_to_whole_seconds() -> None:
    fmt = CdrFormat.model_validate({**GENERIC.model_dump(), "duration_unit": "milliseconds"})
    data = lines(
        GENERIC_HEADER,
        generic_row("c1", "2026-01-15 10:00:00", CALLER, NY, "61001"),
        generic_row("c2", "2026-01-15 10:00:00", CALLER, NY, "60000"),
    )
    assert parse(data, fmt).records["duration_s"].to_list() == [62, 60]


def test_a_tenant_format_is_data() -> None:
    # given a ThinQ-like carrier file: separate date and time, ; delimiter, no call id
    fmt = parse_format(
        """
name: thinq-origination
header: true
delimiter: ";"
columns: [date, time, from_ani, to_did, billsec]
fields: {started_at: [date, time], duration: billsec, calling: from_ani, called: to_did}
timezone: America/Chicago
record_key: {hash_of: [date, time, from_ani, to_did]}
carrier: thinq
"""
    )
    data = lines("date;time;from_ani;to_did;billsec", f"2026-01-15;09:00:00;{CALLER};{NY};30")

    parsed = parse(data, fmt)

    assert parsed.records["started_at"].to_list() == [datetime(2026, 1, 15, 15, tzinfo=UTC)]
    assert parsed.records["carrier"].to_list() == ["thinq"]
    assert parsed.records["record_key"][0].startswith("sha256:")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: x\nfields: {}\n", "format: fields.started_at"),
        ("- a list\n", "format"),
        ("name: Bad Name\n", "format: name"),
    ],
)
def test_a_malformed_format_is_refused_naming_the_field(text: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_format(text)
    assert caught.value.field == field


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="Mars/Olympus"):
        ASTERISK.with_timezone("Mars/Olympus")


def test_the_records_schema_is_stable() -> None:
    parsed = parse(
        lines(asterisk_row(CALLER, NY, "2026-01-15 10:00:00", 1, uniqueid="u")), ASTERISK
    )
    assert parsed.records.schema["started_at"] == pl.Datetime("us", "UTC")
    assert parsed.records.schema["duration_s"] == pl.Int64


def test_a_key_longer_than_the_column_is_a_reject() -> None:
    data = lines(asterisk_row(CALLER, NY, "2026-01-15 10:00:00", 1, uniqueid="k" * 161))
    assert reasons(parse(data, ASTERISK)) == {1: RejectReason.BAD_KEY}


LINE_KINDS = [
    "good",
    "unanswered",
    "blank",
    "short",
    "unclosed",
    "bad date",
    "negative",
    "not utf-8",
    "16 columns",
]


def _line(kind: str, i: int) -> bytes:
    at = f"2026-01-15 10:{i % 60:02d}:00"
    rows = {
        "good": asterisk_row(CALLER, NY, at, i, uniqueid=f"u{i}"),
        "unanswered": asterisk_row(CALLER, NY, at, 0, disposition="BUSY", uniqueid=f"u{i}"),
        "blank": "   ",
        "short": "a,b",
        "unclosed": '"a,b',
        "bad date": asterisk_row(CALLER, NY, "2026-02-30 10:00:00", 1, uniqueid=f"u{i}"),
        "negative": asterisk_row(CALLER, NY, at, -i - 1, uniqueid=f"u{i}"),
        "16 columns": asterisk_row(CALLER, NY, at, i),
    }
    return b'"\xff",' + b"x" * 10 if kind == "not utf-8" else rows[kind].encode()


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(st.sampled_from(LINE_KINDS), max_size=25), cut=st.booleans())
def test_every_line_is_a_record_or_a_reject_exactly_once(kinds: list[str], cut: bool) -> None:
    # given any mix of good and bad lines, the file maybe cut short at the end
    data = b"\n".join(_line(kind, i) for i, kind in enumerate(kinds)) + (b"" if cut else b"\n")

    # when it is read
    parsed = parse(data, ASTERISK)

    # then each non-blank line is exactly one record or one reject; no line: one empty_file
    numbered = [i + 1 for i, kind in enumerate(kinds) if kind != "blank"]
    records, rejects = parsed.records["line_no"].to_list(), parsed.rejects["line_no"].to_list()
    if not numbered:
        assert (records, parsed.rejects["reason"].to_list()) == ([], [RejectReason.EMPTY_FILE])
        return
    assert sorted(records + rejects) == numbered
    # and the good ones are the records (a complete last line without its line end too)
    good = [i + 1 for i, kind in enumerate(kinds) if kind in ("good", "unanswered", "16 columns")]
    assert records == good


def test_a_narrower_first_row_does_not_hide_the_wider_ones() -> None:
    data = lines(
        asterisk_row(CALLER, NY, "2026-01-15 10:10:00", 5),
        asterisk_row(CALLER, NY, "2026-01-15 10:05:00", 30, uniqueid="u2", userfield="vip"),
    )
    parsed = parse(data, ASTERISK)
    assert parsed.rejects.is_empty()
    assert parsed.records["record_key"][1] == "u2"


def test_two_layouts_of_one_width_are_refused() -> None:
    # given a format whose two layouts both make 18 columns
    text = ASTERISK.model_dump()
    text["layouts"] = [["a", "b"], ["c", "d"]]
    # then the format is refused, naming the width
    with pytest.raises(ValueError, match="two column sets of 18 columns"):
        CdrFormat.model_validate(text)


def test_one_name_where_a_list_is_expected_is_a_list_of_one() -> None:
    # given a format written with single names for its lists
    fmt = parse_format(
        """
name: single-names
columns: [start, src, dst, billsec, callid]
fields: {started_at: start, duration: billsec, calling: src, called: dst}
timestamp_formats: "%Y-%m-%d %H:%M:%S"
route_by: called
record_key: {column: callid, hash_of: start}
"""
    )
    # then each reads as a list of that one name
    assert (fmt.fields.started_at, fmt.timestamp_formats) == (["start"], ["%Y-%m-%d %H:%M:%S"])
    assert (fmt.route_by, fmt.record_key.hash_of) == (["called"], ["start"])


def test_a_number_where_names_are_expected_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_format(
            "name: bad\ncolumns: [a, b]\nfields: {started_at: 5, calling: a, called: b}\n"
            "record_key: {column: a}\n"
        )
    assert refused.value.field == "format: fields.started_at"
    assert refused.value.detail == "expected one name or a list of them, got 5"
