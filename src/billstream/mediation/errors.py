"""Mediation's error codes and the reasons a usage record is rejected."""

from enum import StrEnum


class MediationErrorCode(StrEnum):
    UNKNOWN_FORMAT = "usage_unknown_format"
    BAD_HEADER = "usage_bad_header"
    TOO_MANY_EVENTS = "usage_too_many_events"
    IMPORT_CONFLICT = "usage_import_conflict"


class RejectReason(StrEnum):
    """Why a record was not accepted. Part of the API contract (docs/cdr-formats.md)."""

    EMPTY_FILE = "empty_file"
    INVALID_ENCODING = "invalid_encoding"
    MALFORMED_ROW = "malformed_row"
    WRONG_COLUMN_COUNT = "wrong_column_count"
    TRUNCATED_LINE = "truncated_line"
    MISSING_KEY = "missing_key"
    BAD_KEY = "bad_key"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_DURATION = "bad_duration"
    NEGATIVE_DURATION = "negative_duration"
    BAD_QUANTITY = "bad_quantity"
    UNKNOWN_USAGE_TYPE = "unknown_usage_type"
    BAD_NUMBER = "bad_number"
    UNKNOWN_NUMBER = "unknown_number"


# What a change of configuration cannot fix: reprocessing leaves these open as they are.
FINAL_REASONS = frozenset({RejectReason.EMPTY_FILE, RejectReason.INVALID_ENCODING})


class RejectStatus(StrEnum):
    OPEN = "open"
    REPROCESSED = "reprocessed"
