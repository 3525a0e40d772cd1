"""Identifiers: a short type prefix and 128 bits, e.g. ``acc_0193f1c2a5e4…``.

The prefix tells a reader (and a support engineer reading a log) what an id points at.
The 128 bits are laid out as a UUIDv7's are: 48 bits of the milliseconds since the epoch,
then 80 random bits. Ids made later sort later, so the B-tree indexes of every table grow
at their right edge instead of at random pages: a bill run's million invoice lines, billed
in account order, land next to each other. Measured on 1.4M lines with PostgreSQL's default
128 MB of shared buffers, random keys made the indexes cost several times the table itself.
The timestamp is the machine's (`time.time_ns`), not the business `Clock`: it only orders
ids, it never says when something happened (that is what the `*_at` columns are for).
"""

from __future__ import annotations

import re
import secrets
import time

ID_LENGTH = 36  # prefix (<= 3) + "_" + 32 hex digits
_ID = re.compile(r"[a-z]{1,3}_[0-9a-f]{32}")


def new_id(prefix: str) -> str:
    if not (prefix.isalpha() and prefix.islower() and 1 <= len(prefix) <= 3):
        raise ValueError(f"id prefix must be 1-3 lowercase letters, got {prefix!r}")
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{millis & 0xFFFF_FFFF_FFFF:012x}{secrets.token_hex(10)}"


def is_id(value: str) -> bool:
    """True if `value` has the shape `new_id` gives (``acc_`` and 32 hex digits)."""
    return _ID.fullmatch(value) is not None
