"""Python's cycle collector, tuned for the length of a batch job.

A chunk of a bill run makes millions of short-lived objects (rows, value objects, ORM
state) that die by reference counting, not by the cycle collector. With the default
thresholds (a young collection every 700 net allocations) the collector still runs
thousands of times a chunk and rescans the long-lived objects (modules, mappers, the
engine) at each full collection: CPU spent for no memory back.

`fewer_collections` freezes what is alive when the job starts (the collector never scans it
again) and collects the young generation every 100,000 allocations instead of 700, then
puts both back: less CPU for a little more peak memory (the figures are in
docs/performance.md). Cycles are still collected, only less often.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 100_000  # net allocations between two collections of the young generation
MIDDLE = 50  # young collections between two of the middle generation
OLD = 1_000  # middle collections between two full ones


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cycles rarely while the block runs, and restore the thresholds after."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
