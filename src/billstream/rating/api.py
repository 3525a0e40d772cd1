"""Rating runs and rated usage over REST."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from pydantic import BaseModel, Field

from billstream.api.context import Context, Paging
from billstream.api.pages import PageOut
from billstream.api.routing import TransactionalRoute
from billstream.core.bounds import Day
from billstream.core.errors import InvalidInputError
from billstream.core.inputs import Instant
from billstream.core.money import to_micros
from billstream.rating import service
from billstream.rating.allowances import Tier
from billstream.rating.card_file import csv_dict_rows
from billstream.rating.models import MAX_CARRIER_LENGTH, CardKind, MarginRule, RatingRun, RatingTier
from billstream.rating.rater import RoundingMode, RoundingRules
from billstream.rating.schemas import (
    CardImportOut,
    CardRowError,
    MarginRuleCreate,
    MarginRuleEnd,
    MarginRuleInForceOut,
    MarginRuleOut,
    RatedUsageOut,
    RatingRunCreate,
    RatingRunOut,
    RoundingRuleCreate,
    RoundingRuleInForceOut,
    RoundingRuleOut,
    TierOut,
    TiersCreate,
    TierSetInForceOut,
    TierSetOut,
)
from billstream.rating.service.margin import MAX_GROUPS, MarginBy, MarginGroup, margin_report
from billstream.tenants.inheritance import instant

runs = APIRouter(prefix="/rating/runs", tags=["rating"], route_class=TransactionalRoute)
rated_usage = APIRouter(prefix="/rated-usage", tags=["rating"], route_class=TransactionalRoute)
rules = APIRouter(prefix="/rating/rules", tags=["rating"], route_class=TransactionalRoute)
tiers = APIRouter(prefix="/rating/tiers", tags=["rating"], route_class=TransactionalRoute)
margin_rules = APIRouter(
    prefix="/rating/margin-rules", tags=["rating"], route_class=TransactionalRoute
)
cards = APIRouter(prefix="/rating/cards", tags=["rating"], route_class=TransactionalRoute)
OnDay = Annotated[
    Day | None,
    Query(description="The tenant's local date, read at its midnight; default today"),
]


@cards.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Import a rate card CSV (multipart) as the card's next version",
)
def import_card(
    ctx: Context,
    file: Annotated[UploadFile, File(description="The card's CSV (docs/rating.md)")],
    name: Annotated[
        str,
        Form(
            min_length=1,
            max_length=100,
            description="The card; the same name again is a new version",
        ),
    ],
    kind: Annotated[CardKind, Form(description="retail (customers) or cost (a carrier)")],
    tenant_id: Annotated[str | None, Form(description="Default: the key's tenant")] = None,
    effective_from: Annotated[Day | None, Form(description="Local date; default today")] = None,
    currency: Annotated[str | None, Form(description="Default: the tenant's")] = None,
    account_id: Annotated[
        str | None, Form(description="Retail: the customer of special rates; cost: the vendor")
    ] = None,
    carrier: Annotated[
        str | None,
        Form(max_length=MAX_CARRIER_LENGTH, description="Cost: the usage's carrier name"),
    ] = None,
) -> CardImportOut:
    """Bad rows are listed by line and column and the others are imported. No row left, or
    rows of one prefix, usage type and band whose windows overlap: 422, nothing written."""
    report = service.import_rate_card(
        ctx.session,
        clock=ctx.clock,
        ctx=ctx.tenant(tenant_id),
        name=name,
        kind=kind,
        rows=csv_dict_rows(file.file.read()),
        source=file.filename or "upload",
        effective_from=effective_from,
        currency=currency,
        account_id=account_id,
        carrier=carrier,
    )
    errors = [CardRowError(line=e.line, column=e.column, reason=e.reason) for e in report.errors]
    if report.version_id is None or report.version is None:
        shown = "; ".join(f"line {e.line} {e.column}: {e.reason}" for e in errors[:5])
        raise InvalidInputError(f"no row could be imported ({shown})", field="file")
    return CardImportOut(
        card_id=report.card_id,
        version_id=report.version_id,
        version=report.version,
        rows=report.rows,
        imported=report.imported,
        errors=errors,
    )


def _out(run: RatingRun) -> RatingRunOut:
    return RatingRunOut(
        id=run.id,
        tenant_id=run.tenant_id,
        account_id=run.account_id,
        period_start=run.period_start,
        period_end=run.period_end,
        version=run.version,
        currency=run.currency,
        rated=run.rated,
        rejected=run.rejected,
        superseded=run.superseded,
        retail_micros=run.retail_micros,
        cost_micros=run.cost_micros,
        superseded_micros=run.superseded_micros,
        difference_micros=run.retail_micros - run.superseded_micros,
        created_at=run.created_at,
    )


@runs.post("", status_code=status.HTTP_201_CREATED, summary="Rate (or re-rate) a period")
def create_run(ctx: Context, body: RatingRunCreate, request: Request) -> RatingRunOut:
    tenant = ctx.tenant(body.tenant_id)
    run = service.rate_period(
        ctx.session,
        clock=ctx.clock,
        ctx=tenant,
        request=service.RatingRequest(
            tenant_id=tenant.tenant_id,
            start=body.period_start,
            end=body.period_end,
            account_id=body.account_id,
            rerate=body.rerate,
        ),
        data_dir=request.app.state.runtime.settings.data_dir,
    )
    return _out(run)


@runs.get("/{run_id}", summary="A rating run: counts, amounts, and the re-rating difference")
def get_run(ctx: Context, run_id: str) -> RatingRunOut:
    return _out(service.get_run(ctx.session, scope=ctx.scope, run_id=run_id))


@rated_usage.get("", summary="Rated records with their lineage")
def list_rated_usage(
    ctx: Context,
    page: Paging,
    run_id: str | None = None,
    account_id: str | None = None,
    started_from: Instant | None = None,
    started_before: Instant | None = None,
    current: bool = True,
) -> PageOut[RatedUsageOut]:
    result = service.list_rated_usage(
        ctx.session,
        scope=ctx.scope,
        cursor=page.cursor,
        limit=page.limit,
        run_id=run_id,
        account_id=account_id,
        started_from=started_from,
        started_before=started_before,
        current=current,
    )
    return PageOut(
        data=[RatedUsageOut.model_validate(r) for r in result.items],
        next_cursor=result.next_cursor,
    )


@rules.post("", status_code=status.HTTP_201_CREATED, summary="Set a tenant's rounding rules")
def create_rule(ctx: Context, body: RoundingRuleCreate) -> RoundingRuleOut:
    rule = service.set_rounding_rule(
        ctx.session,
        clock=ctx.clock,
        ctx=ctx.tenant(body.tenant_id),
        rules=RoundingRules(
            first_s=body.first_s,
            next_s=body.next_s,
            free_below_s=body.free_below_s,
            mode=RoundingMode(body.mode),
            charge_attempts=body.charge_attempts,
            split_bands=body.split_bands,
        ),
        usage_type=body.usage_type,
        effective_from=body.effective_from,
    )
    return RoundingRuleOut.model_validate(rule)


@rules.get("", summary="A tenant's own rounding rules (its brands inherit them)")
def list_rules(ctx: Context, tenant_id: str | None = None) -> PageOut[RoundingRuleOut]:
    found = service.list_rounding_rules(ctx.session, ctx=ctx.tenant(tenant_id))
    return PageOut(data=[RoundingRuleOut.model_validate(r) for r in found], next_cursor=None)


@rules.get(
    "/in-force", summary="The rounding rules in force for a tenant on a day, and who set them"
)
def rules_in_force(
    ctx: Context, tenant_id: str | None = None, on: OnDay = None
) -> PageOut[RoundingRuleInForceOut]:
    """Per usage type (null: every usage type), the rules of the nearest tenant up the
    tenant's chain in force then, with their window and the tenant that set them."""
    found = service.rounding_rules_on(
        ctx.session, clock=ctx.clock, ctx=ctx.tenant(tenant_id), on=on
    )
    data = [
        RoundingRuleInForceOut(
            usage_type=r.key,
            rule_id=r.value.id,
            free_below_s=r.value.free_below_s,
            first_s=r.value.first_s,
            next_s=r.value.next_s,
            mode=r.value.mode,
            charge_attempts=r.value.charge_attempts,
            split_bands=r.value.split_bands,
            source=r.source,
            effective_from=r.value.effective_from,
            valid_to=instant(r.valid_to),
        )
        for r in found
    ]
    return PageOut(data=data, next_cursor=None)


