"""The base of every input shape: text is checked as sent, then trimmed.

A text's `minLength`, `maxLength` and `pattern` in the OpenAPI document hold for the value
as it is sent, so a client (or a fuzzer) reading the document knows what is refused: a
201-character name is refused though its first character is a tab. What passes is stored
without its leading and trailing whitespace, and a text that must not be empty must not be
only whitespace either.

Dates and instants are ISO 8601 text (`billstream.core.iso8601`); an `Instant` carries its
offset and is kept in UTC.

A JSON body says what it means: a boolean is `true` or `false` (not `0` or `"yes"`), a whole
number is a number (not `"5"`), as the document's `type` says. Values read as text (a CSV
file's cells) are validated with the context `FROM_TEXT`, where `"30"` and `"true"` are read.

A field of a partial change (`PATCH`) that cannot be null is `unchanged_unless_sent`: left
out, it keeps its value; the document shows it optional and not nullable.
"""

from __future__ import annotations

import types
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import MinLen
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from billstream.core.iso8601 import refuse_timestamp
from billstream.core.limits import OutOfBoundsError, ensure_utc


def _aware(value: datetime) -> datetime:
    try:
        return ensure_utc(value)
    except OutOfBoundsError:
        raise
    except ValueError:
        raise ValueError("give a time zone offset, e.g. 2026-01-01T00:00:00Z") from None


Instant = Annotated[datetime, BeforeValidator(refuse_timestamp), AfterValidator(_aware)]
"""An instant as input: ISO 8601 text with its offset, within billstream's dates; in UTC."""


FROM_TEXT = {"from_text": True}
"""The validation context of values read as text, such as a CSV file's cells."""


def _json_type(annotation: Any) -> type | None:
    """`bool` or `int` if the field holds that (or null), else None: no check of its own."""
    kinds = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else ()
    kinds = tuple(k for k in kinds if k is not type(None)) or (annotation,)
    return kinds[0] if len(kinds) == 1 and kinds[0] in (bool, int) else None


def _typed_as_documented(value: Any, expected: type | None) -> None:
    if value is None or expected is None:
        return
    if expected is bool and not isinstance(value, bool):
        raise ValueError("give true or false")
    if expected is int and isinstance(value, str | bool):
        raise ValueError("give a whole number")


def _trimmed(value: Any) -> Any:
    """`value` with every text in it trimmed (inside lists and mappings too)."""
    if type(value) is str:
        return value.strip()
    if isinstance(value, list):
        return [_trimmed(item) for item in value]
    if isinstance(value, dict):
        return {key: _trimmed(item) for key, item in value.items()}
    return value


class Input(BaseModel):
    """An input shape: unknown fields are refused; texts are checked, then trimmed."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _json_types(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is not None and not (info.context or {}).get("from_text"):
            _typed_as_documented(value, _json_type(cls.model_fields[info.field_name].annotation))
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _trim_text(cls, value: Any, info: ValidationInfo) -> Any:
        trimmed = _trimmed(value)
        if trimmed == "" and value != "" and info.field_name is not None:
            field = cls.model_fields[info.field_name]
            if any(isinstance(m, MinLen) and m.min_length > 0 for m in field.metadata):
                raise ValueError("must not be blank")
        return trimmed


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def unchanged_unless_sent(*, description: str | None = None, **constraints: Any) -> Any:
    """Dates and instants are ISO 8601 text (`billstream.core.iso8601`); an `Instant` carries its
        offset and is kept in UTC.

        A JSON body says what it means: a boolean is `true` or `false` (not `0` or `"yes"`), a whole
    number is a number (not `"5"`), as the document's `type` says. Values read as text (a CSV
    file's cells) are validated with the context `FROM_TEXT`, where `"30"` and `"true"` are read.

    A field of a partial change that may be left out (unchanged) but not set to null.

            The model's annotation names the type without `None`; the default `None` only marks the
            field as not sent, which `model_dump(exclude_unset=True)` leaves out.
    """
    text = "Left out: unchanged; never null"
    return Field(
        default=None,
        description=f"{description}. {text}" if description else text,
        json_schema_extra=_without_default,
        **constraints,
    )
