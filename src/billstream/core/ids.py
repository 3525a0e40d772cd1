"""Identifiers: a short type prefix and 128 random bits, e.g. ``acc_3f2a…``.

The prefix tells a reader (and a support engineer reading a log) what an id points at.
Ids are random, not time-ordered, so generating one needs no clock.
"""

from __future__ import annotations

import re
import secrets

ID_LENGTH = 36  # prefix (<= 3) + "_" + 32 hex digits
_ID = re.compile(r"[a-z]{1,3}_[0-9a-f]{32}")


def new_id(prefix: str) -> str:
    if not (prefix.isalpha() and prefix.islower() and 1 <= len(prefix) <= 3):
        raise ValueError(f"id prefix must be 1-3 lowercase letters, got {prefix!r}")
    return f"{prefix}_{secrets.token_hex(16)}"


def is_id(value: str) -> bool:
    """True if `value` has the shape `new_id` gives (``acc_`` and 32 hex digits)."""
    return _ID.fullmatch(value) is not None
