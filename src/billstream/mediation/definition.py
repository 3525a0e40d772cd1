"""CDR format definitions: how to read one switch's or carrier's CSV, as data.

A format is a YAML document (see docs/cdr-formats.md). This module holds its model and
parses its text; finding the files (shipped and the tenant folder) is `formats.py`'s job
in the service layer. Pure: no I/O.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from billstream.core.errors import InvalidInputError

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


def _one_or_many(value: object) -> object:
    """A single value where a list is expected is a list of that one (`started_at: start`)."""
    return [value] if isinstance(value, str) else value


Columns = Annotated[list[str], BeforeValidator(_one_or_many)]


class DurationUnit(StrEnum):
    SECONDS = "seconds"
    MILLISECONDS = "milliseconds"
    MINUTES = "minutes"


class RoutedNumber(StrEnum):
    """Which number of a record finds its holder in the number inventory."""

    CALLED = "called"
    CALLING = "calling"
    TOLL_FREE = "toll_free"


RoutedNumbers = Annotated[list[RoutedNumber], BeforeValidator(_one_or_many)]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldMap(Strict):
    """Where each field of a usage record comes from: source column names.

    `started_at` may name several columns, joined with a space before parsing (a carrier's
    separate date and time columns).
    """

    started_at: Columns = Field(min_length=1)
    duration: str | None = None
    calling: str
    called: str
    toll_free: str | None = None
    quantity: str | None = None
    usage_type: str | None = None
    carrier: str | None = None


class Answered(Strict):
    """A record whose `column` holds none of `values` was not answered: duration 0."""

    column: str
    values: Columns = Field(min_length=1)


class RecordKey(Strict):
    """The record's key, from the first source a row has:

    1. `columns`: several columns that together identify the record (a switch's channel id
       and its leg's sequence), their values joined with `#`, when none of them is empty;
    2. `column`: a call id column, when it is not empty;
    3. the sha256 of `hash_of` (the named columns, joined).
    """

    columns: Columns = Field(default_factory=list)
    column: str | None = None
    hash_of: Columns = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> RecordKey:
        if self.column is None and not self.columns and not self.hash_of:
            raise ValueError("record_key needs columns, a column, hash_of columns, or several")
        if len(self.columns) == 1:
            raise ValueError(
                f"record_key.columns names one column ({self.columns[0]}): "
                "use record_key.column for a single column"
            )
        for field, names in (("columns", self.columns), ("hash_of", self.hash_of)):
            twice = sorted({c for c in names if names.count(c) > 1})
            if twice:
                raise ValueError(f"record_key.{field} names {', '.join(twice)} more than once")
        return self


class CdrFormat(Strict):
    """One CDR format. See docs/cdr-formats.md for every field."""

    name: Name
    description: str = ""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header: bool = False
    columns: Columns = Field(
        default_factory=list,
        description="Without a header: the columns in order. With one: the columns required.",
    )
    optional_columns: Columns = Field(
        default_factory=list,
        description="Without a header: further columns a file may carry, in order, detected by "
        "the row's column count.",
    )
    layouts: list[list[str]] = Field(
        default_factory=list,
        description="Without a header: further sets of trailing columns a row may carry after "
        "`columns`, each chosen by the row's column count (for switches whose optional columns "
        "are not switched on in order).",
    )
    fields: FieldMap
    timestamp_formats: Columns = Field(default=["%Y-%m-%d %H:%M:%S"], min_length=1)
    timezone: str = "UTC"
    duration_unit: DurationUnit = DurationUnit.SECONDS
    answered: Answered | None = None
    record_key: RecordKey
    route_by: RoutedNumbers = Field(default=[RoutedNumber.CALLED], min_length=1)
    default_region: str | None = Field(default=None, min_length=2, max_length=2)
    usage_type: str = "voice"
    usage_types: dict[str, str] = Field(
        default_factory=dict, description="Values of fields.usage_type mapped to usage types."
    )
    carrier: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CdrFormat:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        if not self.header and not self.columns:
            raise ValueError("a format without a header row must list its columns")
        known = set(self.columns) | set(self.optional_columns)
        known |= {name for layout in self.layouts for name in layout}
        if not self.header:
            self.column_counts()  # refuses two layouts of one width
        if not self.header:
            key = self.record_key
            for where, names in (
                ("record_key.columns", key.columns),
                ("record_key.column", [key.column] if key.column else []),
                ("record_key.hash_of", key.hash_of),
                ("fields", self.referenced_columns()),
            ):
                unknown = sorted(set(names) - known)
                if unknown:
                    raise ValueError(f"{where} name columns the format does not list: {unknown}")
        if RoutedNumber.TOLL_FREE in self.route_by and self.fields.toll_free is None:
            raise ValueError("route_by toll_free needs fields.toll_free")
        return self

    def referenced_columns(self) -> list[str]:
        """Every source column the format reads."""
        f = self.fields
        named = [*f.started_at, f.duration, f.calling, f.called, f.toll_free, f.quantity]
        key = self.record_key
        named += [f.usage_type, f.carrier, *key.columns, key.column, *key.hash_of]
        if self.answered is not None:
            named.append(self.answered.column)
        return list(dict.fromkeys(c for c in named if c is not None))

    def column_counts(self) -> dict[int, list[str]]:
        """Headerless formats: the column names a row of each allowed width carries."""
        widths = {len(self.columns): list(self.columns)}
        for i in range(1, len(self.optional_columns) + 1):
            names = [*self.columns, *self.optional_columns[:i]]
            widths[len(names)] = names
        for layout in self.layouts:
            names = [*self.columns, *layout]
            if len(names) in widths:
                raise ValueError(
                    f"layouts: two column sets of {len(names)} columns; a row's width must name one"
                )
            if len(set(names)) != len(names):
                raise ValueError(f"layouts: {layout} repeats a column")
            widths[len(names)] = names
        return widths

    def with_timezone(self, timezone: str | None) -> CdrFormat:
        """This format reading local times in `timezone` (None: the format's own)."""
        if timezone is None:
            return self
        try:
            return CdrFormat.model_validate({**self.model_dump(), "timezone": timezone})
        except ValidationError:
            raise InvalidInputError(f"unknown time zone {timezone!r}", field="timezone") from None


def parse_format(text: str, *, source: str = "format") -> CdrFormat:
    """A format from its YAML text; a malformed one is refused naming the field."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"not valid YAML: {exc}", field=source) from None
    if not isinstance(document, dict):
        raise InvalidInputError("a format is a YAML mapping", field=source)
    try:
        return CdrFormat.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        reason = first["msg"]
        if first["type"] == "list_type":
            reason = f"expected one name or a list of them, got {first['input']!r}"
        raise InvalidInputError(reason, field=f"{source}: {where}" if where else source) from None
