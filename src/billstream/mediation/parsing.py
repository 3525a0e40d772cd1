"""From CDR bytes to typed usage records and rejects, with Polars expressions only.

Three steps, each a frame in and frames out, none a Python loop per record:

1. `read_lines`: decode once, split into numbered lines; a line that is not valid UTF-8 is
   marked (decoding replaces its bad bytes with U+FFFD).
2. `split_fields`: check each line's quoting and column count with string expressions, then
   hand the good lines, joined, to Polars' CSV reader (every column a string).
3. `interpret`: timestamps, durations, keys, usage type, answered filter, per the format.

Each step returns rejects as a frame of (line_no, reason, detail, raw). Pure: no I/O.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass

import polars as pl

from billstream.core.errors import InvalidInputError
from billstream.core.limits import MAX_USAGE_SECONDS, MAX_USAGE_TOTAL
from billstream.mediation.definition import CdrFormat, DurationUnit
from billstream.mediation.errors import MediationErrorCode, RejectReason

UTC_INSTANT = pl.Datetime("us", "UTC")
# a duration as given, exactly: up to 29 digits before the point (longer ones are refused
# before the cast to whole seconds) and 9 after, the finest unit a switch writes
DURATION = pl.Decimal(38, 9)
REJECT_SCHEMA = pl.Schema(
    {"line_no": pl.Int64(), "reason": pl.String(), "detail": pl.String(), "raw": pl.String()}
)
RECORD_SCHEMA = pl.Schema(
    {
        "line_no": pl.Int64(),
        "raw": pl.String(),
        "record_key": pl.String(),
        "started_at": UTC_INSTANT,
        "duration_s": pl.Int64(),
        "quantity": pl.Int64(),
        "usage_type": pl.String(),
        "carrier": pl.String(),
        "calling": pl.String(),
        "called": pl.String(),
        "toll_free": pl.String(),
    }
)
REPLACEMENT = "\ufffd"
QUOTED = r'"[^"]*"'  # a doubled quote inside a field splits it in two: still balanced
HASH_SEPARATOR = "\x1f"
KEY_SEPARATOR = "#"  # record_key.columns, joined
MAX_KEY_LENGTH = 160  # usage_records.record_key


@dataclass(frozen=True)
class Lines:
    """A file's numbered lines (blank ones dropped), its header if the format has one."""

    lines: pl.DataFrame  # line_no Int64, raw String, last_incomplete Boolean
    header: list[str] | None
    rejects: pl.DataFrame
    body: bytes | None = None  # the bytes of exactly `lines`, when none was dropped


@dataclass(frozen=True)
class Parsed:
    records: pl.DataFrame  # RECORD_SCHEMA
    rejects: pl.DataFrame  # REJECT_SCHEMA


def rejects_of(
    frame: pl.DataFrame, reason: RejectReason | pl.Expr, detail: pl.Expr
) -> pl.DataFrame:
    reason_expr = pl.lit(str(reason)) if isinstance(reason, RejectReason) else reason
    return frame.select(
        pl.col("line_no").cast(pl.Int64),
        reason_expr.cast(pl.String).alias("reason"),
        detail.cast(pl.String).alias("detail"),
        pl.col("raw").cast(pl.String),
    )


def blank_as_null(column: str) -> pl.Expr:
    """The column's text without surrounding spaces; an empty value is null."""
    text = pl.col(column).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text).alias(column)