def micros_of(rate: Decimal, field: str) -> int:
    """A money rate as integer micro-units; more than 6 decimal places is refused."""
    try:
        return to_micros(rate)
    except ValueError:
        raise InvalidInputError("a rate has at most 6 decimal places", field=field) from None


def _tier_sets(rows: list[RatingTier]) -> list[TierSetOut]:
    sets: dict[str, TierSetOut] = {}
    for row in rows:
        out = sets.setdefault(
            row.set_id,
            TierSetOut(
                set_id=row.set_id,
                tenant_id=row.tenant_id,
                usage_type=row.usage_type,
                effective_from=row.effective_from,
                tiers=[],
            ),
        )
        out.tiers.append(TierOut(from_quantity=row.from_quantity, rate_micros=row.rate_micros))
    return list(sets.values())


@tiers.post("", status_code=status.HTTP_201_CREATED, summary="Set a usage type's period tiers")
def create_tiers(ctx: Context, body: TiersCreate) -> TierSetOut:
    tenant = ctx.tenant(body.tenant_id)
    set_id = service.set_tiers(
        ctx.session,
        clock=ctx.clock,
        ctx=tenant,
        usage_type=body.usage_type,
        tiers=[
            Tier(t.from_quantity, micros_of(t.rate, f"tiers[{i}].rate"))
            for i, t in enumerate(body.tiers)
        ],
        effective_from=body.effective_from,
    )
    rows = service.list_tiers(ctx.session, ctx=tenant)
    [created] = _tier_sets([r for r in rows if r.set_id == set_id])
    return created


