"""What the timeline reads from the catalogue, loaded on demand and kept for one request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.catalog.layers import ResolvedPrice
from billstream.catalog.models import Plan, Price
from billstream.catalog.service import plan_charges, resolve_charge_prices
from billstream.catalog.service.pricing import PlanSnapshot, PreloadedPrices, snapshot
from billstream.core.errors import NotFoundError
from billstream.subscriptions.timeline import ChargeTerms, PlanTerms


def plan_terms(plan: PlanSnapshot, currency: str) -> PlanTerms:
    """A plan's terms in one currency, as the timeline reads them."""
    return PlanTerms(
        id=plan.id,
        code=plan.code,
        name=plan.name,
        trial_days=plan.trial_days,
        commitment_months=plan.commitment_months,
        setup_fee=plan.setup_fee_in(currency),
        early_termination_fee=plan.early_termination_fee_in(currency),
        charges=tuple(
            ChargeTerms(
                code=c.code,
                name=c.name,
                product_code=c.product_code,
                product_kind=c.product_kind,
                timing=c.timing,
                cadence=c.cadence,
            )
            for c in plan.charges
        ),
    )


class CatalogBook:
    """A `PriceBook` over the catalogue for one subscription's account, currency and terms.

    Prices are resolved for the account (customer prices), its tenant (brand and default
    layers) and the currency; commitment prices apply on days before `commitment_end`.
    """

    def __init__(
        self,
        session: Session,
        *,
        tenant_id: str,
        account_id: str,
        currency: str,
        commitment_end: date | None,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.account_id = account_id
        self.currency = currency
        self.commitment_end = commitment_end
        self._plans: dict[str, PlanTerms] = {}
        self._prices: dict[tuple[str, date], dict[str, ResolvedPrice]] = {}
        self._changes: dict[str, list[date]] = {}

    def plan(self, plan_id: str) -> PlanTerms:
        if plan_id not in self._plans:
            row = self.session.get(Plan, plan_id)
            if row is None:
                raise NotFoundError(f"plan {plan_id} not found", field="plan_id")
            self._plans[plan_id] = plan_terms(snapshot(self.session, row), self.currency)
        return self._plans[plan_id]

    def prices(self, plan_id: str, on: date) -> Mapping[str, ResolvedPrice]:
        key = (plan_id, on)
        if key not in self._prices:
            committed = self.commitment_end is not None and on < self.commitment_end
            self._prices[key] = resolve_charge_prices(
                self.session,
                tenant_id=self.tenant_id,
                account_id=self.account_id,
                plan_id=plan_id,
                currency=self.currency,
                on=on,
                commitment=committed,
            )
        return self._prices[key]

    def price_changes(self, plan_id: str) -> Sequence[date]:
        if plan_id not in self._changes:
            products = {c.product_id for c in plan_charges(self.session, plan_id)}
            starts = self.session.scalars(
                select(Price.effective_from)
                .where(Price.product_id.in_(products), Price.currency == self.currency)
                .distinct()
            )
            days = set(starts)
            if self.commitment_end is not None:
                days.add(self.commitment_end)
            self._changes[plan_id] = sorted(days)
        return self._changes[plan_id]


class PreloadedBook:
    """A `PriceBook` like `CatalogBook`, answered from prices loaded for many accounts at once
    (bill runs): no query per subscription."""

    def __init__(
        self,
        prices: PreloadedPrices,
        *,
        account_id: str,
        currency: str,
        commitment_end: date | None,
        terms: dict[tuple[str, str], PlanTerms] | None = None,
    ) -> None:
        self.source = prices
        self.account_id = account_id
        self.currency = currency
        self.commitment_end = commitment_end
        # a plan's terms by (plan, currency): pass one dict to the books of a whole chunk
        self._terms = terms if terms is not None else {}
        self._prices: dict[tuple[str, date], dict[str, ResolvedPrice]] = {}

    def plan(self, plan_id: str) -> PlanTerms:
        key = (plan_id, self.currency)
        terms = self._terms.get(key)
        if terms is None:
            terms = self._terms[key] = plan_terms(self.source.plan(plan_id), self.currency)
        return terms

    def prices(self, plan_id: str, on: date) -> Mapping[str, ResolvedPrice]:
        key = (plan_id, on)
        if key not in self._prices:
            committed = self.commitment_end is not None and on < self.commitment_end
            self._prices[key] = self.source.prices(
                plan_id,
                account_id=self.account_id,
                currency=self.currency,
                on=on,
                commitment=committed,
            )
        return self._prices[key]

    def price_changes(self, plan_id: str) -> Sequence[date]:
        days = set(self.source.price_changes(plan_id, self.currency))
        if self.commitment_end is not None:
            days.add(self.commitment_end)
        return sorted(days)