def no_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def read_lines(data: bytes, fmt: CdrFormat) -> Lines:
    """Number the lines of `data` (1-based, as an editor shows them) and take the header off.

    A file with no record at all gives one `empty_file` reject at line 0.
    """
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    complete, crlf, intact = text.endswith("\n"), "\r" in text, REPLACEMENT not in text
    parts = text.split("\n")  # one C call, faster here than Polars' split (docs/performance.md)
    del text  # the file is held three times at most: bytes, text, lines
    if complete:
        parts.pop()
    raw = pl.Series("raw", parts, dtype=pl.String)
    del parts
    if crlf:
        raw = raw.str.strip_suffix("\r")
    last = raw.len()
    lines = pl.DataFrame(
        {
            "line_no": pl.int_range(1, last + 1, dtype=pl.Int64, eager=True),
            "raw": raw,
            "last_incomplete": pl.repeat(False, last, eager=True).scatter(
                [last - 1] if last and not complete else [], True
            ),
        }
    )
    blank = raw.str.strip_chars() == ""
    if blank.any():
        lines = lines.filter(~blank)
    intact = intact and lines.height == last
    body: bytes | None = data.removeprefix(b"\xef\xbb\xbf") if intact else None
    header: list[str] | None = None
    if fmt.header and lines.height:
        header = header_names(lines["raw"][0], fmt)
        lines = lines.slice(1)
        body = body[body.index(b"\n") + 1 :] if body is not None and lines.height else None
    if lines.is_empty():
        empty = pl.DataFrame({"line_no": [0], "raw": [""]})
        detail = "the file holds no records"
        return Lines(lines, header, rejects_of(empty, RejectReason.EMPTY_FILE, pl.lit(detail)))
    return Lines(lines, header, no_rejects(), body)


def header_names(line: str, fmt: CdrFormat) -> list[str]:
    """The column names of a header line; refuse a header missing a column the format needs."""
    if REPLACEMENT in line:
        raise InvalidInputError(
            "the header row is not valid UTF-8", code=MediationErrorCode.BAD_HEADER, field="file"
        )
    names = [name.strip() for name in next(csv.reader([line], delimiter=fmt.delimiter))]
    missing = [c for c in fmt.columns if c not in names]
    if missing:
        raise InvalidInputError(
            f"the header row lacks the column(s) {', '.join(missing)} that format {fmt.name} reads",
            code=MediationErrorCode.BAD_HEADER,
            field="file",
        )
    return names


