"""A tenant's percentage tax rules by jurisdiction, versioned by effective date."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.billing.models import TaxRate
from billstream.core.clock import Clock
from billstream.core.errors import InvalidInputError
from billstream.core.ids import new_id
from billstream.core.limits import check_day
from billstream.db.locks import locked
from billstream.tenants.context import TenantContext
from billstream.tenants.inheritance import Resolved, Version, in_force
from billstream.tenants.scope import TenantScope
from billstream.tenants.tree import TenantTree

TaxKey = tuple[str, str]  # (jurisdiction, name)

JURISDICTION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,6})?")


def set_tax_rate(
    session: Session,
    clock: Clock,
    *,
    ctx: TenantContext,
    jurisdiction: str,
    name: str,
    rate: Decimal,
    effective_from: date,
) -> TaxRate:
    """Tax `jurisdiction` (``GB``, ``US-CA``) at `rate` percent from `effective_from`; the
    tenant's rule of the same jurisdiction and name in force then ends that day."""
    tenant_id = ctx.tenant_id
    code = jurisdiction.strip().upper()
    if not JURISDICTION.fullmatch(code):
        raise InvalidInputError(
            f"{jurisdiction!r} is not a jurisdiction: a country code, optionally with a "
            "region (GB, US-CA)",
            field="jurisdiction",
        )
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise InvalidInputError("a tax rate is a percentage from 0 to 100", field="rate")
    if not name.strip():
        raise InvalidInputError("a tax rule needs a name", field="name")
    rules = session.scalars(
        locked(
            select(TaxRate)
            .where(
                TaxRate.tenant_id == tenant_id, TaxRate.jurisdiction == code, TaxRate.name == name
            )
            .order_by(TaxRate.id)
        )
    ).all()
    for rule in rules:
        if rule.effective_from >= effective_from:
            raise InvalidInputError(
                f"{code} {name} already has a rule from {rule.effective_from}: a new rule "
                "starts after the latest",
                field="effective_from",
            )
        if rule.effective_to is None or rule.effective_to > effective_from:
            rule.effective_to = effective_from
    rule = TaxRate(
        id=new_id("tax"),
        tenant_id=tenant_id,
        jurisdiction=code,
        name=name.strip(),
        rate=rate,
        effective_from=effective_from,
        effective_to=None,
        created_at=clock.now(),
    )
    session.add(rule)
    session.flush()
    return rule


def list_tax_rates(session: Session, *, scope: TenantScope) -> Sequence[TaxRate]:
    return session.scalars(
        select(TaxRate)
        .where(scope.filter(TaxRate))
        .order_by(TaxRate.jurisdiction, TaxRate.name, TaxRate.effective_from)
    ).all()


def tax_rate_versions(
    session: Session, tree: TenantTree, tenant_id: str
) -> list[Version[TaxKey, TaxRate]]:
    """The tax rules owned along `tenant_id`'s chain, keyed by jurisdiction and name, one
    query. A rule ends at its `effective_to` (a version without a value) unless the next one
    starts then (it outranks the end)."""
    rows = session.scalars(select(TaxRate).where(TaxRate.tenant_id.in_(tree.chain(tenant_id))))
    versions: list[Version[TaxKey, TaxRate]] = []
    for row in rows:
        key = (row.jurisdiction, row.name)
        versions.append(Version(row.tenant_id, key, row, row.effective_from, (1,)))
        if row.effective_to is not None:
            versions.append(Version(row.tenant_id, key, None, row.effective_to, (0,)))
    return versions


def tax_rates_on(
    session: Session, *, clock: Clock, ctx: TenantContext, on: date | None = None
) -> list[Resolved[TaxKey, TaxRate]]:
    """The tax rules in force for `ctx`'s tenant on `on` (default: today in its time zone),
    by jurisdiction and name: each with the window it is in force over and `source`, the
    tenant that set it (``"inherited"`` outside the caller's scope).

    Parameters
    ----------
    ctx
        The tenant asking, its tree and the caller's scope.
    on
        A local date of the tenant.

    Returns
    -------
    list of Resolved
        One per key in force, by jurisdiction and name; `value` is the rule's row.
    """
    day = check_day(on, field="on") if on else clock.now().astimezone(ZoneInfo(ctx.timezone)).date()
    versions = tax_rate_versions(session, ctx.tree, ctx.tenant_id)
    found = in_force(ctx.tree, versions, ctx.tenant_id, day)
    return [replace(r, source=ctx.shown(r.source)) for _key, r in sorted(found.items())]
