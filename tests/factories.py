"""Small typed factories, one per thing, each going through the real service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from billstream.access.service import CreatedKey, create_api_key
from billstream.accounts import service as accounts
from billstream.accounts.models import Account, NumberAssignment, PhoneNumber
from billstream.accounts.schemas import AccountCreate
from billstream.catalog.service import ApplyReport, apply_catalog, load_catalog_yaml
from billstream.core.clock import Clock
from billstream.subscriptions.schemas import SubscriptionCreate
from billstream.subscriptions.service import CLI_ACTOR, SubscriptionView, create_subscription
from billstream.tenants.context import TenantContext
from billstream.tenants.models import Tenant
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import create_tenant, operator_context, operator_scope

PEPPER = b"test-pepper"
_counter = iter(range(1, 10**9))


def make_tenant(
    session: Session, clock: Clock, *, parent: Tenant | None = None, **settings: Any
) -> Tenant:
    n = next(_counter)
    slug = settings.pop("slug", f"tenant-{n}")
    name = settings.pop("name", f"Tenant {n}")
    if parent is None:
        settings.setdefault("currency", "USD")
    return create_tenant(
        session,
        clock=clock,
        slug=slug,
        name=name,
        parent_id=parent.id if parent else None,
        settings=settings,
    )


def scope_of(session: Session, tenant: Tenant) -> TenantScope:
    return operator_scope(session, tenant.id)


def context_of(session: Session, tenant: Tenant) -> TenantContext:
    """`tenant`'s context as its operator (the command line) loads it: its whole subtree."""
    return operator_context(session, tenant.id)


def make_api_key(
    session: Session, clock: Clock, tenant: Tenant, *, include_descendants: bool = False
) -> CreatedKey:
    return create_api_key(
        session,
        clock=clock,
        pepper=PEPPER,
        tenant_id=tenant.id,
        name="test key",
        include_descendants=include_descendants,
    )


def make_account(session: Session, clock: Clock, tenant: Tenant, **fields: Any) -> Account:
    fields.setdefault("name", f"Account {next(_counter)}")
    data = AccountCreate(tenant_id=tenant.id, **fields)
    return accounts.create_account(session, clock=clock, ctx=context_of(session, tenant), data=data)


def make_number(session: Session, clock: Clock, tenant: Tenant, number: str) -> PhoneNumber:
    [added] = accounts.add_numbers(
        session, clock=clock, ctx=context_of(session, tenant), numbers=[number]
    )
    return added


def assign(
    session: Session,
    clock: Clock,
    number: PhoneNumber,
    account: Account,
    valid_from: datetime,
    valid_to: datetime | None = None,
) -> NumberAssignment:
    tenant_scope = operator_scope(session, number.tenant_id)
    return accounts.assign_number(
        session,
        clock=clock,
        scope=tenant_scope,
        number_id=number.id,
        account_id=account.id,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def apply_catalog_yaml(session: Session, clock: Clock, tenant: Tenant, text: str) -> ApplyReport:
    """Apply a catalogue file (YAML text) to `tenant`, as its operator would."""
    return apply_catalog(
        session,
        clock=clock,
        ctx=context_of(session, tenant),
        document=load_catalog_yaml(text),
    )


def make_subscription(
    session: Session, clock: Clock, account: Account, plan: str, **fields: Any
) -> SubscriptionView:
    """An order of `plan` (id or code) for `account`, placed from the command line."""
    data = SubscriptionCreate(account_id=account.id, plan=plan, **fields)
    return create_subscription(
        session,
        clock=clock,
        scope=operator_scope(session, account.tenant_id),
        data=data,
        actor=CLI_ACTOR,
    )
