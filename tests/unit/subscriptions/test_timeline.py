"""The timeline: changes replayed into phases, then into ChargeStates per charge."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billstream.core.periods import Cadence
from billstream.subscriptions.lifecycle import ChangeKind
from billstream.subscriptions.lifecycle import SubscriptionStatus as S
from billstream.subscriptions.timeline import (
    Change,
    InvalidTransitionError,
    Stream,
    replay,
    status_on,
    stream_states,
)
from tests.unit.subscriptions.fakes import FakeBook, charge, per_unit, plan

RECORDED = datetime(2026, 1, 1, tzinfo=UTC)
JAN_1 = date(2026, 1, 1)


def change(
    seq: int,
    kind: ChangeKind,
    day: date,
    *,
    quantity: str | None = None,
    plan_id: str | None = None,
) -> Change:
    return Change(
        id=f"sch_{seq}",
        seq=seq,
        kind=kind,
        effective=day,
        recorded_at=RECORDED,
        quantity=Decimal(quantity) if quantity is not None else None,
        plan_id=plan_id,
    )


def create(day: date = JAN_1, quantity: str = "50", plan_id: str = "basic") -> Change:
    return change(1, ChangeKind.CREATE, day, quantity=quantity, plan_id=plan_id)


def test_the_lifecycle_runs_pending_trial_active_suspended_active_cancelled() -> None:
    # given a 14-day trial from Jan 1, suspended Feb 1, resumed Feb 10, cancelled Mar 1
    changes = [
        create(),
        change(2, ChangeKind.SUSPEND, date(2026, 2, 1)),
        change(3, ChangeKind.RESUME, date(2026, 2, 10)),
        change(4, ChangeKind.CANCEL, date(2026, 3, 1)),
    ]
    # when replayed
    phases = replay(changes, trial_end=date(2026, 1, 15))
    # then each day has its status
    assert [(p.effective, p.status) for p in phases] == [
        (JAN_1, S.TRIAL),
        (date(2026, 1, 15), S.ACTIVE),
        (date(2026, 2, 1), S.SUSPENDED),
        (date(2026, 2, 10), S.ACTIVE),
        (date(2026, 3, 1), S.CANCELLED),
    ]
    assert status_on(phases, date(2025, 12, 31)) == S.PENDING
    assert status_on(phases, date(2026, 1, 14)) == S.TRIAL
    assert status_on(phases, date(2026, 2, 9)) == S.SUSPENDED


def test_resuming_within_the_trial_returns_to_the_trial() -> None:
    changes = [
        create(),
        change(2, ChangeKind.SUSPEND, date(2026, 1, 5)),
        change(3, ChangeKind.RESUME, date(2026, 1, 8)),
    ]
    phases = replay(changes, trial_end=date(2026, 1, 15))
    assert [p.status for p in phases] == [S.TRIAL, S.SUSPENDED, S.TRIAL, S.ACTIVE]


FEB_1 = date(2026, 2, 1)
REFUSED = [
    (
        [create(), change(2, ChangeKind.RESUME, JAN_1)],
        "cannot resume a subscription that is active on 2026-01-01",
    ),
    (
        [
            create(),
            change(2, ChangeKind.CANCEL, JAN_1),
            change(3, ChangeKind.QUANTITY, FEB_1, quantity="2"),
        ],
        "cannot quantity a subscription that is cancelled on 2026-02-01",
    ),
    (
        [
            create(),
            change(2, ChangeKind.SUSPEND, JAN_1),
            change(3, ChangeKind.SUSPEND, FEB_1),
        ],
        "cannot suspend a subscription that is suspended on 2026-02-01",
    ),
    (
        [change(1, ChangeKind.CANCEL, JAN_1)],
        "cannot cancel a subscription that has not started",
    ),
]


@pytest.mark.parametrize(("changes", "message"), REFUSED)
def test_a_change_that_does_not_fit_the_status_on_its_date_is_refused(
    changes: list[Change], message: str
) -> None:
    with pytest.raises(InvalidTransitionError, match=message):
        replay(changes, trial_end=None)


def test_a_change_inserted_before_a_scheduled_one_is_checked_against_it() -> None:
    # given a resume scheduled for Feb 10 after a suspension on Feb 1
    changes = [
        create(),
        change(2, ChangeKind.SUSPEND, date(2026, 2, 1)),
        change(3, ChangeKind.RESUME, date(2026, 2, 10)),
    ]
    # when a cancellation from Feb 5 is added, the scheduled resume no longer fits
    with pytest.raises(InvalidTransitionError, match="cannot resume"):
        replay([*changes, change(4, ChangeKind.CANCEL, date(2026, 2, 5))], trial_end=None)


def test_the_last_change_recorded_on_a_day_sets_the_day() -> None:
    changes = [
        create(),
        change(2, ChangeKind.QUANTITY, date(2026, 1, 16), quantity="60"),
        change(3, ChangeKind.QUANTITY, date(2026, 1, 16), quantity="70"),
    ]
    phases = replay(changes, trial_end=None)
    assert [(p.effective, p.quantity, p.source) for p in phases] == [
        (JAN_1, Decimal(50), "sch_1"),
        (date(2026, 1, 16), Decimal(70), "sch_3"),
    ]


def states(
    book: FakeBook, changes: list[Change], until: date, **kw: object
) -> list[tuple[date, str, str, str]]:
    phases = replay(changes, trial_end=kw.get("trial_end"))  # type: ignore[arg-type]
    stream = Stream("numbers", "advance", Cadence.MONTHLY)
    return [
        (p.state.effective, str(p.state.quantity), str(p.state.unit_price), p.state.source)
        for p in stream_states(phases, stream, book, anchor=JAN_1, until=until)
    ]


def test_charge_states_follow_quantity_plan_and_price_versions() -> None:
    # given basic at $5 (a new version at $6 from Mar 1) and premium at $8
    book = FakeBook({"basic": plan("basic"), "premium": plan("premium")})
    book.price("basic", "numbers", per_unit("5.00"))
    book.price("basic", "numbers", per_unit("6.00"), since=date(2026, 3, 1))
    book.price("premium", "numbers", per_unit("8.00"))
    changes = [
        create(),
        change(2, ChangeKind.QUANTITY, date(2026, 1, 16), quantity="60"),
        change(3, ChangeKind.SUSPEND, date(2026, 2, 10)),
        change(4, ChangeKind.RESUME, date(2026, 2, 20)),
        change(5, ChangeKind.PLAN, date(2026, 4, 10), plan_id="premium"),
    ]
    # when the states to the end of April are built
    got = states(book, changes, date(2026, 4, 30))
    # then each change, and the Mar 1 price version, opens a state
    assert got == [
        (JAN_1, "50", "5.00", "sch_1"),
        (date(2026, 1, 16), "60", "5.00", "sch_2"),
        (date(2026, 2, 10), "0", "5.00", "sch_3"),
        (date(2026, 2, 20), "60", "5.00", "sch_4"),
        (date(2026, 3, 1), "60", "6.00", "prc_basic_numbers_2026-03-01"),
        (date(2026, 4, 10), "60", "8.00", "sch_5"),
    ]


def test_nothing_is_charged_in_the_trial() -> None:
    book = FakeBook({"basic": plan("basic")}).price("basic", "numbers", per_unit("5.00"))
    got = states(book, [create()], date(2026, 1, 31), trial_end=date(2026, 1, 15))
    assert got == [(JAN_1, "0", "5.00", "sch_1"), (date(2026, 1, 15), "50", "5.00", "sch_1")]


def test_a_plan_without_the_charge_stops_it() -> None:
    # given a move to a plan whose charge has another code
    book = FakeBook({"basic": plan("basic"), "lines": plan("lines", charge("lines"))})
    book.price("basic", "numbers", per_unit("5.00")).price("lines", "lines", per_unit("9.00"))
    changes = [create(), change(2, ChangeKind.PLAN, date(2026, 1, 20), plan_id="lines")]
    # then the numbers charge drops to nothing from Jan 20
    assert states(book, changes, date(2026, 1, 31)) == [
        (JAN_1, "50", "5.00", "sch_1"),
        (date(2026, 1, 20), "0", "0", "sch_2"),
    ]


quantities = st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=6)
days = st.lists(st.integers(min_value=0, max_value=89), min_size=6, max_size=6)


@given(quantities, days, st.randoms())
def test_a_timeline_replayed_in_any_recording_order_gives_the_same_phases(
    counts: list[int], offsets: list[int], shuffler: object
) -> None:
    # given quantity changes on distinct days, recorded in some order
    unique = sorted(set(offsets))[: len(counts)]
    changes = [create()] + [
        change(i + 2, ChangeKind.QUANTITY, date.fromordinal(JAN_1.toordinal() + d), quantity=str(q))
        for i, (q, d) in enumerate(zip(counts, unique, strict=False))
    ]
    shuffled = list(changes)
    shuffler.shuffle(shuffled)  # type: ignore[attr-defined]
    # then the phases depend only on the effective dates
    assert replay(shuffled, trial_end=None) == replay(changes, trial_end=None)
