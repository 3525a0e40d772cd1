"""The cycle collector of a batch job: rare collections inside, the old settings after."""

from __future__ import annotations

import gc

import pytest

from billstream.jobs.collector import MIDDLE, OLD, YOUNG, fewer_collections


def test_collections_are_rare_inside_and_as_before_after() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    alive = object()  # an object of the caller's, alive when the block starts

    with fewer_collections():
        assert gc.get_threshold() == (YOUNG, MIDDLE, OLD)
        assert gc.get_freeze_count() > frozen_before
        assert alive is not None

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_settings_come_back_when_the_block_fails() -> None:
    before = gc.get_threshold()

    with pytest.raises(RuntimeError, match="chunk failed"), fewer_collections():
        raise RuntimeError("chunk failed")

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_are_still_collected_inside() -> None:
    collected = []

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: reference counting alone never frees it

        def __del__(self) -> None:
            collected.append(1)

    with fewer_collections():
        for _ in range(3 * YOUNG):
            Node()
        inside = len(collected)

    # the collector ran inside the block (rarely, not never)
    assert inside >= YOUNG
