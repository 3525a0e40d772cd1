from __future__ import annotations

from fractions import Fraction

from fastapi import APIRouter, status

from billstream.accounts.schemas import AssignmentCreate, AssignmentOut
from billstream.api.context import Context, Paging
from billstream.api.pages import PageOut
from billstream.api.routing import TransactionalRoute
from billstream.subscriptions import service
from billstream.subscriptions.charges import ChargeLine
from billstream.subscriptions.schemas import (
    ChangeCreate,
    ChangeOut,
    ChargeLineOut,
    SubscriptionCreate,
    SubscriptionOut,
)
from billstream.subscriptions.service import SubscriptionView

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"], route_class=TransactionalRoute)
# The assignment of a number may name a subscription, which only this package can check.
numbers = APIRouter(prefix="/numbers", tags=["numbers"], route_class=TransactionalRoute)


def _out(view: SubscriptionView) -> SubscriptionOut:
    s = view.subscription
    return SubscriptionOut(
        id=s.id,
        tenant_id=s.tenant_id,
        account_id=s.account_id,
        plan_id=view.plan_id,
        external_id=s.external_id,
        status=view.status,
        currency=s.currency,
        quantity=view.quantity,
        start_date=s.start_date,
        billing_anchor=s.billing_anchor,
        trial_end=s.trial_end,
        commitment_end=s.commitment_end,
        cancelled_at=s.cancelled_at,
        created_at=s.created_at,
        updated_at=s.updated_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a subscription (an order)")
def create_subscription(ctx: Context, body: SubscriptionCreate) -> SubscriptionOut:
    return _out(
        service.create_subscription(
            ctx.session, clock=ctx.clock, scope=ctx.scope, data=body, actor=ctx.api_key.id
        )
    )


@router.get("", summary="List subscriptions")
def list_subscriptions(
    ctx: Context, page: Paging, account_id: str | None = None, external_id: str | None = None
) -> PageOut[SubscriptionOut]:
    result = service.list_subscriptions(
        ctx.session,
        clock=ctx.clock,
        scope=ctx.scope,
        cursor=page.cursor,
        limit=page.limit,
        account_id=account_id,
        external_id=external_id,
    )
    return PageOut(data=[_out(v) for v in result.items], next_cursor=result.next_cursor)


@router.get("/{subscription_id}", summary="A subscription, as it stands today")
def get_subscription(ctx: Context, subscription_id: str) -> SubscriptionOut:
    return _out(
        service.get_subscription(
            ctx.session, clock=ctx.clock, scope=ctx.scope, subscription_id=subscription_id
        )
    )


@router.get("/{subscription_id}/changes", summary="A subscription's changes, as recorded")
def list_changes(ctx: Context, subscription_id: str) -> list[ChangeOut]:
    rows = service.list_changes(ctx.session, scope=ctx.scope, subscription_id=subscription_id)
    return [ChangeOut.model_validate(row) for row in rows]


@router.post(
    "/{subscription_id}/changes",
    status_code=status.HTTP_201_CREATED,
    summary="Change a subscription now, at period end, or on a date",
)
def change_subscription(ctx: Context, subscription_id: str, body: ChangeCreate) -> ChangeOut:
    row = service.change_subscription(
        ctx.session,
        clock=ctx.clock,
        scope=ctx.scope,
        subscription_id=subscription_id,
        data=body,
        actor=ctx.api_key.id,
    )
    return ChangeOut.model_validate(row)


def fraction_text(line: ChargeLine) -> str:
    """The fraction as days over the period's days (``16/31``, ``31/31``), unreduced."""
    if line.period_days and line.fraction == Fraction(line.days, line.period_days):
        return f"{line.days}/{line.period_days}"
    return f"{line.fraction.numerator}/{line.fraction.denominator}"


def line_out(line: ChargeLine) -> ChargeLineOut:
    return ChargeLineOut(
        subscription_id=line.subscription_id,
        kind=line.kind,
        charge=line.charge,
        description=line.description,
        timing=line.timing,
        period_start=line.period.start,
        period_end=line.period.end,
        start=line.start,
        end=line.end,
        days=line.days,
        period_days=line.period_days,
        quantity=line.quantity,
        fraction=fraction_text(line),
        unit_price=line.unit_price,
        layer=line.layer,
        amount=line.amount,
        currency=line.currency,
        source=line.source,
    )


@numbers.post(
    "/{number_id}/assign",
    status_code=status.HTTP_201_CREATED,
    summary="Assign the number to an account for a half-open period",
)
def assign_number(ctx: Context, number_id: str, body: AssignmentCreate) -> AssignmentOut:
    """`subscription_id`, if given: a subscription of the number's tenant, held by the
    account or an account above it."""
    return AssignmentOut.model_validate(
        service.assign_number(
            ctx.session,
            clock=ctx.clock,
            scope=ctx.scope,
            number_id=number_id,
            account_id=body.account_id,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            subscription_id=body.subscription_id,
        )
    )
