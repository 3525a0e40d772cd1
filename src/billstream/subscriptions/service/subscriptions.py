"""Subscription use cases: create from an order, change, read.

Every change is recorded with its effective local date, how it was asked (now, at period
end, on a date), who asked (an API key id or "cli"), why, and when (the clock). Before
anything is written, the whole timeline is replayed with the new change, so a change that
does not fit (resuming an active subscription, changing a cancelled one, or one that would
break a change already scheduled after it) is refused and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.accounts.service import get_account
from billstream.catalog.service import PlanSnapshot, get_plan, resolve_charge_prices
from billstream.core.clock import Clock
from billstream.core.decimals import fixed_point
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.core.ids import new_id
from billstream.core.money import validate_currency
from billstream.core.periods import period_containing
from billstream.db.lists import among
from billstream.db.pagination import Page, paginate
from billstream.subscriptions.cycles import add_months, billing_anchor
from billstream.subscriptions.errors import SubscriptionErrorCode
from billstream.subscriptions.lifecycle import ChangeKind, ChangeTiming, SubscriptionStatus
from billstream.subscriptions.models import Subscription, SubscriptionChange
from billstream.subscriptions.schemas import ChangeCreate, SubscriptionCreate
from billstream.subscriptions.service.book import CatalogBook
from billstream.subscriptions.timeline import (
    Change,
    InvalidTransitionError,
    Phase,
    phase_on,
    replay,
    status_on,
)
from billstream.tenants.context import TenantContext
from billstream.tenants.repository import get_in_scope
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import load_context, resolved_settings
from billstream.tenants.settings import ResolvedSettings

CLI_ACTOR = "cli"


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription with the state in force on `today` (its tenant's local date)."""

    subscription: Subscription
    status: SubscriptionStatus
    plan_id: str
    quantity: Decimal


def local_today(session: Session, clock: Clock, tenant_id: str) -> date:
    """Today in the tenant's time zone: 23:30 local on Jan 31 is Jan 31, whatever UTC says."""
    return today_for(resolved_settings(session, tenant_id), clock)


def today_for(settings: ResolvedSettings, clock: Clock) -> date:
    """Today in the time zone of a tenant's `settings`."""
    return clock.now().astimezone(ZoneInfo(settings.timezone)).date()


def changes_of(session: Session, subscription_ids: Sequence[str]) -> dict[str, list[Change]]:
    """The recorded changes of each subscription, in recording order (read as plain rows:
    bill runs read them for many thousand subscriptions at once)."""
    out: dict[str, list[Change]] = {sid: [] for sid in subscription_ids}
    ids = list(subscription_ids)
    for i in range(0, len(ids), 2000):
        stmt = (
            select(
                SubscriptionChange.subscription_id,
                SubscriptionChange.id,
                SubscriptionChange.seq,
                SubscriptionChange.kind,
                SubscriptionChange.effective,
                SubscriptionChange.recorded_at,
                # the two fields of `after` the timeline reads, not the whole document
                SubscriptionChange.after["quantity"].as_string(),
                SubscriptionChange.after["plan_id"].as_string(),
            )
            .where(among(session, SubscriptionChange.subscription_id, ids[i : i + 2000]))
            .order_by(SubscriptionChange.subscription_id, SubscriptionChange.seq)
        )
        rows = session.connection().execute(stmt).all()  # plain rows: no ORM per row
        for sid, change_id, seq, kind, effective, recorded_at, quantity, plan_id in rows:
            out[sid].append(
                Change(
                    id=change_id,
                    seq=seq,
                    kind=ChangeKind(kind),
                    effective=effective,
                    recorded_at=recorded_at,
                    quantity=None if quantity is None else Decimal(quantity),
                    plan_id=plan_id,
                )
            )
    return out


def _replayed(subscription: Subscription, changes: Sequence[Change]) -> list[Phase]:
    try:
        return replay(changes, trial_end=subscription.trial_end)
    except InvalidTransitionError as exc:
        raise ConflictError(
            str(exc), code=SubscriptionErrorCode.INVALID_TRANSITION, field="kind"
        ) from None


