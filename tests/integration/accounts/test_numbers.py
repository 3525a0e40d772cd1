"""Number inventory on a real database: add, assign, release, and who held a number when."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from billstream.accounts import service
from billstream.accounts.models import Account, NumberAssignment, PhoneNumber
from billstream.core.clock import FakeClock
from billstream.core.errors import ConflictError, InvalidInputError, NotFoundError
from billstream.tenants.models import Tenant
from billstream.tenants.scope import TenantScope
from tests.factories import assign, context_of, make_account, make_number, make_tenant, scope_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def add(session: Session, clock: FakeClock, tenant: Tenant, numbers: list[str]) -> list[str]:
    added = service.add_numbers(
        session, clock=clock, ctx=context_of(session, tenant), numbers=numbers
    )
    return [n.e164 for n in added]


def inventory(session: Session, tenant: Tenant) -> list[str]:
    stmt = select(PhoneNumber.e164).where(PhoneNumber.tenant_id == tenant.id)
    return sorted(session.scalars(stmt))


# --- add -----------------------------------------------------------------------------------


def test_numbers_are_stored_in_e164_read_in_the_tenants_region(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock, locale="en_GB")
    added = add(session, clock, tenant, ["020 7123 4567", "+1 201-555-0123", "0800 123 4567"])
    assert added == ["+12015550123", "+442071234567", "+448001234567"]
    kinds = {n.e164: n.kind for n in session.scalars(select(PhoneNumber))}
    assert kinds["+448001234567"] == "toll_free"


def test_an_explicit_default_region_wins(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, locale="en_GB")
    added = service.add_numbers(
        session, clock=clock, ctx=context_of(session, tenant),
        numbers=["(201) 555-0123"], default_region="us",
    )  # fmt: skip
    assert [n.e164 for n in added] == ["+12015550123"]


def test_a_number_already_in_the_inventory_is_refused(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, locale="en_GB")
    add(session, clock, tenant, ["+442071234567"])
    with pytest.raises(ConflictError) as raised:
        add(session, clock, tenant, ["+442071234568", "020 7123 4567"])
    assert (raised.value.code, raised.value.field) == ("number_exists", "numbers[1]")
    assert inventory(session, tenant) == ["+442071234567"]


def test_a_number_listed_twice_is_refused(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, locale="en_GB")
    with pytest.raises(InvalidInputError) as raised:
        add(session, clock, tenant, ["+442071234567", "020 7123 4567"])
    assert raised.value.field == "numbers[1]"
    assert inventory(session, tenant) == []


def test_one_bad_number_refuses_the_lot_and_nothing_is_written(
    session: Session, clock: FakeClock
) -> None:
    tenant = make_tenant(session, clock, locale="en_GB")
    with pytest.raises(InvalidInputError) as raised:
        add(session, clock, tenant, ["+442071234567", "+442071234568", "12345"])
    assert raised.value.field == "numbers[2]"
    assert inventory(session, tenant) == []


def test_the_same_number_may_be_in_two_tenants(session: Session, clock: FakeClock) -> None:
    one = make_tenant(session, clock)
    two = make_tenant(session, clock)
    make_number(session, clock, one, "+12015550123")
    make_number(session, clock, two, "+12015550123")
    assert inventory(session, one) == inventory(session, two) == ["+12015550123"]


# --- assign and release --------------------------------------------------------------------


@pytest.fixture
def held(session: Session, clock: FakeClock) -> tuple[PhoneNumber, Account, Account]:
    """A number held by `first` for [day 10, day 20)."""
    tenant = make_tenant(session, clock)
    number = make_number(session, clock, tenant, "+12015550123")
    first = make_account(session, clock, tenant, name="First")
    second = make_account(session, clock, tenant, name="Second")
    assign(session, clock, number, first, day(10), day(20))
    return number, first, second


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (12, 15),  # inside
        (5, 11),  # straddling the start
        (19, 25),  # straddling the end
        (5, 25),  # covering
        (10, 20),  # identical
        (5, None),  # open-ended, starting before
        (15, None),  # open-ended, starting inside
    ],
)
def test_an_overlapping_assignment_is_refused(
    session: Session,
    clock: FakeClock,
    held: tuple[PhoneNumber, Account, Account],
    start: int,
    end: int | None,
) -> None:
    number, _, second = held
    with pytest.raises(ConflictError) as raised:
        assign(session, clock, number, second, day(start), None if end is None else day(end))
    assert (raised.value.code, raised.value.field) == ("number_assignment_overlap", "valid_from")
    assert len(service.list_assignments(session, scope=scope_of_number(session, number),
                                        number_id=number.id)) == 1  # fmt: skip


def test_an_open_ended_assignment_refuses_a_later_one(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock)
    number = make_number(session, clock, tenant, "+12015550123")
    account = make_account(session, clock, tenant)
    assign(session, clock, number, account, day(0))
    with pytest.raises(ConflictError):
        assign(session, clock, number, account, day(100), day(101))


def test_adjacent_half_open_periods_are_accepted(
    session: Session, clock: FakeClock, held: tuple[PhoneNumber, Account, Account]
) -> None:
    number, first, second = held
    after = assign(session, clock, number, second, day(20), day(30))
    before = assign(session, clock, number, second, day(0), day(10))
    later = assign(session, clock, number, first, day(30))
    periods = [
        (a.account_id, a.valid_from, a.valid_to)
        for a in service.list_assignments(
            session, scope=scope_of_number(session, number), number_id=number.id
        )
    ]
    assert periods == [
        (second.id, day(0), day(10)),
        (first.id, day(10), day(20)),
        (second.id, day(20), day(30)),
        (first.id, day(30), None),
    ]
    assert {after.valid_to, before.valid_to, later.valid_to} == {day(30), day(10), None}


def test_an_empty_or_reversed_period_is_refused(
    session: Session, clock: FakeClock, held: tuple[PhoneNumber, Account, Account]
) -> None:
    number, _, second = held
    for end in (day(30), day(29)):
        with pytest.raises(InvalidInputError) as raised:
            assign(session, clock, number, second, day(30), end)
        assert raised.value.field == "valid_to"


def test_an_account_of_another_tenant_cannot_hold_the_number(
    session: Session, clock: FakeClock, held: tuple[PhoneNumber, Account, Account]
) -> None:
    number, _, _ = held
    stranger = make_account(session, clock, make_tenant(session, clock))
    with pytest.raises(NotFoundError) as raised:
        assign(session, clock, number, stranger, day(50))
    assert raised.value.field == "account_id"


def test_release_ends_the_assignment_in_force(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock)
    number = make_number(session, clock, tenant, "+12015550123")
    account = make_account(session, clock, tenant)
    assign(session, clock, number, account, day(0))
    scope = scope_of(session, tenant)
    released = service.release_number(session, scope=scope, number_id=number.id, at=day(7))
    assert (released.valid_from, released.valid_to) == (day(0), day(7))
    # the number is free again from day 7
    assert assign(session, clock, number, account, day(7)).valid_from == day(7)


def test_release_when_nobody_holds_the_number_or_at_the_start_is_refused(
    session: Session, clock: FakeClock, held: tuple[PhoneNumber, Account, Account]
) -> None:
    number, _, _ = held
    scope = scope_of_number(session, number)
    with pytest.raises(ConflictError) as raised:
        service.release_number(session, scope=scope, number_id=number.id, at=day(20))
    assert (raised.value.code, raised.value.field) == ("number_not_assigned", "at")
    with pytest.raises(InvalidInputError) as raised_at_start:
        service.release_number(session, scope=scope, number_id=number.id, at=day(10))
    assert raised_at_start.value.field == "at"


def scope_of_number(session: Session, number: PhoneNumber) -> TenantScope:
    tenant = session.get(Tenant, number.tenant_id)
    assert tenant is not None
    return scope_of(session, tenant)


# --- number_holders equals a per-row reference ---------------------------------------------


def holder_by_query(
    session: Session, scope: TenantScope, number: str, instant: datetime
) -> tuple[str | None, str | None]:
    """The reference: one SQL query per (number, instant) pair; a number held in two tenants
    of the scope at once is ambiguous and has no holder."""
    found = session.execute(
        select(NumberAssignment.account_id, NumberAssignment.tenant_id)
        .join(PhoneNumber, PhoneNumber.id == NumberAssignment.number_id)
        .where(
            PhoneNumber.e164 == number,
            NumberAssignment.tenant_id.in_(sorted(scope.tenant_ids)),
            NumberAssignment.valid_from <= instant,
            or_(NumberAssignment.valid_to.is_(None), NumberAssignment.valid_to > instant),
        )
    ).all()
    return (found[0][0], found[0][1]) if len(found) == 1 else (None, None)


def build_inventory(
    session: Session, clock: FakeClock, rng: random.Random, parent: Tenant
) -> list[Tenant]:
    """Two brands of `parent`, each with its own accounts and random back-to-back or gapped
    periods on five numbers; three of the numbers exist in both brands."""
    tenants = [make_tenant(session, clock, parent=parent) for _ in range(2)]
    for index, tenant in enumerate(tenants):
        accounts = [make_account(session, clock, tenant) for _ in range(3)]
        numbers = [f"+1201555010{i}" for i in range(3)]
        numbers += [f"+1201555{index}2{i}0" for i in range(2)]
        for number in numbers:
            phone = make_number(session, clock, tenant, number)
            cursor = rng.randint(-5, 5)
            for _ in range(rng.randint(0, 4)):
                start = cursor + rng.choice([0, 0, 1, 3])
                end = None if rng.random() < 0.2 else start + rng.randint(1, 10)
                assign(session, clock, phone, rng.choice(accounts), day(start),
                       None if end is None else day(end))  # fmt: skip
                if end is None:
                    break
                cursor = end
    return tenants


def test_number_holders_equals_a_per_row_query_and_respects_the_scope(
    session: Session, clock: FakeClock
) -> None:
    # given two brands with overlapping number sets and random assignment histories
    rng = random.Random(20260115)
    group = make_tenant(session, clock)
    tenants = build_inventory(session, clock, rng, group)
    assert session.scalar(select(func.count()).select_from(NumberAssignment)) > 10
    boundaries = [
        t
        for a in session.scalars(select(NumberAssignment))
        for t in (a.valid_from, a.valid_to)
        if t is not None
    ]
    known = sorted(set(session.scalars(select(PhoneNumber.e164))))
    pairs = [
        (
            rng.choice([*known, "+12015559999"]),
            rng.choice(boundaries)
            if rng.random() < 0.4
            else day(rng.randint(-8, 50)) + timedelta(hours=rng.randint(0, 23)),
        )
        for _ in range(300)
    ]
    queries = pl.DataFrame(
        {"number": [n for n, _ in pairs], "at": [t for _, t in pairs]},
        schema={"number": pl.String(), "at": pl.Datetime("us", "UTC")},
    )
    for tenant in tenants:
        scope = scope_of(session, tenant)
        # when each tenant asks who held the numbers
        result = service.number_holders(session, scope=scope, queries=queries)
        # then every answer is what a query per pair says, and never another tenant's holder
        expected = [holder_by_query(session, scope, n, t) for n, t in pairs]
        assert result.select("number", "at").rows() == pairs
        assert list(zip(result["account_id"], result["tenant_id"], strict=True)) == expected
        assert set(result["tenant_id"].drop_nulls()) == {tenant.id}
        assert result["account_id"].null_count() < len(pairs)
    # and the group, which sees both brands, gets each brand's holder where only one holds
    group_scope = scope_of(session, group)
    result = service.number_holders(session, scope=group_scope, queries=queries)
    expected = [holder_by_query(session, group_scope, n, t) for n, t in pairs]
    assert list(zip(result["account_id"], result["tenant_id"], strict=True)) == expected
    assert set(result["tenant_id"].drop_nulls()) == {t.id for t in tenants}


def test_number_holders_of_an_empty_frame(session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock)
    empty = pl.DataFrame(schema={"number": pl.String(), "at": pl.Datetime("us", "UTC")})
    result = service.number_holders(session, scope=scope_of(session, tenant), queries=empty)
    assert result.height == 0
    assert result.columns == [
        "number",
        "at",
        "assignment_id",
        "tenant_id",
        "account_id",
        "subscription_id",
    ]
