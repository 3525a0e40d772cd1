"""Rating a billing period: dual (retail and cost) rating, allowances, re-rating versions.

`rate_period` fetches what the pure core needs (accepted usage from mediation, the rates in
force, the rounding rules, period tiers and margin rules the tenant owns or inherits, the
plans' included quantities), computes with `rater.rate`, `allowances.consume_allowances`,
`allowances.apply_tiers` and, last, `margin_pricing.price_by_margin` on the records no card
rated (so they are outside included quantities and tiers, which price card rates), and
persists one `RatingRun` and its rated rows. Rating a
period that already has current rated rows is refused unless it is a re-rating: then the
earlier rows of the same records are marked superseded by the new run, so nothing is charged
twice, and the run records what the replaced rows had charged, so the difference shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from billstream.accounts.service import account_of_tenant
from billstream.catalog.service import included_quantities
from billstream.core.clock import Clock
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.core.ids import new_id
from billstream.core.limits import check_day
from billstream.mediation.service import accepted_usage_batches
from billstream.rating.allowances import ALLOWANCE_SCHEMA, Tier, apply_tiers, consume_allowances
from billstream.rating.margin_pricing import COST_QUANTITIES, price_by_margin
from billstream.rating.models import RatedUsage, RatingRun
from billstream.rating.rater import TIME_USAGE, Card, RoundingRules, compile_card, rate
from billstream.rating.service.cards import cost_rates, local_midnight, retail_rates
from billstream.rating.service.margin_rules import margin_rule_versions, margin_rules_in_force
from billstream.rating.service.rules import rule_versions, rules_in_force, tier_sets_in_force
from billstream.rating.service.storage import ParquetCopy, rated_usage_rows, store_rated_rows
from billstream.subscriptions.models import Subscription
from billstream.tenants.context import TenantContext
from billstream.tenants.inheritance import Version, in_force
from billstream.tenants.tree import TenantTree

__all__ = ["RatingRequest", "rate_period"]

COST_COLUMNS = {
    "rate_id": "cost_rate_id",
    "card_version_id": "cost_card_version_id",
    "matched_prefix": "cost_prefix",
    "amount_micros": "cost_micros",
}


@dataclass(frozen=True)
class RatingRequest:
    tenant_id: str
    start: date  # first local day rated
    end: date  # first local day not rated
    account_id: str | None = None
    rerate: bool = False
    rules: RoundingRules | None = None  # None: the tenant's own or inherited rules


BATCH_RECORDS = 100_000  # accepted records rated at once: memory grows with it, not the period


def rate_period(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    request: RatingRequest,
    data_dir: Path | None = None,
    batch_records: int = BATCH_RECORDS,
) -> RatingRun:
    """Rate the tenant's accepted usage of ``[start, end)`` (local days), for one account or
    all, as a new rating version. See the module docstring for re-rating.

    The period is rated and stored in batches of whole accounts, each of about
    `batch_records` records (one account with more is a batch of its own; see
    `accepted_usage_batches`): memory holds one batch, whatever the size of the period. An
    account is never split, because its allowances and tiers run over its whole period in
    time order."""
    tenant_id = ctx.require(request.tenant_id)
    check_day(request.start, field="from")
    check_day(request.end, field="to")
    if request.account_id is not None:  # another tenant's account reads as an unknown one
        account_of_tenant(session, ctx=ctx, account_id=request.account_id, field="account_id")
    if request.end <= request.start:
        raise InvalidInputError("the period must end after it starts", field="to")
    timezone = ctx.timezone
    start = local_midnight(request.start, timezone)
    end = local_midnight(request.end, timezone)
    current = _current_rows(session, tenant_id, start, end, request.account_id)
    if current[0] and not request.rerate:
        raise ConflictError(
            f"{current[0]} records of this period are already rated; re-rate to replace them",
            field="from",
        )
    pricing = _Pricing.load(session, ctx, request, start=start, end=end)
    run = RatingRun(
        id=new_id("rr"),
        tenant_id=tenant_id,
        account_id=request.account_id,
        period_start=start,
        period_end=end,
        version=_next_version(session, tenant_id, start, end),
        currency=pricing.currency,
        rated=0,
        rejected=0,
        superseded=current[0],
        retail_micros=0,
        cost_micros=0,
        superseded_micros=current[1],
        parquet_path=None,
        created_at=clock.now(),
    )
    session.add(run)
    session.flush()
    if current[0]:
        _supersede(session, tenant_id, start, end, request.account_id, run.id)
    batches = accepted_usage_batches(
        session, scope=ctx.scope, start=start, end=end, account_id=request.account_id,
        size=batch_records,
    )  # fmt: skip
    copy = ParquetCopy(data_dir, tenant_id=tenant_id, run_id=run.id) if data_dir else None
    try:
        _rate_batches(session, run, pricing, batches, copy)
    except BaseException:
        if copy is not None:
            copy.discard()
        raise
    session.flush()
    return run


def _rate_batches(
    session: Session,
    run: RatingRun,
    pricing: _Pricing,
    batches: Iterable[pl.LazyFrame],
    copy: ParquetCopy | None,
) -> None:
    """Rate and store each batch of usage, adding up the run's counts and amounts."""
    stored = 0
    for batch in batches:
        usage = batch.filter(pl.col("tenant_id") == run.tenant_id)
        rated = pricing.rated(usage).collect()
        rows = rated_usage_rows(rated, run_id=run.id, currency=run.currency, first_row=stored)
        store_rated_rows(session, rows)
        stored += rows.height
        accepted = rows.filter(pl.col("reject_reason").is_null())
        run.rated += accepted.height
        run.rejected += rows.height - accepted.height
        run.retail_micros += int(accepted["amount_micros"].sum())
        run.cost_micros += int(accepted["cost_micros"].fill_null(0).sum())
        if copy is not None:
            copy.add(rows)
    if copy is not None:
        run.parquet_path = str(copy.finish())


