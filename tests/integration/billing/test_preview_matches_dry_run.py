"""The upcoming-charges preview is the bill run: the preview until the day after a close shows
exactly the lines a dry run at that close bills, for an account not billed yet or billed at
an earlier close before some of its changes (credits and new lines), whatever the timeline:
start, quantity changes, plan changes, a cancellation, in advance or in arrears, monthly or
quarterly, per unit, flat or a percentage of another charge."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from billstream.billing.service import (
    BillRunRequest,
    run_in_one_transaction,
    upcoming_charges,
)
from billstream.core.clock import FakeClock
from billstream.subscriptions.schemas import ChangeCreate
from billstream.subscriptions.service import CLI_ACTOR, change_subscription
from billstream.tenants.models import Tenant
from billstream.tenants.service import operator_context, operator_scope
from tests.factories import apply_catalog_yaml, make_account, make_subscription, make_tenant
from tests.integration.billing.helpers import at, preview

CATALOG = """\
effective_from: 2025-01-01
products:
  - {code: numbers, name: Phone number, kind: recurring}
  - {code: care, name: Care desk, kind: recurring}
  - {code: regulatory, name: Regulatory fee, kind: recurring}
plans:
%s
"""
PLAN = """\
  - code: %(code)s
    name: %(code)s
    currencies: [USD]
    charges:
      - code: numbers
        product: numbers
        timing: %(timing)s
        cadence: monthly
        prices: [{currency: USD, model: {type: per_unit, unit_price: %(unit)s}}]
      - code: care
        product: care
        timing: %(timing)s
        cadence: quarterly
        prices: [{currency: USD, model: {type: flat, amount: %(care)s}}]
      - code: regulatory
        product: regulatory
        timing: %(timing)s
        cadence: monthly
        prices: [{currency: USD, model: {type: percentage, percent: 12.5, of: numbers}}]
"""
PLANS = {  # (timing, plan) -> (unit price, care desk per quarter)
    "small": ("5.00", "30.00"),
    "large": ("7.50", "45.00"),
}
JAN_1 = date(2026, 1, 1)
MONTH_ENDS = [date(2026, m + 1, 1) - timedelta(days=1) for m in range(1, 8)]


def _tenant(session: Session, clock: FakeClock) -> Tenant:
    clock.set(at(date(2025, 12, 1)))
    tenant = make_tenant(session, clock)
    plans = "".join(
        PLAN % {"code": f"{timing}-{name}", "timing": timing, "unit": unit, "care": care}
        for timing in ("advance", "arrears")
        for name, (unit, care) in PLANS.items()
    )
    apply_catalog_yaml(session, clock, tenant, CATALOG % plans)
    session.commit()
    return tenant


moves = st.lists(
    st.tuples(
        st.integers(0, 150),  # days after the start
        st.sampled_from(["quantity", "plan", "cancel"]),
        st.integers(0, 80),  # a new quantity
    ),
    max_size=4,
)


def _change(session: Session, clock: FakeClock, tenant: Tenant, sid: str, **body: Any) -> None:
    change_subscription(
        session,
        clock=clock,
        scope=operator_scope(session, tenant.id),
        subscription_id=sid,
        data=ChangeCreate.model_validate({"effective": "date", "reason": "asked", **body}),
        actor=CLI_ACTOR,
    )


def test_the_preview_shows_what_a_dry_run_bills(session: Session, clock: FakeClock) -> None:
    tenant = _tenant(session, clock)

    @settings(max_examples=30, deadline=None)
    # February invoiced at January's close, then cut from Feb 10: credits and new lines
    @example("advance", 0, 10, [(40, "quantity", 4)], MONTH_ENDS[2], (MONTH_ENDS[0], 0))
    @given(
        timing=st.sampled_from(["advance", "arrears"]),
        start=st.integers(0, 75),
        quantity=st.integers(0, 80),
        timeline=moves,
        close=st.sampled_from(MONTH_ENDS),
        billed=st.none() | st.tuples(st.sampled_from(MONTH_ENDS), st.integers(0, 4)),
    )
    def check(
        timing: str,
        start: int,
        quantity: int,
        timeline: list[tuple[int, str, int]],
        close: date,
        billed: tuple[date, int] | None,
    ) -> None:
        earlier = billed if billed is not None and billed[0] < close else None
        previewed, invoiced = _preview_and_dry_run(
            session, clock, tenant, timing, start, quantity, timeline, close, earlier
        )
        assert previewed == invoiced

    check()


def _bill(session: Session, clock: FakeClock, tenant: Tenant, account_id: str, day: date) -> None:
    """A real bill run of the account at the close `day` (the clock moved past it)."""
    clock.set(at(day + timedelta(days=1)))
    request = BillRunRequest(tenant_id=tenant.id, day=day, accounts=[account_id],
                             key=f"{account_id}:{day}")  # fmt: skip
    run_in_one_transaction(
        session, clock, ctx=operator_context(session, tenant.id), request=request, actor="test"
    )


def _preview_and_dry_run(
    session: Session,
    clock: FakeClock,
    tenant: Tenant,
    timing: str,
    start: int,
    quantity: int,
    timeline: list[tuple[int, str, int]],
    close: date,
    earlier: tuple[date, int] | None,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    # given an account ordered on a day, then changed at random dates, and maybe billed at
    # an earlier close after the first few changes were recorded
    clock.set(at(date(2025, 12, 1)))
    account = make_account(session, clock, tenant)
    first = JAN_1 + timedelta(days=start)
    plan = "small"
    sid = make_subscription(
        session, clock, account, f"{timing}-{plan}", quantity=Decimal(quantity), start_date=first
    ).subscription.id
    for n, (offset, kind, number) in enumerate(sorted(timeline)):
        if earlier is not None and n == earlier[1]:
            _bill(session, clock, tenant, account.id, earlier[0])
        day = first + timedelta(days=offset)
        if kind == "quantity":
            _change(session, clock, tenant, sid, kind="quantity", quantity=number, date=day)
        elif kind == "plan":
            plan = "large" if plan == "small" else "small"
            _change(session, clock, tenant, sid, kind="plan", plan=f"{timing}-{plan}", date=day)
        else:
            _change(session, clock, tenant, sid, kind="cancel", date=day)
            break
    if earlier is not None and earlier[1] >= len(timeline):
        _bill(session, clock, tenant, account.id, earlier[0])
    session.flush()
    clock.set(at(close + timedelta(days=1)))

    # when previewed until the day after a close, and dry-run at that close
    until = close + timedelta(days=1)
    shown = upcoming_charges(
        session, scope=operator_scope(session, tenant.id), account_id=account.id, until=until
    )
    dry = preview(session, clock, tenant, close, accounts=[account.id])

    # then the lines are the same (and so the totals)
    assert dry.failures == []
    previewed = sorted(
        (str(x.kind), x.charge, x.start, x.end, x.quantity, x.unit_price, x.amount)
        for x in shown.lines
    )
    billed = sorted(
        (
            str(c.kind),
            c.charge,
            c.service_start,
            c.service_end,
            c.quantity,
            c.unit_price,
            c.amount.amount,
        )
        for draft in dry.invoices
        for c in (line.charge for line in draft.lines)
    )
    return previewed, billed
