"""A number assigned to an account, optionally under one of its subscriptions.

The number inventory (accounts) is upstream of subscriptions, so the assignment's reference
to a subscription is checked here, where both are known: the route and every other edge
assign through `assign_number` below.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from billstream.accounts import service as accounts
from billstream.accounts.models import Account, NumberAssignment
from billstream.core.clock import Clock
from billstream.core.errors import InvalidInputError
from billstream.db import tree
from billstream.subscriptions.errors import SubscriptionErrorCode
from billstream.subscriptions.models import Subscription
from billstream.tenants.repository import get_in_scope
from billstream.tenants.scope import TenantScope


def assign_number(
    session: Session,
    *,
    clock: Clock,
    scope: TenantScope,
    number_id: str,
    account_id: str,
    valid_from: datetime,
    valid_to: datetime | None = None,
    subscription_id: str | None = None,
) -> NumberAssignment:
    """Give the number to an account for ``[valid_from, valid_to)`` (see
    `accounts.assign_number`), used by `subscription_id` if given.

    The subscription must be of the number's tenant and held by the account or by an
    account above it (a parent's subscription may cover its departments' numbers). One that
    does not exist, is outside the caller's scope or is of another tenant is the same
    `NotFoundError` (field `subscription_id`); one of the tenant held by an unrelated
    account is an `InvalidInputError`.
    """
    assignment = accounts.assign_number(
        session,
        clock=clock,
        scope=scope,
        number_id=number_id,
        account_id=account_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    if subscription_id is not None:
        subscription = _subscription_of(session, scope, assignment, subscription_id)
        assignment.subscription_id = subscription.id
        session.flush()
    return assignment


def _subscription_of(
    session: Session, scope: TenantScope, assignment: NumberAssignment, subscription_id: str
) -> Subscription:
    subscription = get_in_scope(
        session, Subscription, subscription_id, scope=scope, label="subscription",
        field="subscription_id", tenant_id=assignment.tenant_id, tenant_named="the number's tenant",
    )  # fmt: skip
    holders = [a.id for a in tree.ancestors_and_self(session, Account, assignment.account_id)]
    if subscription.account_id not in holders:
        raise InvalidInputError(
            f"subscription {subscription.id} is account {subscription.account_id}'s, not "
            f"{assignment.account_id}'s or an account's above it",
            code=SubscriptionErrorCode.NOT_OF_ACCOUNT,
            field="subscription_id",
        )
    return subscription