@tiers.get("", summary="A tenant's own tier sets (its brands inherit them)")
def list_tiers(ctx: Context, tenant_id: str | None = None) -> PageOut[TierSetOut]:
    rows = service.list_tiers(ctx.session, ctx=ctx.tenant(tenant_id))
    return PageOut(data=_tier_sets(rows), next_cursor=None)


@tiers.get("/in-force", summary="The tier sets in force for a tenant on a day, and who set them")
def tiers_in_force(
    ctx: Context, tenant_id: str | None = None, on: OnDay = None
) -> PageOut[TierSetInForceOut]:
    """Per usage type, the tier set of the nearest tenant up the tenant's chain in force
    then, with its window and the tenant that set it."""
    found = service.tier_sets_on(ctx.session, clock=ctx.clock, ctx=ctx.tenant(tenant_id), on=on)
    data = [
        TierSetInForceOut(
            usage_type=r.key,
            set_id=r.value.set_id,
            tiers=[TierOut(from_quantity=t.from_quantity, rate_micros=t.rate_micros)
                   for t in r.value.tiers],
            source=r.source,
            effective_from=instant(r.effective_from),
            valid_to=instant(r.valid_to),
        )
        for r in found
    ]  # fmt: skip
    return PageOut(data=data, next_cursor=None)


def _margin_rule_out(rule: MarginRule) -> MarginRuleOut:
    out = MarginRuleOut.model_validate(rule)
    if rule.percent is None:  # an end
        return out
    # the same figure from both databases: PostgreSQL hands back 12.5000000000
    return out.model_copy(update={"percent": Decimal(f"{rule.percent.normalize():f}")})


@margin_rules.post(
    "", status_code=status.HTTP_201_CREATED, summary="Set a margin rule: retail = cost + x %"
)
def create_margin_rule(ctx: Context, body: MarginRuleCreate) -> MarginRuleOut:
    """Price the records no customer special rate and no retail card rates at their carrier
    cost plus `percent`, at least cost + `min_margin` per minute (unit). The longest `prefix`
    wins, then a rule of the record's usage type; a brand's own rules before its parent's."""
    rule = service.set_margin_rule(
        ctx.session,
        clock=ctx.clock,
        ctx=ctx.tenant(body.tenant_id),
        percent=body.percent,
        usage_type=body.usage_type,
        prefix=body.prefix,
        min_margin_micros=(
            None if body.min_margin is None else micros_of(body.min_margin, "min_margin")
        ),
        effective_from=body.effective_from,
    )
    return _margin_rule_out(rule)


@margin_rules.post(
    "/end", status_code=status.HTTP_201_CREATED, summary="End a margin rule from a date"
)
def end_margin_rule(ctx: Context, body: MarginRuleEnd) -> MarginRuleOut:
    """End the rule of `usage_type` and `prefix` from `effective_from`: records from then on
    fall to the next rule that matches them (a shorter prefix, the parent's), or none. The
    end is listed with the rules, without a percent. 409 if no such rule is in force then."""
    end = service.end_margin_rule(
        ctx.session,
        clock=ctx.clock,
        ctx=ctx.tenant(body.tenant_id),
        usage_type=body.usage_type,
        prefix=body.prefix,
        effective_from=body.effective_from,
    )
    return _margin_rule_out(end)


