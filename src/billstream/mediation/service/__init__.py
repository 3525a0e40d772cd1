"""Mediation use cases: ingest files and events, list and reprocess rejects, read usage."""

from billstream.mediation.service.formats import EVENTS_FORMAT, find_format, format_names
from billstream.mediation.service.ingest import (
    FileReport,
    ingest_cdr_file,
    ingest_usage_events,
)
from billstream.mediation.service.rejects import ReprocessReport, list_rejects, reprocess_rejects
from billstream.mediation.service.usage import (
    ACCEPTED_USAGE_SCHEMA,
    accepted_usage,
    accepted_usage_batches,
    file_names,
    get_file,
    list_files,
)

__all__ = [
    "ACCEPTED_USAGE_SCHEMA",
    "EVENTS_FORMAT",
    "FileReport",
    "ReprocessReport",
    "accepted_usage",
    "accepted_usage_batches",
    "file_names",
    "find_format",
    "format_names",
    "get_file",
    "ingest_cdr_file",
    "ingest_usage_events",
    "list_files",
    "list_rejects",
    "reprocess_rejects",
]
