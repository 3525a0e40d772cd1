"""Which invoiced periods a bill run need not prorate again (`due.Invoiced.settled`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from billstream.billing.service.due import Invoiced
from billstream.subscriptions.timeline import Change, ChangeKind

JAN, FEB = ("numbers", date(2026, 1, 1)), ("numbers", date(2026, 2, 1))


def change(seq: int, effective: date) -> Change:
    return Change(
        id=f"sch_{seq}",
        seq=seq,
        kind=ChangeKind.QUANTITY if seq > 1 else ChangeKind.CREATE,
        effective=effective,
        recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        quantity=Decimal(seq),
    )


def invoiced(seen: dict[tuple[str, date], tuple[date, int | None]]) -> Invoiced:
    out = Invoiced()
    out.seen["sub"] = seen
    return out


def test_a_period_is_settled_when_no_later_change_takes_effect_in_it() -> None:
    marks = invoiced({JAN: (date(2026, 2, 1), 1), FEB: (date(2026, 3, 1), 1)})
    # a change recorded after both were billed, effective Feb 10: only January is settled
    changes = [change(1, date(2026, 1, 1)), change(2, date(2026, 2, 10))]
    assert marks.settled("sub", changes) == {JAN}
    # effective Mar 1, on the end of February (exclusive): both are
    changes = [change(1, date(2026, 1, 1)), change(2, date(2026, 3, 1))]
    assert marks.settled("sub", changes) == {JAN, FEB}
    # backdated to Jan 31: neither
    changes = [change(1, date(2026, 1, 1)), change(2, date(2026, 1, 31))]
    assert marks.settled("sub", changes) == set()


def test_changes_already_known_and_lines_from_before_the_mark_settle_nothing_new() -> None:
    changes = [change(1, date(2026, 1, 1)), change(2, date(2026, 1, 16))]
    # both changes were known when January was computed: settled
    assert invoiced({JAN: (date(2026, 2, 1), 2)}).settled("sub", changes) == {JAN}
    # lines written before the mark was recorded: computed again
    assert invoiced({JAN: (date(2026, 2, 1), None)}).settled("sub", changes) == set()
    # a subscription never invoiced has nothing settled
    assert invoiced({}).settled("other", changes) == set()
