"""Applying a catalogue file: check everything first, then write only what changed.

Products, plans and charges are matched by code and updated in place when the file changes
them (they describe what is sold, not what was charged). Prices are versions: a price the
file changes becomes a new row from the file's date and the old version is kept. Items the
file leaves out are kept; retire them with `sellable_to`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from billstream.catalog.document import CatalogDocument
from billstream.catalog.kinds import Outcome
from billstream.catalog.models import Price
from billstream.catalog.service.drafting import Draft, Owner, Planner, load_owner
from billstream.catalog.service.pricing import ADJUSTMENTS, PRICE_MODEL
from billstream.core.clock import Clock
from billstream.core.ids import new_id
from billstream.tenants.context import TenantContext


@dataclass(frozen=True, slots=True)
class AppliedItem:
    kind: str  # product, plan, charge, price
    key: str  # what it is, e.g. "numbers-monthly/numbers USD from 2026-01-01"
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """What applying a file did, item by item, in the file's order."""

    tenant_id: str
    items: tuple[AppliedItem, ...]

    def count(self, outcome: Outcome, kind: str | None = None) -> int:
        return sum(1 for i in self.items if i.outcome == outcome and kind in (None, i.kind))

    @property
    def created(self) -> int:
        return self.count(Outcome.CREATED)

    @property
    def changed(self) -> int:
        return self.count(Outcome.CHANGED)

    @property
    def unchanged(self) -> int:
        return self.count(Outcome.UNCHANGED)

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(i.kind for i in self.items))


# --- writing --------------------------------------------------------------------------------


def _write(session: Session, clock: Clock, owner: Owner, draft: Draft) -> None:
    now = clock.now()
    for kind in ("product", "plan", "charge"):  # in foreign-key order
        for upsert in (u for u in draft.upserts if u.kind == kind):
            if upsert.outcome == Outcome.CREATED:
                values = {"tenant_id": owner.tenant.id, **upsert.values}
                session.add(upsert.model(id=upsert.id, created_at=now, updated_at=now, **values))
            elif upsert.outcome == Outcome.CHANGED:
                row = upsert.row
                assert row is not None  # a changed item is a stored one
                for key, value in upsert.values.items():
                    setattr(row, key, value)
                row.updated_at = now
        session.flush()
    for price in draft.prices:
        if price.outcome != Outcome.UNCHANGED:
            session.add(
                Price(
                    id=new_id("prc"),
                    tenant_id=price.tenant_id,
                    series=price.series,
                    layer=price.layer,
                    product_id=price.product_id,
                    plan_id=price.plan_id,
                    charge_id=price.charge_id,
                    account_id=price.account_id,
                    commitment=price.commitment,
                    currency=price.currency,
                    effective_from=price.effective_from,
                    model=PRICE_MODEL.dump_python(price.model, mode="json"),
                    adjustments=ADJUSTMENTS.dump_python(list(price.adjustments), mode="json"),
                    created_at=now,
                )
            )
    session.flush()


def apply_catalog(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    document: CatalogDocument,
) -> ApplyReport:
    """Apply a catalogue document to `ctx`'s tenant's catalogue; nothing is written on an error.

    Applying the same document again changes nothing. Raises InvalidInputError naming the
    path in the file (``plans[0].charges[1].product``), NotFoundError for a tenant outside
    `ctx`'s scope, ConflictError when a price version of the same date would change.
    """
    owner = load_owner(session, ctx)
    draft = Planner(session, owner, document).run()
    outcomes = [(u.kind, u.key, u.outcome) for u in draft.upserts]
    outcomes += [("price", p.key, p.outcome) for p in draft.prices]
    _write(session, clock, owner, draft)
    return ApplyReport(
        tenant_id=ctx.tenant_id, items=tuple(AppliedItem(k, key, o) for k, key, o in outcomes)
    )


__all__ = [
    "AppliedItem",
    "ApplyReport",
    "Outcome",
    "apply_catalog",
]
