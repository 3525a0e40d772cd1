"""Checking a catalogue document against the database, into a draft of the writes it needs.

Nothing here writes: every reference is resolved and every rule checked first, so a bad
file is refused before anything is stored. Each error names the path in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account
from billstream.catalog.adjustments import Adjustment
from billstream.catalog.billable import ChargeShape, unbillable
from billstream.catalog.document import (
    BrandPrice,
    CatalogDocument,
    ChargeEntry,
    CustomerPrice,
    ListPrice,
    PlanEntry,
    PriceEntry,
    ProductEntry,
    Target,
)
from billstream.catalog.errors import CatalogErrorCode
from billstream.catalog.kinds import Outcome
from billstream.catalog.layers import PriceLayer
from billstream.catalog.models import Plan, PlanCharge, Price, Product
from billstream.catalog.price_models import Percentage, PriceModel
from billstream.catalog.service.pricing import ADJUSTMENTS, PRICE_MODEL
from billstream.catalog.service.visibility import nearest_by_code
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.core.ids import new_id
from billstream.core.money import validate_currency
from billstream.tenants.context import TenantContext
from billstream.tenants.inheritance import Version, in_force
from billstream.tenants.models import Tenant
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import lock_tenant


def decimal_text(value: Decimal) -> str:
    """One spelling per value (25.00 and 25.0 → "25"), so a re-applied file compares equal."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def decimal_texts(values: dict[str, Decimal]) -> dict[str, str]:
    return {key: decimal_text(value) for key, value in values.items()}


ID_PREFIXES: dict[type[Any], str] = {Product: "prd", Plan: "pln", PlanCharge: "chg"}


@dataclass
class Upsert:
    """A product, plan or charge as the file wants it, with the row it matches (if any)."""

    kind: str
    key: str
    model: type[Any]
    row: Any | None
    values: dict[str, Any]
    id: str = ""
    outcome: Outcome = Outcome.CREATED

    def __post_init__(self) -> None:
        if self.row is None:
            self.id = new_id(ID_PREFIXES[self.model])
            return
        self.id = self.row.id
        same = all(getattr(self.row, k) == v for k, v in self.values.items())
        self.outcome = Outcome.UNCHANGED if same else Outcome.CHANGED


@dataclass
class PriceDraft:
    path: str
    key: str
    tenant_id: str
    layer: PriceLayer
    product_id: str
    currency: str
    effective_from: date
    model: PriceModel
    adjustments: tuple[Adjustment, ...]
    plan_id: str | None = None
    charge_id: str | None = None
    account_id: str | None = None
    commitment: bool = False
    outcome: Outcome = Outcome.CREATED

    @property
    def series(self) -> str:
        parts = (
            self.layer,
            self.tenant_id,
            self.product_id,
            self.plan_id or "",
            self.charge_id or "",
            self.account_id or "",
            "commitment" if self.commitment else "",
            self.currency,
        )
        return "|".join(parts)

    def same_price(self, version: tuple[PriceModel, tuple[Adjustment, ...]]) -> bool:
        return (self.model, self.adjustments) == version


@dataclass
class Owner:
    """The tenant applying the file, and what its tree bills in."""

    tenant: Tenant
    scope: TenantScope
    chain: list[str]
    currency_of: dict[str, str]  # each tenant of the subtree: the currency it bills in
    parent_of: dict[str, str | None]

    def subtree(self, tenant_id: str) -> set[str]:
        out = {tenant_id}
        grew = True
        while grew:
            below = {t for t, p in self.parent_of.items() if p in out} - out
            out |= below
            grew = bool(below)
        return out

    def billed(self, tenant_id: str) -> list[str]:
        return sorted({self.currency_of[t] for t in self.subtree(tenant_id)})


@dataclass
class Draft:
    upserts: list[Upsert] = field(default_factory=list)
    prices: list[PriceDraft] = field(default_factory=list)


def load_owner(session: Session, ctx: TenantContext) -> Owner:
    tenant_id = ctx.tenant_id
    lock_tenant(session, tenant_id)  # one apply at a time per tenant
    tenant = session.get(Tenant, tenant_id)
    assert tenant is not None  # required by the scope, which only holds existing tenants
    ids = ctx.tree.subtree(tenant_id)
    rows = list(session.scalars(select(Tenant).where(Tenant.id.in_(sorted(ids)))))
    return Owner(
        tenant=tenant,
        scope=ctx.scope,
        chain=list(reversed(ctx.chain)),
        currency_of=_currencies(ctx, {t.id: t.currency for t in rows}),
        parent_of={t.id: (t.parent_id if t.id != tenant_id else None) for t in rows},
    )


