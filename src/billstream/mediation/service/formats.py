"""Where formats come from: the ones shipped with billstream, then a tenant folder.

The folder is ``BILLSTREAM_FORMATS_DIR`` (default ``<data_dir>/formats``): one YAML file per
format, named ``<name>.yaml``. A file there with a shipped name replaces the shipped one.
"""

from __future__ import annotations

from pathlib import Path

from billstream.core.errors import NotFoundError
from billstream.mediation.definition import (
    CdrFormat,
    FieldMap,
    RecordKey,
    RoutedNumber,
    parse_format,
)
from billstream.mediation.errors import MediationErrorCode

SHIPPED = Path(__file__).resolve().parent.parent / "formats"

# Usage events of the REST API, read by the same steps as a file (a row per event).
EVENTS_FORMAT = CdrFormat(
    name="usage-events",
    description="Usage events posted to /v1/usage/events",
    header=True,
    fields=FieldMap(
        started_at=["started_at"],
        duration="duration_s",
        calling="calling",
        called="called",
        quantity="quantity",
        usage_type="usage_type",
        carrier="carrier",
    ),
    timestamp_formats=[
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%:z",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
    ],
    record_key=RecordKey(
        column="record_key",
        hash_of=["started_at", "calling", "called", "duration_s", "quantity", "usage_type"],
    ),
    route_by=[RoutedNumber.CALLED, RoutedNumber.CALLING],
)


def _candidates(folder: Path | None) -> dict[str, Path]:
    found = {p.stem: p for p in sorted(SHIPPED.glob("*.yaml"))}
    if folder is not None and folder.is_dir():
        found |= {p.stem: p for p in sorted(folder.glob("*.yaml"))}
    return found


def format_names(folder: Path | None) -> list[str]:
    return sorted(_candidates(folder))


def find_format(name: str, folder: Path | None) -> CdrFormat:
    """The format called `name`: the folder's file if there is one, else the shipped one."""
    if name == EVENTS_FORMAT.name:
        return EVENTS_FORMAT
    path = _candidates(folder).get(name)
    if path is None:
        known = ", ".join(format_names(folder))
        raise NotFoundError(
            f"no CDR format {name!r}; known: {known}",
            code=MediationErrorCode.UNKNOWN_FORMAT,
            field="format",
        )
    fmt = parse_format(path.read_text(encoding="utf-8"), source=path.name)
    if fmt.name != name:
        raise NotFoundError(
            f"{path.name} declares the name {fmt.name!r}, not {name!r}",
            code=MediationErrorCode.UNKNOWN_FORMAT,
            field="format",
        )
    return fmt