@margin_rules.get("", summary="A tenant's own margin rules (its brands inherit them)")
def list_margin_rules(ctx: Context, tenant_id: str | None = None) -> PageOut[MarginRuleOut]:
    found = service.list_margin_rules(ctx.session, ctx=ctx.tenant(tenant_id))
    return PageOut(data=[_margin_rule_out(r) for r in found], next_cursor=None)


@margin_rules.get(
    "/in-force", summary="The margin rules in force for a tenant on a day, and who set them"
)
def margin_rules_in_force(
    ctx: Context, tenant_id: str | None = None, on: OnDay = None
) -> PageOut[MarginRuleInForceOut]:
    """Per usage type and prefix (null: all), the rule of the nearest tenant up the tenant's
    chain in force then (an ended rule is absent), with its window and who set it."""
    found = service.margin_rules_on(ctx.session, clock=ctx.clock, ctx=ctx.tenant(tenant_id), on=on)
    data = [
        MarginRuleInForceOut(
            usage_type=r.value.usage_type,
            prefix=r.value.prefix,
            rule_id=r.value.id,
            percent=Decimal(f"{(r.value.percent or Decimal(0)).normalize():f}"),
            min_margin_micros=r.value.min_margin_micros,
            source=r.source,
            effective_from=r.value.effective_from,
            valid_to=instant(r.valid_to),
        )
        for r in found
    ]
    return PageOut(data=data, next_cursor=None)


# --- margin of dual rating ----------------------------------------------------------------

margin = APIRouter(prefix="/rating/margin", tags=["rating"], route_class=TransactionalRoute)


class MarginGroupOut(BaseModel):
    """One group of the margin report (the totals: key and label null)."""

    key: str | None = Field(description="carrier, matched prefix or account id")
    label: str | None = Field(description="the destination's description or the account's name")
    currency: str
    records: int
    uncosted: int = Field(description="records without a cost (no cost card): cost counted 0")
    billed_s: int
    billed_minutes: str = Field(description="billed_s / 60, exact, as a decimal string")
    billed_units: int
    retail_micros: int
    cost_micros: int
    margin_micros: int = Field(description="retail_micros - cost_micros")


class MarginReportOut(BaseModel):
    tenant_id: str
    group_by: str
    groups: list[MarginGroupOut] = Field(description="largest margin first, at most `limit`")
    totals: list[MarginGroupOut] = Field(description="over every group, one per currency")
    truncated: bool = Field(description="more groups exist than `limit`")


def _group_out(group: MarginGroup) -> MarginGroupOut:
    return MarginGroupOut(
        key=group.key,
        label=group.label,
        currency=group.currency,
        records=group.records,
        uncosted=group.uncosted,
        billed_s=group.billed_s,
        billed_minutes=f"{group.billed_minutes.normalize():f}",
        billed_units=group.billed_units,
        retail_micros=group.retail_micros,
        cost_micros=group.cost_micros,
        margin_micros=group.margin_micros,
    )


@margin.get("", summary="Margin (retail - cost) per carrier, destination or customer")
def get_margin(
    ctx: Context,
    group_by: MarginBy = MarginBy.CUSTOMER,
    start: Annotated[
        Day | None, Query(alias="from", description="First local day; default: all")
    ] = None,
    end: Annotated[
        Day | None, Query(alias="to", description="First local day not counted; default: all")
    ] = None,
    tenant_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_GROUPS)] = 1_000,
) -> MarginReportOut:
    """Current rated records of the period (superseded rows and rejects left out), grouped.
    Groups come largest margin first, at most `limit` (no cursor: an aggregate);
    `truncated` says more exist, and `totals` always cover them all."""
    report = margin_report(
        ctx.session,
        ctx=ctx.tenant(tenant_id),
        group_by=group_by,
        start=start,
        end=end,
        limit=limit,
    )
    return MarginReportOut(
        tenant_id=report.tenant_id,
        group_by=report.group_by.value,
        groups=[_group_out(g) for g in report.groups],
        totals=[_group_out(g) for g in report.totals],
        truncated=report.truncated,
    )
