"""Per-rate windows cut into slices: the docstring examples."""

from __future__ import annotations

import doctest

from billstream.rating import windows


def test_the_docstring_examples_run() -> None:
    assert doctest.testmod(windows).failed == 0
