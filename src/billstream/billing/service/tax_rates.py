"""A tenant's percentage tax rules by jurisdiction, versioned by effective date."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.billing.models import TaxRate
from billstream.core.clock import Clock
from billstream.core.errors import InvalidInputError
from billstream.core.ids import new_id
from billstream.db.locks import locked
from billstream.tenants.context import TenantContext
from billstream.tenants.scope import TenantScope

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
