"""Per-rate windows cut into slices: the docstring examples."""

from __future__ import annotations
