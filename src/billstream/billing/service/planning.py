"""Which bill runs one operator's command covers: one per tenant, each for its closed day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from billstream.accounts.service import find_account, owners_of
from billstream.billing.closing import ONE_DAY
from billstream.billing.service.runs import BillRunRequest
from billstream.core.clock import Clock
from billstream.subscriptions.service import today_for
from billstream.tenants.context import TenantContext
from billstream.tenants.models import Tenant
from billstream.tenants.service import all_tenants, find_tenant, operator_context, subtree_ids


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """A tenant's bill run: the tenant, its context for the operator (its subtree), what it
    bills."""

    tenant: Tenant
    ctx: TenantContext
    request: BillRunRequest


def plan_bill_runs(
    session: Session,
    clock: Clock,
    *,
    tenant: str | None = None,
    day: date | None = None,
    accounts: Sequence[str] = (),
    all_accounts: bool = False,
    key: str | None = None,
) -> list[PlannedRun]:
    """The runs of one command, in tenant slug order.

    Each tenant has its own runs: the tenant named (by slug or id) and its brands, or every
    tenant; with `accounts` (ids or external ids), only the tenants holding one of them.
    Each run bills `day`, by default yesterday in the tenant's time zone (a daily scheduled
    run bills the day that just closed wherever the tenant is).
    """
    tenants = covered_tenants(session, tenant)
    account_ids = tuple(find_account(session, ref).id for ref in accounts)
    if account_ids:
        owners = owners_of(session, account_ids)
        tenants = [t for t in tenants if t.id in owners]
    return [
        PlannedRun(
            tenant=t,
            ctx=(ctx := operator_context(session, t.id)),
            request=BillRunRequest(
                tenant_id=t.id,
                day=day or today_for(ctx.settings, clock) - ONE_DAY,
                accounts=account_ids,
                all_accounts=all_accounts,
                key=key,
            ),
        )
        for t in tenants
    ]


def covered_tenants(session: Session, tenant: str | None) -> list[Tenant]:
    """The tenant `tenant` names (slug or id) and its brands, or every tenant."""
    if tenant is None:
        return list(all_tenants(session))
    ids = subtree_ids(session, find_tenant(session, tenant).id)
    return [t for t in all_tenants(session) if t.id in ids]