def _view(subscription: Subscription, phases: Sequence[Phase], today: date) -> SubscriptionView:
    phase = phase_on(phases, today) or phases[0]
    return SubscriptionView(subscription, status_on(phases, today), phase.plan_id, phase.quantity)


def _snapshot(subscription: Subscription, phases: Sequence[Phase], today: date) -> None:
    view = _view(subscription, phases, today)
    subscription.status = view.status
    subscription.plan_id = view.plan_id
    subscription.quantity = view.quantity
    ended = [p.effective for p in phases if p.status == SubscriptionStatus.CANCELLED]
    subscription.cancelled_at = ended[0] if ended else None


def _state(phase: Phase | None) -> dict[str, Any]:
    if phase is None:
        return {"status": SubscriptionStatus.PENDING.value}
    return {
        "status": phase.status.value,
        "plan_id": phase.plan_id,
        "quantity": fixed_point(phase.quantity),
    }


def _check_currency(account: Account, plan: PlanSnapshot, requested: str | None) -> str:
    currency = validate_currency(requested) if requested else account.currency
    if currency != account.currency:
        raise InvalidInputError(
            f"account {account.name} is billed in {account.currency}, not {currency}",
            code=SubscriptionErrorCode.CURRENCY_NOT_BILLED,
            field="currency",
        )
    if currency not in plan.currencies:
        raise InvalidInputError(
            f"plan {plan.code} is sold in {', '.join(plan.currencies)}, not {currency}",
            code=SubscriptionErrorCode.CURRENCY_NOT_BILLED,
            field="currency",
        )
    return currency


def _require_free_external_id(session: Session, tenant_id: str, external_id: str | None) -> None:
    if external_id is None:
        return
    taken = session.scalar(
        select(Subscription.id).where(
            Subscription.tenant_id == tenant_id, Subscription.external_id == external_id
        )
    )
    if taken is not None:
        raise ConflictError(
            f"external id {external_id!r} is already used in this tenant",
            code=SubscriptionErrorCode.EXTERNAL_ID_TAKEN,
            field="external_id",
        )


def _priced_on(
    session: Session, account: Account, plan: PlanSnapshot, currency: str, on: date
) -> None:
    """Refuse a plan without a price for every charge in `currency` on `on`."""
    resolve_charge_prices(
        session,
        tenant_id=account.tenant_id,
        account_id=account.id,
        plan_id=plan.id,
        currency=currency,
        on=on,
        commitment=plan.commitment_months > 0,
    )


def _record(
    session: Session,
    subscription: Subscription,
    *,
    seq: int,
    kind: ChangeKind,
    effective: date,
    timing: ChangeTiming,
    before: dict[str, Any],
    after: dict[str, Any],
    actor: str,
    reason: str | None,
    now: datetime,
    change_id: str | None = None,
) -> SubscriptionChange:
    row = SubscriptionChange(
        id=change_id or new_id("sch"),
        tenant_id=subscription.tenant_id,
        subscription_id=subscription.id,
        seq=seq,
        kind=kind,
        effective=effective,
        timing=timing,
        before=before,
        after=after,
        actor=actor,
        reason=reason,
        recorded_at=now,
    )
    session.add(row)
    return row


