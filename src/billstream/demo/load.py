"""Write the demo provider through the real services: tenants, accounts, numbers, history."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts import service as accounts
from billstream.accounts.models import Account
from billstream.billing.service import set_tax_rate
from billstream.core.clock import Clock
from billstream.demo.generate import BrandData, NumberEvent, account_budgets, brand_data
from billstream.demo.provider import BRANDS, PARENT, US, TenantSpec
from billstream.demo.rates import load_rates
from billstream.demo.subscriptions import START, load_orders, subscribe_holders
from billstream.rating.service.cards import local_midnight
from billstream.tenants.models import Tenant
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import create_tenant, operator_context


def create_demo_tenant(
    session: Session, clock: Clock, spec: TenantSpec, parent: Tenant | None
) -> Tenant:
    settings = {
        "currency": spec.currency,
        "timezone": spec.timezone,
        "locale": spec.locale,
        "invoice_prefix": spec.invoice_prefix,
        "invoice_format": spec.invoice_format,
        "brand_name": spec.brand_name,
        "brand_address": spec.brand_address,
        "brand_primary_color": spec.primary_color,
        "brand_accent_color": spec.accent_color,
        "brand_footer": spec.footer,
    }
    return create_tenant(
        session,
        clock=clock,
        slug=spec.slug,
        name=spec.name,
        parent_id=parent.id if parent else None,
        settings={k: v for k, v in settings.items() if v is not None},
    )


def load_demo(session: Session, *, clock: Clock, accounts_total: int, seed: int) -> Tenant:
    """Create the parent company, its three brands and their data; return the parent."""
    rng = random.Random(seed)
    parent = create_demo_tenant(session, clock, PARENT, None)
    budgets = account_budgets(accounts_total)
    tenants = {}
    for brand in BRANDS:
        tenants[brand.code] = create_demo_tenant(session, clock, brand.tenant, parent)
        load_brand(session, clock, tenants[brand.code], brand_data(rng, brand, budgets[brand.code]))
    load_orders(session, clock, parent, tenants[US.code])
    plans = random.Random(f"{seed}:plans")
    for brand in BRANDS:
        month = local_midnight(START, brand.tenant.timezone)
        subscribe_holders(session, clock, tenants[brand.code], plans, at=month)
    load_rates(session, clock, tenants)
    load_taxes(session, clock, parent)
    return parent


# Sample percentage taxes (the full tax engine of SPEC C8 comes later), set at the parent
# company and inherited by the brands; a line's jurisdiction is its account's service address.
TAXES = (
    ("GB", "VAT", "20"),
    ("SG", "GST", "9"),
    ("US-IL", "Illinois sales tax", "6.25"),
    ("US-WI", "Wisconsin sales tax", "5"),
    ("US-MN", "Minnesota sales tax", "6.875"),
)


def load_taxes(session: Session, clock: Clock, parent: Tenant) -> None:
    ctx = operator_context(session, parent.id)
    for jurisdiction, name, rate in TAXES:
        set_tax_rate(
            session,
            clock,
            ctx=ctx,
            jurisdiction=jurisdiction,
            name=name,
            rate=Decimal(rate),
            effective_from=date(2025, 1, 1),
        )


def load_brand(session: Session, clock: Clock, tenant: Tenant, data: BrandData) -> None:
    ctx = operator_context(session, tenant.id)
    report = accounts.import_accounts(session, clock=clock, ctx=ctx, rows=data.rows)
    if report.errors:
        first = report.errors[0]
        raise RuntimeError(f"demo row {first.external_id} rejected: {first.field}: {first.reason}")
    added = accounts.add_numbers(session, clock=clock, ctx=ctx, numbers=data.numbers)
    number_ids = {n.e164: n.id for n in added}
    account_ids = dict(
        session.execute(
            select(Account.external_id, Account.id).where(Account.tenant_id == tenant.id)
        ).all()
    )
    apply_number_events(session, clock, ctx.scope, data.events, number_ids, account_ids)


def apply_number_events(
    session: Session,
    clock: Clock,
    scope: TenantScope,
    events: Sequence[NumberEvent],
    number_ids: dict[str, str],
    account_ids: dict[str | None, str],
) -> None:
    """Assign and release numbers in order, through the same checks as the API."""
    for event in events:
        number_id = number_ids[event.e164]
        if event.account is None:
            accounts.release_number(session, scope=scope, number_id=number_id, at=event.at)
        else:
            accounts.assign_number(
                session,
                clock=clock,
                scope=scope,
                number_id=number_id,
                account_id=account_ids[event.account],
                valid_from=event.at,
            )