def _currencies(ctx: TenantContext, own: dict[str, str | None]) -> dict[str, str]:
    """The currency each tenant of `own` (ctx's subtree: what each sets) bills in: the
    nearest up its chain that sets one, else the context tenant's (`tenants.inheritance`)."""
    versions = [
        Version(t, "currency", c) for t, c in own.items() if c is not None and t != ctx.tenant_id
    ]
    versions.append(Version(ctx.tenant_id, "currency", ctx.currency))
    return {t: in_force(ctx.tree, versions, t)["currency"].value for t in own}


def _currency(code: str, *, allowed: Sequence[str], path: str, what: str) -> str:
    currency = validate_currency(code, field=path)
    if currency not in allowed:
        raise InvalidInputError(
            f"{currency} is not a currency {what}: {', '.join(allowed)}",
            code=CatalogErrorCode.CURRENCY_NOT_BILLED,
            field=path,
        )
    return currency


def _duplicates(codes: Iterable[str], path: str) -> None:
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            raise InvalidInputError(
                f"{code!r} is declared twice", code=CatalogErrorCode.INVALID_FILE, field=path % i
            )
        seen.add(code)


class Planner:
    """Checks a document against the database and turns it into a `Draft` of writes."""

    def __init__(self, session: Session, owner: Owner, document: CatalogDocument) -> None:
        self.session = session
        self.owner = owner
        self.document = document
        self.draft = Draft()
        self.products: dict[str, str] = {  # code → id, inherited first, the file's own over it
            code: p.id for code, p in nearest_by_code(session, Product, owner.chain).items()
        }
        self.plans: dict[str, Plan] = nearest_by_code(session, Plan, owner.chain)
        self.plan_ids: dict[str, str] = {code: p.id for code, p in self.plans.items()}
        self.charges: dict[tuple[str, str], tuple[str, str]] = {}  # (plan, charge) → ids
        for plan in self.plans.values():
            for charge in session.scalars(select(PlanCharge).where(PlanCharge.plan_id == plan.id)):
                self.charges[(plan.code, charge.code)] = (charge.id, charge.product_id)

    @property
    def tenant_id(self) -> str:
        return self.owner.tenant.id

    def run(self) -> Draft:
        document = self.document
        _duplicates((p.code for p in document.products), "products[%d].code")
        _duplicates((p.code for p in document.plans), "plans[%d].code")
        for i, product in enumerate(document.products):
            self.product(product, i)
        for i, price in enumerate(document.price_list):
            self.list_price(price, i)
        for i, plan in enumerate(document.plans):
            self.plan(plan, i)
        for i, brand_price in enumerate(document.brand_prices):
            self.brand_price(brand_price, i)
        for i, customer_price in enumerate(document.customer_prices):
            self.customer_price(customer_price, i)
        self.version_prices()
        return self.draft

    # products and plans

    def _existing(self, model: type[Any], **where: str) -> Any | None:
        stmt = select(model).filter_by(**where)
        return self.session.scalar(stmt)

    def product(self, entry: ProductEntry, i: int) -> None:
        row = self._existing(Product, tenant_id=self.tenant_id, code=entry.code)
        values = entry.model_dump(mode="json", include={"code", "name", "kind", "characteristics"})
        values |= {"sellable_from": entry.sellable_from, "sellable_to": entry.sellable_to}
        upsert = Upsert("product", entry.code, Product, row, values)
        self.draft.upserts.append(upsert)
        self.products[entry.code] = upsert.id

    def product_id(self, code: str, path: str) -> str:
        if code not in self.products:
            raise InvalidInputError(
                f"unknown product {code!r}: declare it under products or in a parent's catalogue",
                code=CatalogErrorCode.UNKNOWN_PRODUCT,
                field=path,
            )
        return self.products[code]

    def plan(self, entry: PlanEntry, i: int) -> None:
        path = f"plans[{i}]"
        billed = self.owner.billed(self.tenant_id)
        currencies = [
            _currency(c, allowed=billed, path=f"{path}.currencies[{j}]", what=self._tree())
            for j, c in enumerate(entry.currencies)
        ]
        _duplicates(currencies, f"{path}.currencies[%d]")
        fees = {"setup_fee": entry.setup_fee, "early_termination_fee": entry.early_termination_fee}
        for name, amounts in fees.items():
            for code in amounts:
                _currency(
                    code,
                    allowed=currencies,
                    path=f"{path}.{name}.{code}",
                    what=f"plan {entry.code} is sold in",
                )
        if entry.early_termination_fee and not entry.commitment_months:
            raise InvalidInputError(
                "an early termination fee needs commitment_months",
                code=CatalogErrorCode.INVALID_FILE,
                field=f"{path}.early_termination_fee",
            )
        row = self._existing(Plan, tenant_id=self.tenant_id, code=entry.code)
        values = {
            "code": entry.code,
            "name": entry.name,
            "currencies": currencies,
            "sellable_from": entry.sellable_from,
            "sellable_to": entry.sellable_to,
            "trial_days": entry.trial_days,
            "commitment_months": entry.commitment_months,
            "setup_fees": decimal_texts(entry.setup_fee),
            "early_termination_fees": decimal_texts(entry.early_termination_fee),
            "included": decimal_texts(entry.included),
        }
        upsert = Upsert("plan", entry.code, Plan, row, values)
        self.draft.upserts.append(upsert)
        self.plan_ids[entry.code] = upsert.id
        self.charges = {k: v for k, v in self.charges.items() if k[0] != entry.code}
        if row is not None:
            for stored in self.session.scalars(
                select(PlanCharge).where(PlanCharge.plan_id == row.id)
            ):
                self.charges[(entry.code, stored.code)] = (stored.id, stored.product_id)
        _duplicates((c.code for c in entry.charges), f"{path}.charges[%d].code")
        for j, charge in enumerate(entry.charges):
            self.charge(entry, upsert, charge, f"{path}.charges[{j}]", j, currencies)

    def charge(
        self,
        plan: PlanEntry,
        plan_upsert: Upsert,
        entry: ChargeEntry,
        path: str,
        position: int,
        currencies: list[str],
    ) -> None:
        product_id = self.product_id(entry.product, f"{path}.product")
        row = (
            self._existing(PlanCharge, plan_id=plan_upsert.row.id, code=entry.code)
            if plan_upsert.row is not None
            else None
        )
        values = {
            "code": entry.code,
            "product_id": product_id,
            "name": entry.name or self._product_name(entry.product),
            "position": position,
            "timing": str(entry.timing),
            "cadence": str(entry.cadence),
            "addon": entry.addon,
            "tenant_id": self.tenant_id,
            "plan_id": plan_upsert.id,
        }
        upsert = Upsert("charge", f"{plan.code}/{entry.code}", PlanCharge, row, values)
        self.draft.upserts.append(upsert)
        self.charges[(plan.code, entry.code)] = (upsert.id, product_id)
        if entry.commitment_prices and not plan.commitment_months:
            raise InvalidInputError(
                "commitment prices need the plan's commitment_months",
                code=CatalogErrorCode.INVALID_FILE,
                field=f"{path}.commitment_prices",
            )
        for name, entries in (
            ("prices", entry.prices),
            ("commitment_prices", entry.commitment_prices),
        ):
            for k, price in enumerate(entries):
                at = f"{path}.{name}[{k}]"
                currency = _currency(
                    price.currency,
                    allowed=currencies,
                    path=f"{at}.currency",
                    what=f"plan {plan.code} is sold in",
                )
                self.add_price(
                    price,
                    at,
                    sold_as=(plan, entry.code),
                    key=f"{plan.code}/{entry.code}",
                    layer=PriceLayer.PLAN,
                    tenant_id=self.tenant_id,
                    product_id=product_id,
                    currency=currency,
                    plan_id=plan_upsert.id,
                    charge_id=upsert.id,
                    commitment=name == "commitment_prices",
                )

    def _product_name(self, code: str) -> str:
        for entry in self.document.products:
            if entry.code == code:
                return entry.name
        product = self.session.get(Product, self.products[code])
        assert product is not None
        return product.name

    def _tree(self) -> str:
        return f"{self.owner.tenant.slug}'s tree bills in"

    # prices

    def _product_kind(self, code: str) -> str:
        for entry in self.document.products:
            if entry.code == code:
                return str(entry.kind)
        known = self.products.get(code)  # an unknown product is refused at its own charge
        product = self.session.get(Product, known) if known is not None else None
        return str(product.kind) if product is not None else ""

    def _shapes(self, plan: PlanEntry) -> dict[str, ChargeShape]:
        return {
            c.code: ChargeShape(
                c.code,
                self._product_kind(c.product),
                str(c.timing),
                str(c.cadence),
                any(isinstance(x.model, Percentage) for x in (*c.prices, *c.commitment_prices)),
            )
            for c in plan.charges
        }

    def _check_billable(
        self, entry: PriceEntry, path: str, sold_as: tuple[PlanEntry, str] | None
    ) -> None:
        """Refuse a price no bill run could bill where it is put (`catalog.billable`)."""
        shapes = self._shapes(sold_as[0]) if sold_as else {}
        problem = unbillable(entry.model, shapes.get(sold_as[1]) if sold_as else None, shapes)
        if problem is not None:
            name, reason = problem
            raise InvalidInputError(
                reason, code=CatalogErrorCode.UNBILLABLE_PRICE, field=f"{path}.model.{name}"
            )

    def _plan_entry(self, entry: Target) -> tuple[PlanEntry, str] | None:
        """The plan of this file and the charge a brand or customer price is for, if any."""
        plan = next((p for p in self.document.plans if p.code == entry.plan), None)
        return (plan, entry.charge) if plan is not None and entry.charge is not None else None

    def add_price(
        self,
        entry: PriceEntry,
        path: str,
        *,
        key: str,
        sold_as: tuple[PlanEntry, str] | None = None,
        **where: Any,
    ) -> None:
        self._check_billable(entry, path, sold_as)
        effective = entry.effective_from or self.document.effective_from
        if effective is None:
            raise InvalidInputError(
                "give the date the price starts, here or as the file's effective_from",
                code=CatalogErrorCode.INVALID_FILE,
                field=f"{path}.effective_from",
            )
        self.draft.prices.append(
            PriceDraft(
                path=path,
                key=f"{key} {where['currency']} from {effective}",
                effective_from=effective,
                model=entry.model,
                adjustments=tuple(entry.adjustments),
                **where,
            )
        )

    def list_price(self, entry: ListPrice, i: int) -> None:
        path = f"price_list[{i}]"
        product_id = self.product_id(entry.product, f"{path}.product")
        billed = self.owner.billed(self.tenant_id)
        currency = _currency(
            entry.currency, allowed=billed, path=f"{path}.currency", what=self._tree()
        )
        self.add_price(
            entry,
            path,
            key=entry.product,
            layer=PriceLayer.DEFAULT,
            tenant_id=self.tenant_id,
            product_id=product_id,
            currency=currency,
        )

    def target(self, entry: Target, path: str) -> tuple[str, str | None, str | None, str]:
        """(product id, plan id, charge id, label) a brand or customer price is for."""
        if entry.product is not None:
            return self.product_id(entry.product, f"{path}.product"), None, None, entry.product
        assert entry.plan is not None  # checked by Target
        assert entry.charge is not None
        if entry.plan not in self.plan_ids:
            raise InvalidInputError(
                f"unknown plan {entry.plan!r}",
                code=CatalogErrorCode.UNKNOWN_PLAN,
                field=f"{path}.plan",
            )
        if (entry.plan, entry.charge) not in self.charges:
            raise InvalidInputError(
                f"plan {entry.plan} has no charge {entry.charge!r}",
                code=CatalogErrorCode.UNKNOWN_CHARGE,
                field=f"{path}.charge",
            )
        charge_id, product_id = self.charges[(entry.plan, entry.charge)]
        return product_id, self.plan_ids[entry.plan], charge_id, f"{entry.plan}/{entry.charge}"

    def brand_price(self, entry: BrandPrice, i: int) -> None:
        path = f"brand_prices[{i}]"
        brand = self.session.scalar(select(Tenant).where(Tenant.slug == entry.brand))
        below = (
            brand is not None and brand.id in self.owner.parent_of and brand.id != self.tenant_id
        )
        if brand is None or not below or not self.owner.scope.allows(brand.id):
            raise InvalidInputError(
                f"no brand {entry.brand!r} below {self.owner.tenant.slug}",
                code=CatalogErrorCode.UNKNOWN_BRAND,
                field=f"{path}.brand",
            )
        product_id, plan_id, charge_id, label = self.target(entry, path)
        billed = self.owner.billed(brand.id)
        what = f"brand {brand.slug}'s tree bills in"
        currency = _currency(entry.currency, allowed=billed, path=f"{path}.currency", what=what)
        self.add_price(
            entry,
            path,
            key=f"{label} for {brand.slug}",
            sold_as=self._plan_entry(entry),
            layer=PriceLayer.BRAND,
            tenant_id=brand.id,
            product_id=product_id,
            currency=currency,
            plan_id=plan_id,
            charge_id=charge_id,
        )

    def account(self, entry: CustomerPrice, path: str) -> Account:
        tenants = {t for t in self.owner.parent_of if self.owner.scope.allows(t)}
        if entry.tenant is not None:
            named = self.session.scalar(select(Tenant.id).where(Tenant.slug == entry.tenant))
            if named not in tenants:
                raise InvalidInputError(
                    f"no tenant {entry.tenant!r} in {self.owner.tenant.slug}'s tree",
                    code=CatalogErrorCode.UNKNOWN_ACCOUNT,
                    field=f"{path}.tenant",
                )
            tenants = {named}
        stmt = select(Account).where(
            Account.external_id == entry.account, Account.tenant_id.in_(sorted(tenants))
        )
        found = list(self.session.scalars(stmt))
        if not found:
            raise InvalidInputError(
                f"no account with external_id {entry.account!r}",
                code=CatalogErrorCode.UNKNOWN_ACCOUNT,
                field=f"{path}.account",
            )
        if len(found) > 1:
            raise InvalidInputError(
                f"external_id {entry.account!r} is used in {len(found)} tenants; name the tenant",
                code=CatalogErrorCode.UNKNOWN_ACCOUNT,
                field=f"{path}.tenant",
            )
        return found[0]

    def customer_price(self, entry: CustomerPrice, i: int) -> None:
        path = f"customer_prices[{i}]"
        account = self.account(entry, path)
        product_id, plan_id, charge_id, label = self.target(entry, path)
        what = f"account {entry.account} is billed in"
        allowed = [account.currency]
        currency = _currency(entry.currency, allowed=allowed, path=f"{path}.currency", what=what)
        self.add_price(
            entry,
            path,
            key=f"{label} for {entry.account}",
            sold_as=self._plan_entry(entry),
            layer=PriceLayer.CUSTOMER,
            tenant_id=account.tenant_id,
            product_id=product_id,
            currency=currency,
            plan_id=plan_id,
            charge_id=charge_id,
            account_id=account.id,
        )

    def version_prices(self) -> None:
        """Decide for each price: a new series, a new version, or what is already stored."""
        drafts = self.draft.prices
        versions: dict[str, dict[date, tuple[PriceModel, tuple[Adjustment, ...]]]] = {}
        series = sorted({d.series for d in drafts})
        for row in self.session.scalars(select(Price).where(Price.series.in_(series))):
            stored = (
                PRICE_MODEL.validate_python(row.model),
                tuple(ADJUSTMENTS.validate_python(row.adjustments)),
            )
            versions.setdefault(row.series, {})[row.effective_from] = stored
        declared: dict[tuple[str, date], str] = {}
        for draft in sorted(drafts, key=lambda d: (d.series, d.effective_from)):
            known = versions.setdefault(draft.series, {})
            if (draft.series, draft.effective_from) in declared:
                raise InvalidInputError(
                    f"this price from {draft.effective_from} is also declared at "
                    f"{declared[(draft.series, draft.effective_from)]}",
                    code=CatalogErrorCode.INVALID_FILE,
                    field=draft.path,
                )
            declared[(draft.series, draft.effective_from)] = draft.path
            draft.outcome = _price_outcome(draft, known)
            known[draft.effective_from] = (draft.model, draft.adjustments)


def _price_outcome(
    draft: PriceDraft, known: dict[date, tuple[PriceModel, tuple[Adjustment, ...]]]
) -> Outcome:
    if draft.effective_from in known:
        if draft.same_price(known[draft.effective_from]):
            return Outcome.UNCHANGED
        raise ConflictError(
            f"a different version of this price already starts on {draft.effective_from}; "
            "a change needs a new effective_from",
            code=CatalogErrorCode.VERSION_CLASH,
            field=f"{draft.path}.effective_from",
        )
    earlier = [d for d in known if d < draft.effective_from]
    if earlier and draft.same_price(known[max(earlier)]):
        return Outcome.UNCHANGED  # the version in force on that date already says so
    return Outcome.CHANGED if known else Outcome.CREATED
