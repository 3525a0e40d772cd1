"""The tax rules in force for a tenant on a day and which tenant set them: a brand inheriting
its parent's rule, overriding it, and a rule replaced on a date; on both databases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from billstream.billing.models import TaxRate
from billstream.billing.service import set_tax_rate, tax_rates_on
from billstream.billing.service.tax_rates import TaxKey
from billstream.core.clock import FakeClock
from billstream.tenants.inheritance import Resolved
from billstream.tenants.service import load_context, scope_for
from tests.factories import context_of, make_tenant

JAN, APR, JUL = date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)


def test_a_brand_sees_its_parents_tax_until_its_own_and_the_replacement_date(
    session: Session, clock: FakeClock
) -> None:
    # given the parent's GB VAT at 20 % from Jan 1, replaced by 17.5 % from Jul 1, and a
    # brand's own GB VAT at 5 % from Apr 1
    parent = make_tenant(session, clock)
    brand = make_tenant(session, clock, parent=parent)
    parent_ctx = context_of(session, parent)
    first = set_tax_rate(session, clock, ctx=parent_ctx, jurisdiction="GB", name="VAT",
                         rate=Decimal(20), effective_from=JAN)  # fmt: skip
    later = set_tax_rate(session, clock, ctx=parent_ctx, jurisdiction="GB", name="VAT",
                         rate=Decimal("17.5"), effective_from=JUL)  # fmt: skip
    own = set_tax_rate(session, clock, ctx=context_of(session, brand), jurisdiction="GB",
                       name="VAT", rate=Decimal(5), effective_from=APR)  # fmt: skip
    seen = load_context(session, scope=parent_ctx.scope, tenant_id=brand.id)

    # when the brand's rules are read in March, in May, and the parent's in July
    march = tax_rates_on(session, clock=clock, ctx=seen, on=date(2026, 3, 31))
    may = tax_rates_on(session, clock=clock, ctx=seen, on=date(2026, 5, 1))
    july = tax_rates_on(session, clock=clock, ctx=parent_ctx, on=JUL)

    # then March is the parent's 20 %, ending when 17.5 % starts; May the brand's own
    def shown(found: list[Resolved[TaxKey, TaxRate]]) -> list[tuple[object, ...]]:
        return [(r.key, r.value.id, r.value.rate, r.source, r.effective_from, r.valid_to)
                for r in found]  # fmt: skip

    assert shown(march) == [(("GB", "VAT"), first.id, Decimal(20), parent.id, JAN, JUL)]
    assert shown(may) == [(("GB", "VAT"), own.id, Decimal(5), brand.id, APR, None)]
    assert shown(july) == [(("GB", "VAT"), later.id, Decimal("17.5"), parent.id, JUL, None)]


def test_a_key_scoped_to_the_brand_sees_its_parents_rule_as_inherited(
    session: Session, clock: FakeClock
) -> None:
    # given the parent's GB VAT and a context scoped to the brand alone
    parent = make_tenant(session, clock)
    brand = make_tenant(session, clock, parent=parent)
    set_tax_rate(session, clock, ctx=context_of(session, parent), jurisdiction="GB",
                 name="VAT", rate=Decimal(20), effective_from=JAN)  # fmt: skip
    scope = scope_for(session, brand.id, include_descendants=False)
    ctx = load_context(session, scope=scope, tenant_id=brand.id)

    # when it asks (today by the clock), then the source is masked
    [found] = tax_rates_on(session, clock=clock, ctx=ctx)
    assert (found.value.rate, found.source, found.effective_from, found.valid_to) == (
        Decimal(20), "inherited", JAN, None
    )  # fmt: skip