@dataclass(frozen=True, slots=True)
class _CostCard:
    """A carrier's cost card in force for the tenant: compiled, with its currency (None:
    several), or the conflict its owner's cards make (raised if a record needs it)."""

    card: Card | None
    currency: str | None
    conflict: ConflictError | None = None


@dataclass(frozen=True)
class _Pricing:
    """What rating the period needs besides its usage, all read before the first batch."""

    tenant_id: str
    zone: str
    retail: Card
    currency: str
    rules: RoundingRules | pl.DataFrame
    allowances: pl.LazyFrame
    tiers: dict[str, tuple[str, list[Tier]]]  # by usage type: its set's id and tiers
    margin_rules: pl.DataFrame
    cost_cards: dict[str, _CostCard]  # by carrier: the nearest tenant's card

    @classmethod
    def load(
        cls,
        session: Session,
        ctx: TenantContext,
        request: RatingRequest,
        *,
        start: datetime,
        end: datetime,
    ) -> _Pricing:
        tenant_id, tree = ctx.tenant_id, ctx.tree
        retail, currency = retail_rates(session, tenant_id=tenant_id, start=start, end=end)
        tenants = [tenant_id]
        return cls(
            tenant_id=tenant_id,
            zone=ctx.timezone,
            retail=compile_card(retail),
            currency=currency or ctx.currency,
            rules=request.rules
            or rules_in_force(tree, rule_versions(session, tree, tenants), tenants),
            allowances=_allowances(session, tenant_id, request.start, request.end),
            tiers=tier_sets_in_force(session, tree, tenant_id, start),
            margin_rules=margin_rules_in_force(
                tree, margin_rule_versions(session, tree, tenants), tenants
            ),
            cost_cards=_cost_cards(session, tree, tenant_id, start=start, end=end),
        )

    def rated(self, usage: pl.LazyFrame) -> pl.LazyFrame:
        """Rate `usage` (whole accounts): retail card, allowances, tiers, cost, margin."""
        rated = rate(usage, self.retail, timezone=self.zone, rules=self.rules)
        rated = consume_allowances(rated, self.allowances)
        rated = rated.with_columns(pl.lit(None, pl.String).alias("tier_set_id"))
        for usage_type, (set_id, tiers) in sorted(self.tiers.items()):
            rated = apply_tiers(rated, tiers, usage_type=usage_type, set_id=set_id)
        margins = not self.margin_rules.is_empty()
        cards = self._cost_cards(usage)
        rated = _with_cost(usage, rated, cards, timezone=self.zone, quantities=margins)
        if margins:  # without rules, no record pays for them
            rated = price_by_margin(rated, self.margin_rules)
        return rated

    def _cost_cards(self, usage: pl.LazyFrame) -> dict[str, Card]:
        """The cost card of each carrier of `usage` in the run's currency (the others have no
        margin to take)."""
        found = usage.select(pl.col("carrier").unique()).collect()["carrier"].drop_nulls()
        cards: dict[str, Card] = {}
        for carrier in sorted(found.to_list()):
            cost = self.cost_cards.get(carrier)
            if cost is not None and cost.conflict is not None:
                raise cost.conflict  # once: it ends the run
            if cost is not None and cost.card is not None and cost.currency == self.currency:
                cards[carrier] = cost.card
        return cards


def _cost_cards(
    session: Session, tree: TenantTree, tenant_id: str, *, start: datetime, end: datetime
) -> dict[str, _CostCard]:
    """Each carrier's cost card for the period: the tenant's own, else its nearest
    ancestor's (inherited configuration, keyed by carrier). A parent company that buys the
    traffic from the carriers for its brands keeps one cost card per carrier, in its own
    (vendor) tenant, and each brand's calls are costed on it. Compiled once, for every carrier
    of the chain; an owner whose card has no rate in the period does not count."""
    versions: list[Version[str, _CostCard]] = []
    found = cost_rates(session, tenant_ids=tree.chain(tenant_id), start=start, end=end)
    for (owner, carrier), rates in sorted(found.items()):
        if isinstance(rates, ConflictError):
            versions.append(Version(owner, carrier, _CostCard(None, None, rates)))
            continue
        compiled = compile_card(rates[0])
        if not compiled.rates.is_empty():
            versions.append(Version(owner, carrier, _CostCard(compiled, rates[1])))
    return {carrier: r.value for carrier, r in in_force(tree, versions, tenant_id).items()}


