"""What subscriptions and rating ask of the catalogue: a plan as sold, and its prices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import TypeAdapter
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from billstream.catalog.adjustments import Adjustment
from billstream.catalog.errors import CatalogErrorCode
from billstream.catalog.layers import PriceCandidate, PriceLayer, ResolvedPrice, resolve_price
from billstream.catalog.models import Plan, PlanCharge, Price, Product
from billstream.catalog.price_models import EventSplit, Percentage, PriceModel, event_split
from billstream.catalog.service.reading import plan_charges
from billstream.catalog.service.visibility import chain_ids, nearest_by_code
from billstream.core.errors import InvalidInputError, NotFoundError
from billstream.core.ids import is_id
from billstream.core.periods import Cadence
from billstream.tenants.context import TenantContext

PRICE_MODEL: TypeAdapter[PriceModel] = TypeAdapter(PriceModel)
ADJUSTMENTS: TypeAdapter[list[Adjustment]] = TypeAdapter(list[Adjustment])


@dataclass(frozen=True, slots=True)
class ChargeSnapshot:
    code: str
    product_id: str
    product_code: str
    product_kind: str
    name: str
    timing: str
    cadence: Cadence
    addon: bool


@dataclass(frozen=True, slots=True)
class PlanSnapshot:
    """A plan as sold: its terms and charges. Fees are in `currencies[0]`; every currency's
    fee is in `setup_fees` / `early_termination_fees` (a plan may sell in several)."""

    id: str
    code: str
    name: str
    tenant_id: str
    trial_days: int
    commitment_months: int
    early_termination_fee: Decimal | None
    setup_fee: Decimal | None
    included: dict[str, Decimal]
    charges: tuple[ChargeSnapshot, ...]
    sellable_from: date | None
    sellable_to: date | None
    currencies: tuple[str, ...]
    setup_fees: Mapping[str, Decimal] | None = None
    early_termination_fees: Mapping[str, Decimal] | None = None

    def setup_fee_in(self, currency: str) -> Decimal | None:
        return (self.setup_fees or {}).get(currency)

    def early_termination_fee_in(self, currency: str) -> Decimal | None:
        return (self.early_termination_fees or {}).get(currency)


def sellable(start: date | None, end: date | None, on: date) -> bool:
    """Sellable from `start` to `end`, both days included; None: no limit."""
    return (start is None or start <= on) and (end is None or on <= end)


def decimals(values: Mapping[str, str]) -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value in values.items()}


def snapshot(session: Session, plan: Plan) -> PlanSnapshot:
    charges = plan_charges(session, plan.id)
    products = {
        p.id: p
        for p in session.scalars(
            select(Product).where(Product.id.in_(c.product_id for c in charges))
        )
    }
    setup, termination = decimals(plan.setup_fees), decimals(plan.early_termination_fees)
    primary = plan.currencies[0]
    return PlanSnapshot(
        id=plan.id,
        code=plan.code,
        name=plan.name,
        tenant_id=plan.tenant_id,
        trial_days=plan.trial_days,
        commitment_months=plan.commitment_months,
        early_termination_fee=termination.get(primary),
        setup_fee=setup.get(primary),
        included=decimals(plan.included),
        charges=tuple(
            ChargeSnapshot(
                code=c.code,
                product_id=c.product_id,
                product_code=products[c.product_id].code,
                product_kind=products[c.product_id].kind,
                name=c.name,
                timing=c.timing,
                cadence=Cadence(c.cadence),
                addon=c.addon,
            )
            for c in charges
        ),
        sellable_from=plan.sellable_from,
        sellable_to=plan.sellable_to,
        currencies=tuple(plan.currencies),
        setup_fees=setup,
        early_termination_fees=termination,
    )


def _unknown_plan(plan: str, field: str) -> NotFoundError:
    return NotFoundError(
        f"no plan {plan!r} in this tenant's catalogue",
        code=CatalogErrorCode.UNKNOWN_PLAN,
        field=field,
    )


def _plan_in_chain(session: Session, chain: Sequence[str], plan: str, *, field: str) -> Plan:
    row = session.get(Plan, plan) if is_id(plan) else None
    if row is None:
        row = nearest_by_code(session, Plan, chain).get(plan)
    if row is None or row.tenant_id not in chain:
        raise _unknown_plan(plan, field)
    return row


def _window(start: date | None, end: date | None) -> str:
    return f"{start or 'always'} to {end or 'no end'}"


def _check_sellable(session: Session, plan: Plan, on: date) -> None:
    if not sellable(plan.sellable_from, plan.sellable_to, on):
        raise InvalidInputError(
            f"plan {plan.code} is not sellable on {on} (sellable "
            f"{_window(plan.sellable_from, plan.sellable_to)})",
            code=CatalogErrorCode.NOT_SELLABLE,
            field="plan",
        )
    required = [c.product_id for c in plan_charges(session, plan.id) if not c.addon]
    for product in session.scalars(select(Product).where(Product.id.in_(required))):
        if not sellable(product.sellable_from, product.sellable_to, on):
            raise InvalidInputError(
                f"plan {plan.code} is not sellable on {on}: its product {product.code} is "
                f"sellable {_window(product.sellable_from, product.sellable_to)}",
                code=CatalogErrorCode.NOT_SELLABLE,
                field="plan",
            )


def get_plan(session: Session, *, ctx: TenantContext, plan: str, on: date) -> PlanSnapshot:
    """The plan (id or code) as `ctx`'s tenant sells it on `on`.

    Raises NotFoundError(field="plan") if the tenant cannot use it, and
    InvalidInputError(field="plan") if it (or a product it needs) is not sellable on `on`.
    """
    chain = list(reversed(ctx.chain))
    row = _plan_in_chain(session, chain, plan, field="plan")
    _check_sellable(session, row, on)
    return snapshot(session, row)


def _candidates(
    session: Session,
    *,
    plan: Plan,
    charges: Sequence[PlanCharge],
    chain: Sequence[str],
    account_id: str | None,
    currency: str,
) -> list[Price]:
    for_plan = or_(Price.plan_id.is_(None), Price.plan_id == plan.id)
    layers = [
        and_(Price.layer == PriceLayer.DEFAULT, Price.tenant_id.in_(list(chain))),
        and_(Price.layer == PriceLayer.PLAN, Price.plan_id == plan.id),
        and_(Price.layer == PriceLayer.BRAND, Price.tenant_id.in_(list(chain)), for_plan),
    ]
    if account_id is not None:
        layers.append(
            and_(Price.layer == PriceLayer.CUSTOMER, Price.account_id == account_id, for_plan)
        )
    stmt = select(Price).where(
        Price.currency == currency,
        Price.product_id.in_({c.product_id for c in charges}),
        or_(*layers),
    )
    return list(session.scalars(stmt))


def candidate(price: Price, *, depth: int) -> PriceCandidate:
    """A stored price version as the resolver sees it."""
    return PriceCandidate(
        price_id=price.id,
        layer=PriceLayer(price.layer),
        currency=price.currency,
        effective_from=price.effective_from,
        model=PRICE_MODEL.validate_python(price.model),
        adjustments=tuple(ADJUSTMENTS.validate_python(price.adjustments)),
        # a price for one plan charge beats a product-wide one; a nearer tenant a farther one
        specificity=(int(price.charge_id is not None), depth),
        commitment=price.commitment,
    )


def resolve_charge_prices(
    session: Session,
    *,
    tenant_id: str,
    account_id: str | None,
    plan_id: str,
    currency: str,
    on: date,
    commitment: bool = False,
) -> dict[str, ResolvedPrice]:
    """The price of each charge of the plan (by charge code), in force on `on`.

    `commitment`: the subscription is within its commitment, so commitment prices apply.
    Raises InvalidInputError(field="currency") if a charge has no price in `currency` then.
    """
    chain = chain_ids(session, tenant_id)
    plan = _plan_in_chain(session, chain, plan_id, field="plan_id")
    if currency not in plan.currencies:
        raise InvalidInputError(
            f"plan {plan.code} is sold in {', '.join(plan.currencies)}, not {currency}",
            code=CatalogErrorCode.NO_PRICE,
            field="currency",
        )
    charges = plan_charges(session, plan.id)
    rows = _candidates(
        session, plan=plan, charges=charges, chain=chain, account_id=account_id, currency=currency
    )
    return _resolve_charges(
        plan, charges, rows, chain=chain, currency=currency, on=on, commitment=commitment
    )


def _resolve_charges(
    plan: Plan,
    charges: Sequence[PlanCharge],
    rows: Sequence[Price],
    *,
    chain: Sequence[str],
    currency: str,
    on: date,
    commitment: bool,
) -> dict[str, ResolvedPrice]:
    """The price of each charge among `rows` (the candidate prices of the plan's layers)."""
    depth = {t: i for i, t in enumerate(chain)}
    out: dict[str, ResolvedPrice] = {}
    for charge in charges:
        options = [
            candidate(p, depth=depth.get(p.tenant_id, len(chain)))
            for p in rows
            if p.product_id == charge.product_id and p.charge_id in (None, charge.id)
        ]
        resolved = resolve_price(options, on=on, currency=currency, commitment=commitment)
        if resolved is None:
            raise InvalidInputError(
                f"plan {plan.code} has no {currency} price for its charge {charge.code} on {on}",
                code=CatalogErrorCode.NO_PRICE,
                field="currency",
            )
        out[charge.code] = resolved
    return out


class PreloadedPrices:
    """The plans and prices a whole set of accounts of one tenant can use, loaded at once.

    Bill runs price thousands of subscriptions: this answers what `resolve_charge_prices`
    answers, from rows loaded by a handful of queries instead of a few per subscription.
    """

    def __init__(
        self,
        session: Session,
        *,
        tenant_id: str,
        plan_ids: Sequence[str],
        account_ids: Sequence[str],
        currencies: Sequence[str],
    ) -> None:
        self.chain = chain_ids(session, tenant_id)
        self._plans = {
            p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_(sorted(set(plan_ids)))))
        }
        self._charges: dict[str, list[PlanCharge]] = {pid: [] for pid in self._plans}
        for charge in session.scalars(
            select(PlanCharge)
            .where(PlanCharge.plan_id.in_(list(self._plans)))
            .order_by(PlanCharge.position)
        ):
            self._charges[charge.plan_id].append(charge)
        products = {c.product_id for cs in self._charges.values() for c in cs}
        base = select(Price).where(
            Price.currency.in_(sorted(set(currencies))), Price.product_id.in_(sorted(products))
        )
        self._shared = list(
            session.scalars(
                base.where(
                    or_(
                        and_(
                            Price.layer.in_([PriceLayer.DEFAULT, PriceLayer.BRAND]),
                            Price.tenant_id.in_(self.chain),
                        ),
                        and_(Price.layer == PriceLayer.PLAN, Price.plan_id.in_(list(self._plans))),
                    )
                )
            )
        )
        self._customer: dict[str, list[Price]] = {}
        customers = sorted(set(account_ids))
        for i in range(0, len(customers), 5000):
            stmt = base.where(
                Price.layer == PriceLayer.CUSTOMER, Price.account_id.in_(customers[i : i + 5000])
            )
            for price in session.scalars(stmt):
                self._customer.setdefault(str(price.account_id), []).append(price)
        self._snapshots: dict[str, PlanSnapshot] = {}
        self._changes: dict[tuple[str, str], list[date]] = {}
        self._resolved: dict[tuple[str, str | None, str, date, bool], dict[str, ResolvedPrice]] = {}
        self._session = session

    def plan(self, plan_id: str) -> PlanSnapshot:
        if plan_id not in self._snapshots:
            row = self._plans.get(plan_id)
            if row is None:
                raise _unknown_plan(plan_id, "plan_id")
            self._snapshots[plan_id] = snapshot(self._session, row)
        return self._snapshots[plan_id]

    def of_usage(self) -> bool:
        """Whether any price loaded is a percentage of usage (whose lines depend on the
        accounts' rated usage, which is then read)."""
        prices = [*self._shared, *(p for ps in self._customer.values() for p in ps)]
        return any(
            p.model.get("type") == "percentage" and p.model.get("of") in ("usage", ["usage"])
            for p in prices
        )

    def event_splits(self) -> list[EventSplit]:
        """The splits of the percentages of events loaded (`price_models.event_split`), each
        once: how their rated events are to be summed."""
        prices = [*self._shared, *(p for ps in self._customer.values() for p in ps)]
        out: list[EventSplit] = []
        for price in prices:
            if price.model.get("type") != "percentage" or price.model.get("of") not in (
                "events",
                ["events"],
            ):
                continue
            model = PRICE_MODEL.validate_python(price.model)
            if isinstance(model, Percentage) and event_split(model) not in out:
                out.append(event_split(model))
        return out

    def own_prices(self, account_id: str) -> str | None:
        """The account, if it has prices of its own (customer prices); None if it is priced
        like any other."""
        return account_id if account_id in self._customer else None

    def prices(
        self, plan_id: str, *, account_id: str, currency: str, on: date, commitment: bool
    ) -> dict[str, ResolvedPrice]:
        # accounts without prices of their own share one answer per plan, currency and day
        own = self.own_prices(account_id)
        key = (plan_id, own, currency, on, commitment)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(
                plan_id, account_id=own, currency=currency, on=on, commitment=commitment
            )
        return self._resolved[key]

    def _resolve(
        self, plan_id: str, *, account_id: str | None, currency: str, on: date, commitment: bool
    ) -> dict[str, ResolvedPrice]:
        plan = self._plans.get(plan_id)
        if plan is None:
            raise _unknown_plan(plan_id, "plan_id")
        if currency not in plan.currencies:
            raise InvalidInputError(
                f"plan {plan.code} is sold in {', '.join(plan.currencies)}, not {currency}",
                code=CatalogErrorCode.NO_PRICE,
                field="currency",
            )
        own = self._customer.get(account_id, []) if account_id else []
        rows = [p for p in [*self._shared, *own] if p.currency == currency and _applies(p, plan.id)]
        return _resolve_charges(
            plan,
            self._charges[plan.id],
            rows,
            chain=self.chain,
            currency=currency,
            on=on,
            commitment=commitment,
        )

    def price_changes(self, plan_id: str, currency: str) -> list[date]:
        """The days any price of the plan's products in `currency` starts (as the preview's
        `CatalogBook` reads them), one query per plan and currency."""
        key = (plan_id, currency)
        if key not in self._changes:
            products = {c.product_id for c in self._charges.get(plan_id, ())}
            self._changes[key] = sorted(
                set(
                    self._session.scalars(
                        select(Price.effective_from)
                        .where(Price.product_id.in_(sorted(products)), Price.currency == currency)
                        .distinct()
                    )
                )
            )
        return self._changes[key]


def _applies(price: Price, plan_id: str) -> bool:
    """Whether a loaded price is a candidate for the plan (as `_candidates` selects them)."""
    if price.layer == PriceLayer.DEFAULT:
        return True
    if price.layer == PriceLayer.PLAN:
        return price.plan_id == plan_id
    return price.plan_id in (None, plan_id)  # brand and customer layers


def included_quantities(session: Session, *, plan_id: str) -> dict[str, Decimal]:
    """What a subscription to the plan includes each period (e.g. ``voice_minutes: 500``)."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise _unknown_plan(plan_id, "plan_id")
    return decimals(plan.included)
