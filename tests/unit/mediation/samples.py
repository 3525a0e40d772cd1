"""Small realistic CDR files of each shipped format, built row by row."""

from __future__ import annotations

NY = "2125551234"  # a New York number the tests' tenant holds
TOLL_FREE = "8005550199"
CALLER = "4155550123"


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def asterisk_row(
    src: str,
    dst: str,
    start: str,
    billsec: int,
    *,
    disposition: str = "ANSWERED",
    uniqueid: str | None = None,
    userfield: str | None = None,
    newer: tuple[str, str, int] | None = None,
    dstchannel: str = "SIP/trunk-00000002",
) -> str:
    """A Master.csv line: 16 columns, 17 with uniqueid, 18 with userfield too; newer versions
    add (peeraccount, linkedid, sequence) after those: 19, 20 or 21 columns."""
    answer = "" if disposition != "ANSWERED" else start
    strings = ["", src, dst, "from-internal", f'"Alice" <{src}>', "SIP/100-00000001"]
    strings += [dstchannel, "Dial", f"SIP/trunk/{dst},30", start, answer, start]
    cells = [_quoted(s) for s in strings]
    cells += [str(billsec + 5), str(billsec), _quoted(disposition), _quoted("DOCUMENTATION")]
    if uniqueid is not None:
        cells.append(_quoted(uniqueid))
        if userfield is not None:
            cells.append(_quoted(userfield))
    if newer is not None:
        peeraccount, linkedid, sequence = newer
        cells += [_quoted(peeraccount), _quoted(linkedid), str(sequence)]
    return ",".join(cells)


def freeswitch_row(
    caller: str,
    destination: str,
    start: str,
    billsec: int,
    *,
    uuid: str,
    cause: str = "NORMAL_CLEARING",
    codecs: bool = True,
) -> str:
    """A mod_cdr_csv line: the example template (15 columns) or the built-in default (13)."""
    answer = start if billsec > 0 else ""
    strings = ["Alice", caller, destination, "default", start, answer, start]
    cells = [_quoted(s) for s in strings]
    cells += [_quoted(str(billsec + 3)), _quoted(str(billsec)), _quoted(cause), _quoted(uuid)]
    cells += [_quoted(""), _quoted("acct-1")]
    if codecs:
        cells += [_quoted("PCMU"), _quoted("PCMU")]
    return ",".join(cells)


GENERIC_HEADER = "call_id,start_time,from_number,to_number,billed_seconds,usage_type"


def generic_row(call_id: str, start: str, src: str, dst: str, seconds: str, kind: str = "") -> str:
    return ",".join([call_id, start, src, dst, seconds, kind])


def lines(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()