def create_subscription(
    session: Session, *, clock: Clock, scope: TenantScope, data: SubscriptionCreate, actor: str
) -> SubscriptionView:
    """Create a subscription from an order; it starts on `start_date` (default: today)."""
    account = get_account(session, scope=scope, account_id=data.account_id)
    ctx = load_context(session, scope=scope, tenant_id=account.tenant_id, field="account_id")
    today = today_for(ctx.settings, clock)
    start = data.start_date or today
    if data.quantity < 0:
        raise InvalidInputError("a quantity cannot be negative", field="quantity")
    plan = get_plan(session, ctx=ctx, plan=data.plan, on=start)
    currency = _check_currency(account, plan, data.currency)
    _priced_on(session, account, plan, currency, start)
    if data.end_date is not None and data.end_date <= start:
        raise InvalidInputError(
            f"the end date must be after the start date {start.isoformat()}", field="end_date"
        )
    _require_free_external_id(session, account.tenant_id, data.external_id)
    now = clock.now()
    subscription = Subscription(
        id=new_id("sub"),
        tenant_id=account.tenant_id,
        account_id=account.id,
        plan_id=plan.id,
        external_id=data.external_id,
        status=SubscriptionStatus.PENDING,
        currency=currency,
        quantity=data.quantity,
        start_date=start,
        billing_anchor=billing_anchor(account.billing_cycle, account.billing_day, start),
        trial_end=start + timedelta(days=plan.trial_days) if plan.trial_days else None,
        commitment_end=add_months(start, plan.commitment_months)
        if plan.commitment_months
        else None,
        cancelled_at=None,
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    session.flush()
    created = {"plan_id": plan.id, "plan": plan.code, "quantity": fixed_point(data.quantity)}
    timing = ChangeTiming.DATE if data.start_date else ChangeTiming.NOW
    records = [(ChangeKind.CREATE, start, timing, created)]
    if data.end_date is not None:
        expired = {"status": SubscriptionStatus.EXPIRED.value}
        records.append((ChangeKind.EXPIRE, data.end_date, ChangeTiming.DATE, expired))
    for seq, (kind, effective, timing, after) in enumerate(records, start=1):
        _record(
            session,
            subscription,
            seq=seq,
            kind=kind,
            effective=effective,
            timing=timing,
            before={"status": SubscriptionStatus.PENDING.value},
            after=after,
            actor=actor,
            reason=data.reason,
            now=now,
        )
    session.flush()
    phases = _replayed(subscription, changes_of(session, [subscription.id])[subscription.id])
    _snapshot(subscription, phases, today)
    session.flush()
    return _view(subscription, phases, today)


def get_subscription_row(
    session: Session, *, scope: TenantScope, subscription_id: str
) -> Subscription:
    return get_in_scope(
        session, Subscription, subscription_id, scope=scope, label="subscription",
        field="subscription_id",
    )  # fmt: skip


def get_subscription(
    session: Session, *, clock: Clock, scope: TenantScope, subscription_id: str
) -> SubscriptionView:
    """A subscription with its status, plan and quantity of today."""
    subscription = get_subscription_row(session, scope=scope, subscription_id=subscription_id)
    return views(session, clock=clock, subscriptions=[subscription])[0]


def views(
    session: Session, *, clock: Clock, subscriptions: Sequence[Subscription]
) -> list[SubscriptionView]:
    """Each subscription with the state in force today in its tenant's time zone."""
    changes = changes_of(session, [s.id for s in subscriptions])
    today: dict[str, date] = {}
    out = []
    for subscription in subscriptions:
        tenant = subscription.tenant_id
        if tenant not in today:
            today[tenant] = local_today(session, clock, tenant)
        phases = _replayed(subscription, changes[subscription.id])
        out.append(_view(subscription, phases, today[tenant]))
    return out


def list_subscriptions(
    session: Session,
    *,
    clock: Clock,
    scope: TenantScope,
    cursor: str | None = None,
    limit: int = 50,
    account_id: str | None = None,
    external_id: str | None = None,
) -> Page[SubscriptionView]:
    stmt = select(Subscription).where(scope.filter(Subscription))
    if account_id is not None:
        stmt = stmt.where(Subscription.account_id == account_id)
    if external_id is not None:
        stmt = stmt.where(Subscription.external_id == external_id)
    page = paginate(session, stmt, Subscription.id, cursor=cursor, limit=limit)
    return Page(views(session, clock=clock, subscriptions=page.items), page.next_cursor)


def list_changes(
    session: Session, *, scope: TenantScope, subscription_id: str
) -> list[SubscriptionChange]:
    """The recorded changes of a subscription, in the order they were recorded."""
    subscription = get_subscription_row(session, scope=scope, subscription_id=subscription_id)
    stmt = select(SubscriptionChange).where(SubscriptionChange.subscription_id == subscription.id)
    return list(session.scalars(stmt.order_by(SubscriptionChange.seq)))


def _lock_subscription(session: Session, scope: TenantScope, subscription_id: str) -> Subscription:
    """The subscription, locked so that changes to it are recorded one at a time."""
    return get_in_scope(
        session, Subscription, subscription_id, scope=scope, label="subscription",
        field="subscription_id", lock=True,
    )  # fmt: skip


def _effective(
    session: Session, subscription: Subscription, data: ChangeCreate, today: date, plan_id: str
) -> date:
    if data.effective == ChangeTiming.DATE:
        if data.day is None:
            raise InvalidInputError("effective=date needs a date", field="date")
        day, field = data.day, "date"
    elif data.effective == ChangeTiming.PERIOD_END:
        book = CatalogBook(
            session,
            tenant_id=subscription.tenant_id,
            account_id=subscription.account_id,
            currency=subscription.currency,
            commitment_end=subscription.commitment_end,
        )
        cadence = book.plan(plan_id).main_cadence
        anchor = subscription.billing_anchor
        day, field = period_containing(today, anchor=anchor, cadence=cadence).end, "effective"
    else:
        day, field = today, "effective"
    if day < subscription.start_date:
        raise InvalidInputError(
            f"{day.isoformat()} is before the subscription starts "
            f"({subscription.start_date.isoformat()})",
            code=SubscriptionErrorCode.BEFORE_START,
            field=field,
        )
    return day


def _new_change(
    session: Session,
    *,
    ctx: TenantContext,
    subscription: Subscription,
    data: ChangeCreate,
    effective: date,
    seq: int,
    now: datetime,
) -> Change:
    """The change as the timeline reads it, its values checked against the catalogue."""
    kind = ChangeKind(data.kind)
    quantity, plan_id = None, None
    if kind == ChangeKind.QUANTITY:
        if data.quantity is None:
            raise InvalidInputError(
                "a quantity change needs the new quantity",
                code=SubscriptionErrorCode.MISSING_VALUE,
                field="quantity",
            )
        if data.quantity < 0:
            raise InvalidInputError("a quantity cannot be negative", field="quantity")
        quantity = data.quantity
    elif kind == ChangeKind.PLAN:
        if data.plan is None:
            raise InvalidInputError(
                "a plan change needs the new plan",
                code=SubscriptionErrorCode.MISSING_VALUE,
                field="plan",
            )
        account = session.get(Account, subscription.account_id)
        assert account is not None
        plan = get_plan(session, ctx=ctx, plan=data.plan, on=effective)
        _check_currency(account, plan, subscription.currency)
        _priced_on(session, account, plan, subscription.currency, effective)
        plan_id = plan.id
    return Change(
        id=new_id("sch"),
        seq=seq,
        kind=kind,
        effective=effective,
        recorded_at=now,
        quantity=quantity,
        plan_id=plan_id,
    )


def change_subscription(
    session: Session,
    *,
    clock: Clock,
    scope: TenantScope,
    subscription_id: str,
    data: ChangeCreate,
    actor: str,
) -> SubscriptionChange:
    """Record a change (quantity, plan, suspend, resume, cancel) effective now, at the end
    of the current billing period, or on a date; refuse one that does not fit the timeline."""
    subscription = _lock_subscription(session, scope, subscription_id)
    ctx = load_context(session, scope=scope, tenant_id=subscription.tenant_id)
    today = today_for(ctx.settings, clock)
    recorded = changes_of(session, [subscription.id])[subscription.id]
    phases = _replayed(subscription, recorded)
    current = phase_on(phases, today) or phases[0]
    effective = _effective(session, subscription, data, today, current.plan_id)
    now = clock.now()
    seq = max(c.seq for c in recorded) + 1
    change = _new_change(
        session,
        ctx=ctx,
        subscription=subscription,
        data=data,
        effective=effective,
        seq=seq,
        now=now,
    )
    changed = _replayed(subscription, [*recorded, change])
    row = _record(
        session,
        subscription,
        seq=seq,
        kind=change.kind,
        effective=effective,
        timing=data.effective,
        before=_state(phase_on(phases, effective)),
        after=_state(phase_on(changed, effective)),
        actor=actor,
        reason=data.reason,
        now=now,
        change_id=change.id,
    )
    _snapshot(subscription, changed, today)
    subscription.updated_at = now
    session.flush()
    return row
