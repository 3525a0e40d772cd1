from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    """One page of a list. Pass `next_cursor` as `cursor` for the next; null: no more."""

    data: list[T]
    next_cursor: str | None = Field(description="Null on the last page")
