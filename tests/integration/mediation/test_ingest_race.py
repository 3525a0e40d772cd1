"""Two imports racing with the same new records: the later one counts them as duplicates.

The race (both look the keys up, neither finds them, both insert) is simulated by hiding the
stored keys from the first look-up of the second import, on both databases; on PostgreSQL the
real race ends the same way, since the later insert waits for the earlier commit and clashes.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from sqlalchemy.orm import Session

from billstream.core.clock import FakeClock
from billstream.core.errors import ConflictError
from billstream.mediation.service import admission
from tests.integration.mediation.test_ingest import Provider, counts, ingest, stored
from tests.integration.mediation.test_ingest import provider as provider  # the fixture
from tests.unit.mediation.samples import CALLER, NY, asterisk_row, lines


def _blind_first_lookup(monkeypatch: pytest.MonkeyPatch, *, times: int = 1) -> None:
    """The next `times` look-ups of stored keys find nothing: the other import's insert
    landed after them."""
    real = admission.stored_keys
    calls = {"n": 0}

    def looked_up(session: Session, routed: pl.DataFrame) -> pl.DataFrame:
        calls["n"] += 1
        if calls["n"] <= times:
            return pl.DataFrame(schema=admission.KEY_SCHEMA)
        return real(session, routed)

    monkeypatch.setattr(admission, "stored_keys", looked_up)


def _rows(*keys: str) -> Any:
    return (asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid=key) for key in keys)


def test_records_stored_by_a_racing_import_count_as_duplicates(
    session: Session, clock: FakeClock, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a first import storing u1 and u2
    first = ingest(session, clock, provider, lines(*_rows("u1", "u2")), name="a.csv")
    assert counts(first) == (2, 2, 0, 0)

    # when a second import of u1, u2, u3 looked its keys up before the first one's insert
    _blind_first_lookup(monkeypatch)
    second = ingest(session, clock, provider, lines(*_rows("u1", "u2", "u3")), name="b.csv")

    # then no error: u1 and u2 are duplicates, u3 is stored, and in = accepted + duplicates
    assert counts(second) == (3, 1, 0, 2)
    assert stored(session) == 3


def test_a_second_clash_is_a_conflict_to_retry(
    session: Session, clock: FakeClock, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(session, clock, provider, lines(*_rows("u1")), name="a.csv")
    # the keys stay hidden on the second look-up too: the retry clashes again
    _blind_first_lookup(monkeypatch, times=2)
    with pytest.raises(ConflictError) as raised:
        ingest(session, clock, provider, lines(*_rows("u1", "u2")), name="b.csv")
    assert raised.value.code == "usage_import_conflict"
    assert raised.value.status == 409


def test_store_new_records_keeps_the_transaction_usable(
    session: Session, clock: FakeClock, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(session, clock, provider, lines(*_rows("u1")), name="a.csv")
    _blind_first_lookup(monkeypatch)
    ingest(session, clock, provider, lines(*_rows("u1", "u2")), name="b.csv")
    # after the savepoint's rollback the session goes on: a third import works normally
    third = ingest(session, clock, provider, lines(*_rows("u2", "u3")), name="c.csv")
    assert counts(third) == (2, 1, 0, 1)
