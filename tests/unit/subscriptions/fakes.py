"""A hand-written PriceBook: plans and dated prices held in memory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billstream.catalog.layers import PriceLayer, ResolvedPrice
from billstream.catalog.price_models import Flat, PerUnit, PriceModel
from billstream.core.periods import Cadence
from billstream.subscriptions.timeline import ChargeTerms, PlanTerms

FAR_PAST = date(2000, 1, 1)


def per_unit(amount: str) -> PerUnit:
    return PerUnit(type="per_unit", unit_price=Decimal(amount))


def flat(amount: str) -> Flat:
    return Flat(type="flat", amount=Decimal(amount))


def charge(
    code: str = "numbers",
    *,
    kind: str = "recurring",
    timing: str = "advance",
    cadence: Cadence = Cadence.MONTHLY,
) -> ChargeTerms:
    return ChargeTerms(code, code.title(), code, kind, timing, cadence)


def plan(plan_id: str, *charges: ChargeTerms, **terms: object) -> PlanTerms:
    values: dict[str, object] = {
        "trial_days": 0,
        "commitment_months": 0,
        "setup_fee": None,
        "early_termination_fee": None,
    }
    values.update(terms)
    return PlanTerms(
        id=plan_id,
        code=plan_id,
        name=plan_id.title(),
        charges=charges or (charge(),),
        **values,  # type: ignore[arg-type]
    )


@dataclass
class FakeBook:
    """Plans by id; prices by (plan id, charge code) as versions (from, model, layer)."""

    plans: dict[str, PlanTerms]
    versions: dict[tuple[str, str], list[tuple[date, PriceModel, PriceLayer]]] = field(
        default_factory=dict
    )
    lookups: int = 0

    def price(
        self,
        plan_id: str,
        code: str,
        model: PriceModel,
        *,
        since: date = FAR_PAST,
        layer: PriceLayer = PriceLayer.PLAN,
    ) -> FakeBook:
        self.versions.setdefault((plan_id, code), []).append((since, model, layer))
        return self

    def plan(self, plan_id: str) -> PlanTerms:
        return self.plans[plan_id]

    def prices(self, plan_id: str, on: date) -> Mapping[str, ResolvedPrice]:
        self.lookups += 1
        out = {}
        for (pid, code), versions in self.versions.items():
            live = [v for v in versions if pid == plan_id and v[0] <= on]
            if live:
                since, model, layer = max(live, key=lambda v: v[0])
                out[code] = ResolvedPrice(
                    model, (), layer, f"prc_{pid}_{code}_{since}", since, "USD"
                )
        return out

    def price_changes(self, plan_id: str) -> Sequence[date]:
        return sorted(
            {v[0] for (pid, _), vs in self.versions.items() if pid == plan_id for v in vs}
        )