def split_fields(
    lines: pl.DataFrame, fmt: CdrFormat, header: list[str] | None, body: bytes | None = None
) -> Parsed:
    """Split each good line into the columns the format reads (strings, empty as null).

    A line's width is its delimiters outside quoted sections, plus one: one regex counts
    quoted sections and delimiters together, and the quoted sections are half the quotes.
    """
    widths = {len(header): header} if header is not None else fmt.column_counts()
    widest = widths[max(widths)]
    quotes = pl.col("raw").str.count_matches('"', literal=True)
    pieces = pl.col("raw").str.count_matches(QUOTED + "|" + re.escape(fmt.delimiter))
    checked = lines.with_columns(
        pl.col("raw").str.contains(REPLACEMENT, literal=True).alias("_bad_utf8"),
        (quotes % 2 == 1).alias("_unbalanced"),
        (pieces - quotes // 2 + 1).alias("_width"),
    )
    expected = " or ".join(str(w) for w in sorted(widths))
    reason = (
        pl.when(pl.col("_bad_utf8"))
        .then(pl.lit(RejectReason.INVALID_ENCODING))
        .when(pl.col("_unbalanced") | ~pl.col("_width").is_in(list(widths)))
        .then(
            pl.when(pl.col("last_incomplete"))
            .then(pl.lit(RejectReason.TRUNCATED_LINE))
            .when(pl.col("_unbalanced"))
            .then(pl.lit(RejectReason.MALFORMED_ROW))
            .otherwise(pl.lit(RejectReason.WRONG_COLUMN_COUNT))
        )
    )
    detail = (
        pl.when(pl.col("_bad_utf8"))
        .then(pl.lit("the line is not valid UTF-8"))
        .when(pl.col("last_incomplete"))
        .then(pl.lit("the last line ends before its record does (no line end)"))
        .when(pl.col("_unbalanced"))
        .then(pl.lit("a quoted field is not closed"))
        .otherwise(pl.format("{} columns, expected " + expected, pl.col("_width")))
    )
    judged = checked.with_columns(reason.alias("_reason"))
    rejects = rejects_of(judged.filter(pl.col("_reason").is_not_null()), pl.col("_reason"), detail)
    good = judged.filter(pl.col("_reason").is_null())
    read = [c for c in widest if c in set(fmt.referenced_columns())]
    blank_is_null = [blank_as_null(c) for c in read]
    empty = pl.DataFrame(schema=dict.fromkeys(read, pl.String()))
    parts = [pl.concat([good.head(0).select("line_no", "raw"), empty], how="horizontal")]
    by_width = good.partition_by("_width", as_dict=True) if good.height else {}
    for (width,), rows in by_width.items():
        # one read per width: a layout's columns need not extend a narrower one's
        whole = body is not None and rows.height == lines.height
        text = body if whole else (rows["raw"].str.join("\n").item() + "\n").encode()
        fields = _columns(text, fmt, widths[int(width)], read)  # type: ignore[arg-type]
        if fields.height != rows.height:  # a line the checks passed but the reader split
            raise AssertionError(f"read {fields.height} rows from {rows.height} lines")
        parts.append(
            pl.concat([rows.select("line_no", "raw"), fields.select(blank_is_null)],
                      how="horizontal")
        )  # fmt: skip
    records = pl.concat(parts).sort("line_no") if len(parts) > 2 else parts[-1]
    return Parsed(records, rejects)


def _columns(body: bytes, fmt: CdrFormat, names: list[str], read: list[str]) -> pl.DataFrame:
    """The `read` columns of lines of one width whose columns are `names` (null where a
    narrower layout lacks one)."""
    return pl.read_csv(
        body,
        has_header=False,
        separator=fmt.delimiter,
        quote_char='"',
        schema=dict.fromkeys(names, pl.String()),
        truncate_ragged_lines=True,
        missing_columns="insert",
        columns=[names.index(c) for c in read if c in names],
    ).with_columns(pl.lit(None, pl.String).alias(c) for c in read if c not in names)


def _instants(fmt: CdrFormat) -> pl.Expr:
    text = pl.concat_str([pl.col(c) for c in fmt.fields.started_at], separator=" ")
    zoned = text.str.replace(r"Z$", "+00:00")
    tried = []
    for pattern in fmt.timestamp_formats:
        if "%z" in pattern or "%:z" in pattern or "%#z" in pattern:
            aware = zoned.str.to_datetime(pattern, strict=False, time_unit="us", time_zone="UTC")
            tried.append(aware)
        else:
            naive = text.str.to_datetime(pattern, strict=False, time_unit="us")
            local = naive.dt.replace_time_zone(
                fmt.timezone, ambiguous="earliest", non_existent="null"
            )
            tried.append(local.dt.convert_time_zone("UTC"))
    return pl.coalesce(tried).cast(UTC_INSTANT)


def _seconds(fmt: CdrFormat) -> pl.Expr:
    """The duration as an exact decimal number, in the file's unit (null: not a number)."""
    if fmt.fields.duration is None:
        return pl.lit(0, DURATION)
    return pl.col(fmt.fields.duration).cast(DURATION, strict=False)


def _in_seconds(value: pl.Expr, unit: DurationUnit) -> pl.Expr:
    return {
        DurationUnit.SECONDS: value,
        DurationUnit.MILLISECONDS: value / 1000,
        DurationUnit.MINUTES: value * 60,
    }[unit]


def _whole_seconds(value: pl.Expr, unit: DurationUnit) -> pl.Expr:
    return _in_seconds(value, unit).ceil().clip(lower_bound=0).cast(pl.Int64)


def _sha256(values: pl.Series) -> pl.Series:
    """sha256 hex digests of the distinct strings, mapped back (stable across versions)."""
    distinct = values.drop_nulls().unique()
    digests = pl.Series([hashlib.sha256(v.encode()).hexdigest() for v in distinct], dtype=pl.String)
    table = pl.DataFrame({"v": distinct, "d": digests})
    return values.to_frame("v").join(table, on="v", how="left", maintain_order="left")["d"]


def _keys(frame: pl.DataFrame, fmt: CdrFormat) -> pl.Series:
    key = fmt.record_key
    column = pl.col(key.column) if key.column is not None else pl.lit(None, pl.String)
    if key.columns:  # null when any of them is null (concat_str propagates nulls)
        joined_ids = pl.concat_str([pl.col(c) for c in key.columns], separator=KEY_SEPARATOR)
        column = pl.coalesce(joined_ids, column)
    own = frame.select(column.cast(pl.String)).to_series()
    if not key.hash_of:
        return own
    needs_hash = own.is_null()
    if not needs_hash.any():
        return own
    joined = frame.select(
        pl.when(needs_hash)
        .then(
            pl.concat_str([pl.col(c).fill_null("") for c in key.hash_of], separator=HASH_SEPARATOR)
        )
        .otherwise(None)
    ).to_series()
    hashed = ("sha256:" + _sha256(joined)).alias("h")
    return own.zip_with(~needs_hash, hashed)


def _usage_types(fmt: CdrFormat) -> pl.Expr:
    if fmt.fields.usage_type is None:
        return pl.lit(fmt.usage_type)
    given = pl.col(fmt.fields.usage_type).str.to_lowercase()
    if not fmt.usage_types:
        return given.fill_null(fmt.usage_type)
    mapping = {k.lower(): v for k, v in fmt.usage_types.items()}
    return (
        pl.when(given.is_null())
        .then(pl.lit(fmt.usage_type))
        .otherwise(given.replace_strict(mapping, default=None, return_dtype=pl.String))
    )


Check = tuple[pl.Expr, RejectReason, pl.Expr]  # failed?, reason, detail


def _checks(fmt: CdrFormat) -> list[Check]:
    """What makes a typed record a reject, in order: the first failing check names it."""
    f = fmt.fields
    duration_text = pl.col(f.duration) if f.duration else pl.lit("")
    seconds = pl.col("_seconds")
    return [
        (pl.col("_key").is_null(), RejectReason.MISSING_KEY, pl.lit("the record has no key")),
        (
            pl.col("_key").str.len_chars() > MAX_KEY_LENGTH,
            RejectReason.BAD_KEY,
            pl.format("the key is longer than {} characters", pl.lit(MAX_KEY_LENGTH)),
        ),
        (
            pl.col("_at").is_null(),
            RejectReason.BAD_TIMESTAMP,
            pl.format(
                "'{}' is not a time in {} ({})",
                pl.concat_str([pl.col(c) for c in f.started_at], separator=" ").fill_null(""),
                pl.lit(", ".join(fmt.timestamp_formats)),
                pl.lit(fmt.timezone),
            ),
        ),
        (
            seconds.is_null(),
            RejectReason.BAD_DURATION,
            pl.format("duration '{}' is not a number", duration_text.fill_null("")),
        ),
        (
            seconds < 0,
            RejectReason.NEGATIVE_DURATION,
            pl.format("duration {} is negative", duration_text),
        ),
        (  # before the cast to whole seconds: 23 digits do not fit an int64
            _in_seconds(seconds, fmt.duration_unit) > MAX_USAGE_SECONDS,
            RejectReason.BAD_DURATION,
            pl.format(
                "duration {} is longer than the longest billstream accepts ({} seconds)",
                duration_text,
                pl.lit(MAX_USAGE_SECONDS),
            ),
        ),
        (
            pl.col("_quantity").is_null() | (pl.col("_quantity") < 0),
            RejectReason.BAD_QUANTITY,
            pl.format("quantity '{}' is not a whole number >= 0", pl.col(f.quantity or "_key")),
        ),
        (
            pl.col("_quantity") > MAX_USAGE_TOTAL,
            RejectReason.BAD_QUANTITY,
            pl.format(
                "quantity {} is more than the most billstream accepts ({})",
                pl.col("_quantity"),
                pl.lit(MAX_USAGE_TOTAL),
            ),
        ),
        (
            pl.col("_usage_type").is_null(),
            RejectReason.UNKNOWN_USAGE_TYPE,
            pl.format("usage type '{}' is not mapped", pl.col(f.usage_type or "_key")),
        ),
    ]


def _typed(fields: pl.DataFrame, fmt: CdrFormat) -> pl.DataFrame:
    """The fields with the working columns _key, _at, _seconds, _quantity, _usage_type."""
    missing = [c for c in fmt.referenced_columns() if c not in fields.columns]
    frame = fields.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)
    frame = frame.with_columns(_keys(frame, fmt).alias("_key"))
    f = fmt.fields
    quantity = pl.col(f.quantity).cast(pl.Int64, strict=False) if f.quantity else pl.lit(0)
    return frame.with_columns(
        _instants(fmt).alias("_at"),
        _seconds(fmt).alias("_seconds"),
        quantity.alias("_quantity"),
        _usage_types(fmt).alias("_usage_type"),
    )


