"""`column IN (a long list)`, sent as one parameter on PostgreSQL.

A bill run asks for the rows of thousands of ids at once. As ``IN ($1, …, $2000)`` every
id is a bind parameter: SQLAlchemy expands the list into the SQL text and the driver
rewrites a new, uncacheable statement of that size each time. ``= ANY(…)`` of one parameter
is one short statement and the same index scan. The parameter is the ids joined into one
text, split by the server (``string_to_array``, folded into a constant array when the
statement is planned), because the driver adapts a list parameter element by element in
Python, which costs more than the query it sends (docs/performance.md). SQLite has no
arrays: there it stays an ``IN`` list (SQLite's parameter limit is 32,766, and callers chunk
their lists well below it).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, String, any_, bindparam, func, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

__all__ = ["among"]

SEPARATOR = "\x1f"  # ASCII unit separator: in no id


def among(session: Session, column: Any, values: Collection[str]) -> ColumnElement[bool]:
    """A condition: `column` (a string column) is one of `values`."""
    if session.get_bind().dialect.name == "postgresql":
        joined = SEPARATOR.join(values)
        # unless a value holds the separator, or is the one empty value (split to none)
        if joined.count(SEPARATOR) == max(len(values) - 1, 0) and (joined or not values):
            array: Any = func.string_to_array(bindparam(None, joined), literal(SEPARATOR))
        else:
            array = bindparam(None, list(values), type_=ARRAY(String))
        condition: ColumnElement[bool] = column == any_(array)
        return condition
    return column.in_(list(values))  # type: ignore[no-any-return]