def _current_rows(
    session: Session, tenant_id: str, start: datetime, end: datetime, account_id: str | None
) -> tuple[int, int]:
    """How many current (not superseded) rated rows the period has, and what they charged."""
    stmt = select(func.count(), func.coalesce(func.sum(RatedUsage.amount_micros), 0)).where(
        *_period(tenant_id, start, end, account_id)
    )
    count, amount = session.execute(stmt).one()
    return int(count), int(amount)


def _period(
    tenant_id: str, start: datetime, end: datetime, account_id: str | None
) -> list[ColumnElement[bool]]:
    # through the tenant's runs that overlap the period: rated_usage is indexed by run
    runs = select(RatingRun.id).where(
        RatingRun.tenant_id == tenant_id,
        RatingRun.period_start < end,
        RatingRun.period_end > start,
    )
    where = [
        RatedUsage.run_id.in_(runs),
        RatedUsage.tenant_id == tenant_id,
        RatedUsage.started_at >= start,
        RatedUsage.started_at < end,
        RatedUsage.superseded_by.is_(None),
    ]
    if account_id is not None:
        where.append(RatedUsage.account_id == account_id)
    return where


def _supersede(
    session: Session,
    tenant_id: str,
    start: datetime,
    end: datetime,
    account_id: str | None,
    run_id: str,
) -> None:
    session.execute(
        update(RatedUsage)
        .where(*_period(tenant_id, start, end, account_id))
        .values(superseded_by=run_id)
        .execution_options(synchronize_session=False)
    )


def _next_version(session: Session, tenant_id: str, start: datetime, end: datetime) -> int:
    latest = session.scalar(
        select(func.max(RatingRun.version)).where(
            RatingRun.tenant_id == tenant_id,
            RatingRun.period_start == start,
            RatingRun.period_end == end,
        )
    )
    return int(latest or 0) + 1


def _allowances(session: Session, tenant_id: str, start: date, end: date) -> pl.LazyFrame:
    """Each account's included quantities for the period, from its subscriptions' plans:
    ``voice_minutes: 500`` → 30,000 voice seconds; ``sms: 100`` → 100 sms units."""
    subscriptions = session.execute(
        select(Subscription.account_id, Subscription.plan_id).where(
            Subscription.tenant_id == tenant_id,
            Subscription.start_date < end,
            (Subscription.cancelled_at.is_(None)) | (Subscription.cancelled_at > start),
        )
    ).all()
    rows: list[tuple[str, str, int]] = []
    plans: dict[str, dict[str, Decimal]] = {}
    for account_id, plan_id in subscriptions:
        if plan_id not in plans:
            plans[plan_id] = included_quantities(session, plan_id=plan_id)
        for key, quantity in plans[plan_id].items():
            usage_type, _, unit = key.rpartition("_")
            if unit == "minutes" and usage_type in TIME_USAGE:
                rows.append((account_id, usage_type, int(quantity * 60)))
            elif unit == "seconds" and usage_type in TIME_USAGE:
                rows.append((account_id, usage_type, int(quantity)))
            else:
                rows.append((account_id, key.removesuffix("_units"), int(quantity)))
    frame = pl.DataFrame(rows, schema=ALLOWANCE_SCHEMA, orient="row")
    return frame.group_by("account_id", "usage_type").agg(pl.col("included").sum()).lazy()


def _with_cost(
    usage: pl.LazyFrame,
    rated: pl.LazyFrame,
    cards: dict[str, Card],
    *,
    timezone: str,
    quantities: bool = False,
) -> pl.LazyFrame:
    """Add each record's cost, rated with its carrier's cost card from `cards` (null: no
    card, or a card in another currency, where no margin can be taken); with `quantities`,
    also the cost's billed quantity and increments (`margin_pricing.COST_QUANTITIES`), for
    margin rules."""
    extra = COST_QUANTITIES if quantities else {}
    taken = {**COST_COLUMNS, **extra}
    costs: list[pl.LazyFrame] = []
    for carrier, card in cards.items():
        costed = rate(usage.filter(pl.col("carrier") == carrier), card, timezone=timezone)
        costs.append(
            costed.filter(pl.col("reject_reason").is_null())
            .select("record_key", *taken)
            .rename(taken)
            .cast(
                {
                    "cost_rate_id": pl.String,
                    "cost_card_version_id": pl.String,
                    "cost_prefix": pl.String,
                }
            )
        )
    if not costs:
        return rated.with_columns(
            pl.lit(None, pl.String).alias(c) for c in COST_COLUMNS.values()
        ).with_columns(
            pl.col("cost_micros").cast(pl.Int64),
            *(pl.lit(None, pl.Int64).alias(c) for c in extra.values()),
        )
    return rated.join(pl.concat(costs), on="record_key", how="left", maintain_order="left")