def _record_columns(fmt: CdrFormat) -> list[pl.Expr]:
    f = fmt.fields
    answered = (
        pl.col(fmt.answered.column).is_in(fmt.answered.values).fill_null(False)
        if fmt.answered
        else pl.lit(True)
    )
    seconds = _whole_seconds(pl.col("_seconds"), fmt.duration_unit)
    return [
        pl.col("line_no"),
        pl.col("raw"),
        pl.col("_key").alias("record_key"),
        pl.col("_at").alias("started_at"),
        pl.when(answered).then(seconds).otherwise(0).cast(pl.Int64).alias("duration_s"),
        pl.col("_quantity").cast(pl.Int64).alias("quantity"),
        pl.col("_usage_type").alias("usage_type"),
        (pl.col(f.carrier) if f.carrier else pl.lit(fmt.carrier, pl.String)).alias("carrier"),
        pl.col(f.calling).alias("calling"),
        pl.col(f.called).alias("called"),
        (pl.col(f.toll_free) if f.toll_free else pl.lit(None, pl.String)).alias("toll_free"),
    ]


def interpret(fields: pl.DataFrame, fmt: CdrFormat) -> Parsed:
    """Typed records from split fields (line_no, raw and the format's columns as strings).

    A column the format reads but the row lacks (an optional column, a header without it)
    reads as null. An unanswered record (the format's `answered` filter) has duration 0.
    """
    reason: pl.Expr = pl.lit(None, pl.String)
    detail: pl.Expr = pl.lit(None, pl.String)
    for failed, why, says in reversed(_checks(fmt)):
        reason = pl.when(failed).then(pl.lit(str(why))).otherwise(reason)
        detail = pl.when(failed).then(says).otherwise(detail)
    judged = _typed(fields, fmt).with_columns(reason.alias("_reason"), detail.alias("_detail"))
    bad = judged.filter(pl.col("_reason").is_not_null())
    rejects = rejects_of(bad, pl.col("_reason"), pl.col("_detail"))
    records = judged.filter(pl.col("_reason").is_null()).select(_record_columns(fmt))
    return Parsed(records.cast(RECORD_SCHEMA), rejects)


def parse_cdr_lines(lines: Lines, fmt: CdrFormat) -> Parsed:
    """Steps 2 and 3 over numbered lines: typed records and every reject found on the way."""
    split = split_fields(lines.lines, fmt, lines.header, lines.body)
    typed = interpret(split.records, fmt)
    rejects = pl.concat([lines.rejects, split.rejects, typed.rejects]).sort("line_no")
    return Parsed(typed.records, rejects)


def parse_cdr_file(data: bytes, fmt: CdrFormat) -> tuple[Parsed, Lines]:
    """The whole file: its records, its rejects, and its lines (header kept for reprocessing)."""
    lines = read_lines(data, fmt)
    return parse_cdr_lines(lines, fmt), lines
