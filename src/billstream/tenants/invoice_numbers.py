"""Invoice number formats: a small grammar, never Python's `str.format`.

A format is text with fields in braces::

    format  = { text | "{{" | "}}" | field }
    field   = "{" name [ ":" [ "0" ] width "d" ] "}"      name: prefix, year or seq
    width   = 1 to MAX_WIDTH digits of padding ("{seq:06d}": 000042)

`{prefix}` takes no width; `{seq}` must appear. Anything else (an attribute such as
``{seq.__class__}``, an index, a conversion, a width of 99999999) is refused, naming the
field `invoice_format` and the reason; `str.format` would have numbered the next invoice
``<class 'int'>`` or built a string of a hundred million spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from billstream.core.errors import InvalidInputError

__all__ = ["FIELDS", "MAX_WIDTH", "NumberFormat", "parse_invoice_format"]

FIELDS = ("prefix", "year", "seq")
MAX_WIDTH = 12  # a sequence of up to a trillion invoices a year, zero-padded
_TOKEN = re.compile(r"\{\{|\}\}|\{(?P<name>[a-z]+)(?::(?P<zero>0?)(?P<width>[0-9]+)d)?\}")
_FIELD = "invoice_format"


@dataclass(frozen=True, slots=True)
class NumberField:
    name: str
    width: int = 0
    zero: bool = False

    def render(self, value: str | int) -> str:
        text = str(value)
        return text.rjust(self.width, "0" if self.zero else " ")


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """A parsed invoice number format: literal texts and fields, in order."""

    parts: tuple[str | NumberField, ...]

    @property
    def uses_year(self) -> bool:
        return any(isinstance(p, NumberField) and p.name == "year" for p in self.parts)

    def number(self, *, prefix: str, year: int, seq: int) -> str:
        """The invoice number `seq` of `year`.

        >>> fmt = parse_invoice_format("{prefix}{year}-{seq:06d}")
        >>> fmt.number(prefix="INV-", year=2026, seq=42)
        'INV-2026-000042'
        """
        values: dict[str, str | int] = {"prefix": prefix, "year": year, "seq": seq}
        return "".join(p if isinstance(p, str) else p.render(values[p.name]) for p in self.parts)


def _refuse(reason: str) -> InvalidInputError:
    return InvalidInputError(f"the invoice format {reason}", field=_FIELD)


def _field(match: re.Match[str]) -> NumberField:
    name = match["name"]
    if name not in FIELDS:
        raise _refuse(f"may use only {{prefix}}, {{year}} and {{seq}}, not {{{name}}}")
    if match["width"] is None:
        return NumberField(name)
    if name == "prefix":
        raise _refuse("gives {prefix} no width")
    width = int(match["width"])
    if not 1 <= width <= MAX_WIDTH:
        raise _refuse(f"pads to a width of 1 to {MAX_WIDTH}, not {width}")
    return NumberField(name, width, zero=match["zero"] == "0")


def parse_invoice_format(text: str) -> NumberFormat:
    """Parse an invoice number format, or refuse it (`InvalidInputError` on invoice_format).

    >>> parse_invoice_format("{prefix}/{year}/{seq:05d}").number(prefix="A", year=2026, seq=7)
    'A/2026/00007'
    """
    parts: list[str | NumberField] = []
    at = 0
    while at < len(text):
        brace = min((i for i in (text.find("{", at), text.find("}", at)) if i >= 0), default=-1)
        if brace < 0:
            parts.append(text[at:])
            break
        if brace > at:
            parts.append(text[at:brace])
        match = _TOKEN.match(text, brace)
        if match is None:
            end = text.find("}", brace)
            bad = text[brace : end + 1] if end >= 0 else text[brace:]
            raise _refuse(
                f"has {bad!r} at {brace}; a field is {{prefix}}, {{year}} or {{seq}}, with an "
                "optional width such as {seq:06d}"
            )
        token = match.group()
        parts.append(token[0] if token in ("{{", "}}") else _field(match))
        at = match.end()
    if not any(isinstance(p, NumberField) and p.name == "seq" for p in parts):
        raise _refuse("must contain {seq}")
    return NumberFormat(tuple(parts))
