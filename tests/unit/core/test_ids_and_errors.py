"""Ids carry a type prefix; errors carry code, field and HTTP status."""

from __future__ import annotations

import re

import pytest

from billstream.core.errors import (
    BillstreamError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from billstream.core.ids import ID_LENGTH, new_id


def test_new_ids_have_the_prefix_and_128_bits() -> None:
    ids = {new_id("acc") for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"acc_[0-9a-f]{32}", i) and len(i) == ID_LENGTH for i in ids)


def test_ids_made_later_sort_later() -> None:
    """A process's ids count up (48 bits) ahead of 80 random bits."""
    ids = [new_id("inv") for _ in range(50)]
    assert ids == sorted(ids)
    assert len({i[16:] for i in ids}) == 50
    assert int(ids[-1][4:16], 16) - int(ids[0][4:16], 16) == 49


@pytest.mark.parametrize("prefix", ["", "ACC", "acct", "a1", "a_"])
def test_a_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="1-3 lowercase letters"):
        new_id(prefix)


def test_errors_carry_status_code_and_field() -> None:
    error = ConflictError("slug taken", code="tenant_slug_taken", field="slug")
    assert (error.status, error.code, error.field, str(error)) == (
        409,
        "tenant_slug_taken",
        "slug",
        "slug: slug taken",
    )
    assert (InvalidInputError("x").status, InvalidInputError("x").code) == (422, "invalid_input")
    assert (NotFoundError("gone").code, str(NotFoundError("gone"))) == ("not_found", "gone")
    assert isinstance(NotFoundError("gone"), BillstreamError)
