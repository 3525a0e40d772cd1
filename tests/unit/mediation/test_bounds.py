"""A duration or quantity too large for billstream is one reject with its reason; the rest
of the file is read (issue 17: a 23-digit billed_seconds broke the int64 cast of the whole
file)."""

from __future__ import annotations

from billstream.mediation.parsing import parse_cdr_file
from billstream.mediation.service.formats import find_format
from tests.unit.mediation.samples import CALLER, GENERIC_HEADER, NY, generic_row, lines

GENERIC = find_format("generic-carrier-csv", None)
AT = "2026-01-15T10:00:00Z"


def test_a_23_digit_billed_seconds_is_one_reject_and_the_rest_is_read() -> None:
    # given a file with a good call, 23 digits of seconds, the longest call, one second more
    data = lines(
        GENERIC_HEADER,
        generic_row("c1", AT, CALLER, NY, "61", "voice"),
        generic_row("c2", AT, CALLER, NY, "1" * 23, "voice"),
        generic_row("c3", AT, CALLER, NY, "1000000", "voice"),
        generic_row("c4", AT, CALLER, NY, "1000001", "voice"),
        generic_row("c5", AT, CALLER, NY, "1e308", "voice"),
    )

    # when it is parsed
    parsed, _ = parse_cdr_file(data, GENERIC)

    # then the three too long are rejects saying why; the others are records
    rejects = parsed.rejects.select("line_no", "reason", "detail").rows()
    assert [(n, r) for n, r, _ in rejects] == [
        (3, "bad_duration"),
        (5, "bad_duration"),
        (6, "bad_duration"),
    ]
    assert rejects[0][2] == (
        f"duration {'1' * 23} is longer than the longest billstream accepts (1000000 seconds)"
    )
    assert parsed.records.select("record_key", "duration_s").rows() == [
        ("c1", 61),
        ("c3", 1_000_000),
    ]
