"""What is due for a set of paying accounts at a close: loaded set-based, assembled per payer.

One call handles a chunk of payers (a thousand, say) with a fixed number of queries whatever
the chunk's size: the payers' trees (a query per level), the accounts, subscriptions and
their changes, the catalogue's plans and prices (`PreloadedPrices`), the rated usage summed by
the database (`usage_due`), what earlier invoices already charged, and the tax rules. Then
each payer's invoice is assembled by the pure core; a payer whose assembly fails is reported
with its error and the others go on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account, BillingMode
from billstream.billing.assembly import (
    Charge,
    InvoiceDraft,
    UsageAggregate,
    assemble_invoice,
    usage_charges,
)
from billstream.billing.closing import ONE_DAY, due_by
from billstream.billing.errors import BillingErrorCode
from billstream.billing.models import InvoiceLine
from billstream.billing.service.tax_rates import tax_rate_versions
from billstream.billing.service.usage_due import (
    UsageRuns,
    chunked,
    event_totals,
    usage_amounts,
    usage_due,
)
from billstream.billing.taxes import PercentageByJurisdiction, TaxRule, jurisdiction_of
from billstream.catalog.price_models import EventSplit, EventTotals
from billstream.catalog.service.pricing import PreloadedPrices
from billstream.core.errors import BillstreamError, InvalidInputError
from billstream.core.money import Money, minor_unit
from billstream.core.proration import ProratedLine
from billstream.db.lists import among
from billstream.rating.allowances import Tier
from billstream.rating.service import tiers_in_force
from billstream.subscriptions.charges import (
    Charged,
    ChargeLine,
    LineKind,
    Usage,
    billable_lines,
)
from billstream.subscriptions.models import Subscription
from billstream.subscriptions.service.book import PreloadedBook
from billstream.subscriptions.service.facts import facts_of
from billstream.subscriptions.service.subscriptions import changes_of
from billstream.subscriptions.timeline import PlanTerms
from billstream.tenants.inheritance import in_force
from billstream.tenants.service import ancestor_chain, settings_of
from billstream.tenants.tree import TenantTree

# Charges are invoiced by difference with what earlier invoices charged; usage of rating
# periods, and recurring periods (one-time charges and fees dated then), that started more
# than this before the close are not billed or looked at again, so a run's work per account
# does not grow with its age. A change or re-rating backdated further is corrected by a
# credit note.
LOOKBACK = timedelta(days=400)
STAND_IN = "\x00"  # the subscription id in a shape's lines; its changes' ids add their index
# what a run reads of a subscription's row (as `facts_of` and the shape key need it)
SUBSCRIPTION_COLUMNS = (
    Subscription.id, Subscription.account_id, Subscription.plan_id, Subscription.currency,
    Subscription.start_date, Subscription.billing_anchor, Subscription.trial_end,
    Subscription.commitment_end, Subscription.created_at,
)  # fmt: skip
# an account's rated events, split and summed for each percentage of events (see `_billable`)
AccountEvents = Mapping[EventSplit, Mapping[date, EventTotals]]
USAGE_NAMES = {"voice": "Calls", "sms": "SMS", "data": "Data", "chat": "Chat", "ivr": "IVR"}


@dataclass(frozen=True, slots=True)
class PayerPeriod:
    """A paying account and the period of its invoice, closing on `period_end - 1 day`."""

    account_id: str
    period_start: date
    period_end: date


@dataclass(frozen=True, slots=True)
class Failure:
    account_id: str
    code: str
    message: str


@dataclass(slots=True)
class DueResult:
    drafts: dict[str, InvoiceDraft] = field(default_factory=dict)  # by payer; none if nothing due
    failures: dict[str, Failure] = field(default_factory=dict)
    due_dates: dict[str, date] = field(default_factory=dict)
    # by payer: the (account, rating run) pairs its invoice settles (see `UsageRuns`)
    settled_runs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    payer: str
    parent_id: str | None
    name: str
    currency: str
    jurisdiction: str | None


def members_of(session: Session, payers: Sequence[str]) -> dict[str, Member]:
    """Each payer and the accounts billed to it (down its tree, to the next paying account).

    Read a level of the trees at a time, so the number of queries grows with the trees'
    depth, not with the accounts. (Not a recursive query: PostgreSQL misjudges the size of
    its levels and hashes the whole accounts table for each chunk; docs/performance.md.)"""
    out: dict[str, Member] = {}
    level = {p: p for p in payers}  # the accounts of the level to read, and their payers
    top = True
    while level:
        below: dict[str, str] = {}
        for row in _accounts_of_level(session, list(level), top=top):
            if row.id in out:
                continue  # a cycle in the tree: each account once
            below[row.id] = payer = level[row.id if top else row.parent_id]
            out[row.id] = Member(
                id=row.id,
                payer=payer,
                parent_id=row.parent_id,
                name=row.name,
                currency=row.currency,
                jurisdiction=jurisdiction_of(row.service_address or row.billing_address),
            )
        level, top = below, False
    return out


def _accounts_of_level(session: Session, ids: Sequence[str], *, top: bool) -> list[Any]:
    """The accounts `ids` (`top`), or those billed to one of them."""
    columns = (Account.id, Account.parent_id, Account.name, Account.currency,
               Account.service_address, Account.billing_address)  # fmt: skip
    rows: list[Any] = []
    for chunk in chunked(ids):
        stmt = select(*columns)
        if top:
            stmt = stmt.where(among(session, Account.id, chunk))
        else:
            stmt = stmt.where(
                among(session, Account.parent_id, chunk),
                Account.billing_mode == BillingMode.BILLED_TO_PARENT,
            )
        rows += session.connection().execute(stmt).all()
    return rows


def source_order(payer: str, members: Sequence[Member]) -> list[str]:
    """The payer, then its billed sub-accounts depth first, siblings by name (SPEC C2)."""
    children: dict[str | None, list[Member]] = {}
    for member in members:
        children.setdefault(member.parent_id, []).append(member)
    order: list[str] = []
    stack = [payer]
    while stack:
        current = stack.pop()
        order.append(current)
        kids = sorted(children.get(current, ()), key=lambda m: (m.name, m.id), reverse=True)
        stack += [k.id for k in kids if k.id != payer]
    return order


def _as_charge(
    line: ChargeLine,
    account_id: str,
    key: str,
    last_change: int,
    ids: Mapping[str, str] | None = None,
) -> Charge:
    """`line` as a charge; `last_change`: the `seq` of the subscription's last change known
    when it was computed (see `Invoiced.settled`); `ids` reads the stand-in ids of a shape's
    lines (see `DueLoader._billable`). A percentage of usage or events says so in its lineage
    (`on_usage`): its period is never settled."""
    subscription_id, source = line.subscription_id, line.source
    if ids:
        subscription_id, source = ids[subscription_id], ids.get(source, source)
    lineage: dict[str, Any] = {
        "period": [line.period.start.isoformat(), line.period.end.isoformat()],
        "days": line.days,
        "period_days": line.period_days,
        "fraction": str(line.fraction),
        "layer": line.layer,
        "timing": line.timing,
        "source": source,
        "changes_seen": last_change,
    }
    if line.on_usage:
        lineage["on_usage"] = True
    return Charge(
        source_account_id=account_id,
        kind=line.kind,
        description=line.description,
        line_key=key,
        quantity=line.quantity,
        unit_price=line.unit_price,
        amount=Money(line.amount, line.currency),
        service_start=line.start,
        service_end=line.end,
        subscription_id=subscription_id,
        charge=line.charge,
        lineage=lineage,
    )


def line_key(line: ChargeLine, subscription_id: str, source: str) -> str:
    return (
        f"sub:{subscription_id}:{line.charge}:{line.kind}:{line.period.start.isoformat()}:"
        f"{line.start.isoformat()}:{line.end.isoformat()}:{source}"
    )


@dataclass(slots=True)
class Invoiced:
    """What invoices charged a chunk's subscriptions (see `invoiced_lines`)."""

    charged: dict[str, dict[tuple[str, date], list[ProratedLine]]] = field(default_factory=dict)
    # by subscription and (charge, period start): the period's end, and the last change the
    # latest computation of its lines knew (None: lines written before it was recorded)
    seen: dict[str, dict[tuple[str, date], tuple[date, int | None]]] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)  # of one-time lines and fees

    def settled(self, subscription_id: str, changes: Sequence[Any]) -> set[tuple[str, date]]:
        """The periods no change can have altered since their lines were last computed: no
        change recorded after it (a higher `seq`) takes effect before the period ends."""
        out = set()
        for key, (end, seen) in self.seen.get(subscription_id, {}).items():
            if seen is not None and all(c.effective >= end for c in changes if c.seq > seen):
                out.add(key)
        return out


def invoiced_lines(session: Session, subscription_ids: Sequence[str], since: date) -> Invoiced:
    """What invoices charged each subscription in periods starting on or after `since`: its
    recurring lines (credits negative) as prorated lines by charge and period, the base
    `billable_lines` bills the difference from, and the last change each period's lines knew;
    and the keys of its one-time lines and fees, charged once. Found by subscription (an
    index), so the cost does not grow with the tenant's invoices, and from `since` on, so
    it does not grow with the subscription's age."""
    out = Invoiced()
    charged, seen, keys = out.charged, out.seen, out.keys
    recurring = (LineKind.RECURRING, LineKind.CREDIT)
    for chunk in chunked(subscription_ids):
        rows = session.connection().execute(
            select(
                InvoiceLine.subscription_id,
                InvoiceLine.kind,
                InvoiceLine.line_key,
                InvoiceLine.charge,
                InvoiceLine.service_start,
                InvoiceLine.service_end,
                InvoiceLine.quantity,
                InvoiceLine.unit_price,
                InvoiceLine.amount,
                InvoiceLine.lineage,
            )
            .where(
                among(session, InvoiceLine.subscription_id, chunk),
                InvoiceLine.subscription_id.is_not(None),  # the index is partial
                InvoiceLine.service_start >= since,
            )
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        )
        for sid, kind, key, charge, start, end, quantity, price, amount, lineage in rows.all():
            if kind not in recurring:
                keys.add(key)
                continue
            line = ProratedLine(
                start=start,
                end=end,
                quantity=quantity,
                unit_price=price,
                days=int(lineage["days"]),
                period_days=int(lineage["period_days"]),
                fraction=Fraction(lineage["fraction"]),
                amount=amount,
                source=str(lineage["source"]),
            )
            period = (charge, date.fromisoformat(lineage["period"][0]))
            charged.setdefault(sid, {}).setdefault(period, []).append(line)
            if lineage.get("on_usage"):
                continue  # a percentage of usage or events: never settled (may be re-rated)
            # the latest computation of the period's lines knew the most changes
            marks = seen.setdefault(sid, {})
            before = marks.get(period, (None, None))[1]
            known = [k for k in (before, lineage.get("changes_seen")) if k is not None]
            marks[period] = (date.fromisoformat(lineage["period"][1]), max(known, default=None))
    return out


def tax_rules(session: Session, tree: TenantTree, tenant_id: str, on: date) -> list[TaxRule]:
    """The tax rules in force for `tenant_id` on `on` (inherited configuration keyed by
    jurisdiction and name): per key, the rate of the nearest tenant up its chain that has one
    in force that day. A rate ends at its `effective_to` unless the next one starts then."""
    versions = tax_rate_versions(session, tree, tenant_id)
    found = sorted(in_force(tree, versions, tenant_id, on).values(), key=lambda r: r.version)
    return [
        TaxRule(r.id, r.jurisdiction, r.name, r.rate, r.effective_from, r.effective_to)
        for r in (resolved.value for resolved in found)
    ]


class DueLoader:
    """Loads and assembles the invoices of chunks of payers of one tenant at one close."""

    def __init__(self, session: Session, *, tenant_id: str, close: date) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.close = close
        chain = ancestor_chain(session, tenant_id)
        tree = TenantTree.of_chain(t.id for t in chain)
        self.settings = settings_of(chain)
        self.zone = ZoneInfo(self.settings.timezone)
        self.cutoff = datetime.combine(close + ONE_DAY, datetime.min.time(), tzinfo=self.zone)
        self.since = close - LOOKBACK  # the look-back horizon of recurring charges
        self.calculator = PercentageByJurisdiction(tax_rules(session, tree, tenant_id, close))
        self.tiers: dict[str, list[Tier]] = tiers_in_force(session, tree, tenant_id, self.cutoff)
        self._terms: dict[tuple[str, str], PlanTerms] = {}
        self._shapes: dict[tuple[Any, ...], list[ChargeLine]] = {}  # see `_billable`

    def places(self, currency: str) -> int:
        precision = self.settings.line_precision
        return precision if precision is not None else minor_unit(currency)

    def load(self, payers: Sequence[PayerPeriod]) -> DueResult:
        result = DueResult()
        if not payers:
            return result
        session = self.session
        members = members_of(session, [p.account_id for p in payers])
        by_payer: dict[str, list[Member]] = {}
        for member in members.values():
            by_payer.setdefault(member.payer, []).append(member)
        accounts = list(members)
        subscriptions = [
            s
            for chunk in chunked(accounts)
            for s in session.connection()
            .execute(
                select(*SUBSCRIPTION_COLUMNS).where(among(session, Subscription.account_id, chunk))
            )
            .all()
        ]
        changes = changes_of(session, [s.id for s in subscriptions])
        plans = {c.plan_id for cs in changes.values() for c in cs if c.plan_id} | {
            s.plan_id for s in subscriptions
        }
        prices = PreloadedPrices(
            session,
            tenant_id=self.tenant_id,
            plan_ids=sorted(plans),
            account_ids=accounts,
            currencies=sorted({s.currency for s in subscriptions}),
        )
        invoiced = invoiced_lines(session, [s.id for s in subscriptions], self.since)
        # the bases of percentages of usage and of events, if the catalogue has any
        splits = prices.event_splits()
        since, until, zone = self.cutoff - LOOKBACK, self.cutoff, self.zone
        rated = (
            usage_amounts(session, tenant_id=self.tenant_id, accounts=accounts, since=since,
                          until=until, zone=zone)
            if prices.of_usage()
            else {}
        )  # fmt: skip
        split_events = {
            split: event_totals(session, split, tenant_id=self.tenant_id, accounts=accounts,
                                since=since, until=until, zone=zone)
            for split in splits
        }  # fmt: skip
        charges: dict[str, list[Charge]] = {p.account_id: [] for p in payers}
        for subscription in sorted(subscriptions, key=lambda s: (s.created_at, s.id)):
            payer = members[subscription.account_id].payer
            if payer in result.failures:
                continue
            try:
                charges[payer] += self._subscription_charges(
                    subscription,
                    changes[subscription.id],
                    prices,
                    members,
                    invoiced,
                    rated.get(subscription.account_id, {}),
                    {
                        s: by[subscription.account_id]
                        for s, by in split_events.items()
                        if subscription.account_id in by
                    },
                )
            except Exception as exc:  # a bad account never stops a run
                result.failures[payer] = _failure(payer, exc, subscription=subscription.id)
        for payer, items in charges.items():
            charges[payer] = [c for c in items if c.line_key not in invoiced.keys]
        usage: dict[str, list[UsageAggregate]] = {}
        runs = UsageRuns.of(session, self.tenant_id, accounts, since=self.cutoff - LOOKBACK,
                            until=self.cutoff)  # fmt: skip
        for account, run_ids in runs.to_settle.items():
            payer = members[account].payer
            result.settled_runs.setdefault(payer, []).extend((account, r) for r in run_ids)
        for aggregate in usage_due(session, runs, tenant_id=self.tenant_id, zone=self.zone):
            payer = members[aggregate.source_account_id].payer
            try:
                self._check_currency(
                    members, aggregate.source_account_id, payer, aggregate.currency
                )
            except BillstreamError as exc:
                result.failures.setdefault(payer, _failure(payer, exc))
                continue
            usage.setdefault(payer, []).append(aggregate)
        for payer, aggregates in usage.items():
            charges[payer] += usage_charges(
                aggregates,
                currency=members[payer].currency,
                places=self.places(members[payer].currency),
                tiers=self.tiers,
                names=USAGE_NAMES,
            )
        terms = dict(
            session.execute(
                select(Account.id, Account.payment_terms_days).where(
                    among(session, Account.id, [p.account_id for p in payers])
                )
            ).all()
        )
        for period in payers:
            payer = period.account_id
            if payer in result.failures or not charges[payer]:
                continue
            try:
                result.drafts[payer] = self._assemble(period, charges[payer], by_payer[payer])
                result.due_dates[payer] = self.close + timedelta(days=terms[payer])
            except Exception as exc:  # a bad account never stops a run
                result.failures[payer] = _failure(payer, exc)
        return result

    def _check_currency(
        self, members: dict[str, Member], source: str, payer: str, currency: str | None
    ) -> None:
        wanted = members[payer].currency
        have = currency if currency is not None else members[source].currency
        if have != wanted:
            raise InvalidInputError(
                f"account {source} bills in {have}, but the account paying for it, {payer}, "
                f"in {wanted}",
                code=BillingErrorCode.CURRENCY_MISMATCH,
                field="currency",
            )

    def _subscription_charges(
        self,
        subscription: Any,  # a row of subscriptions (its columns as attributes)
        changes: Sequence[Any],
        prices: PreloadedPrices,
        members: dict[str, Member],
        invoiced: Invoiced,
        usage: Usage,
        events: AccountEvents,
    ) -> list[Charge]:
        payer = members[subscription.account_id].payer
        self._check_currency(members, subscription.account_id, payer, subscription.currency)
        sid = subscription.id
        charged = invoiced.charged.get(sid, {})
        settled = invoiced.settled(sid, changes) if charged else set()
        lines, ids = self._billable(subscription, changes, prices, charged, settled, usage, events)
        taken = {key: len(lines) for key, lines in charged.items()}
        last_change = max((c.seq for c in changes), default=0)
        seen: dict[str, int] = {}
        out = []
        for line in lines:
            if not due_by(line, self.close):
                continue
            recurring = line.kind in (LineKind.RECURRING, LineKind.CREDIT)
            if not recurring and line.start < self.since:
                continue  # before the look-back horizon: its key was not read
            if recurring:
                # by difference with what was invoiced: the n-th line ever of this period
                n = taken.get((line.charge, line.period.start), 0)
                taken[(line.charge, line.period.start)] = n + 1
                key = f"sub:{sid}:{line.charge}:{line.period.start}:{n}"
            else:
                key = line_key(line, sid, ids.get(line.source, line.source))
                seen[key] = seen.get(key, 0) + 1
                if seen[key] > 1:
                    key = f"{key}#{seen[key]}"
            out.append(_as_charge(line, subscription.account_id, key, last_change, ids))
        return out

    def _billable(
        self,
        subscription: Any,
        changes: Sequence[Any],
        prices: PreloadedPrices,
        charged: Charged,
        settled: set[tuple[str, date]],
        usage: Usage,
        events: AccountEvents,
    ) -> tuple[list[ChargeLine], dict[str, str]]:
        """The subscription's billable lines, and how to read their stand-in ids (none when
        the lines carry the real ones).

        Subscriptions of one shape (currency, dates, the changes' kinds, days, quantities and
        plans, and the same prices: no customer prices of their own) have the same lines but
        for the ids of the subscription and of its changes (a line's `source`). A chunk of a
        thousand payers has thousands of subscriptions and a few hundred shapes, so a shape's
        lines are computed once, with stand-in ids. That holds too for subscriptions whose
        invoiced periods are all `settled` (not prorated again: their lines do not depend on
        what was charged), the settled periods part of the shape: a month-end run after the
                first. A subscription with a period to prorate again is computed on its own."""
        own = prices.own_prices(subscription.account_id)
        facts = None
        if len(settled) == len(charged):  # settled is a subset of charged's periods
            shape = (
                subscription.currency,
                subscription.start_date,
                subscription.billing_anchor,
                subscription.trial_end,
                subscription.commitment_end,
                own,
                tuple((c.seq, c.kind, c.effective, c.quantity, c.plan_id) for c in changes),
                tuple(sorted(settled)),
                # the account's usage, read when a loaded price is a percentage of it
                tuple(sorted(usage.items())),
                tuple((split, tuple(sorted(days.items()))) for split, days in events.items()),
            )
            ids = {STAND_IN: subscription.id} | {
                f"{STAND_IN}{i}": c.id for i, c in enumerate(changes)
            }
            known = self._shapes.get(shape)
            if known is not None:
                return known, ids
            stand_ins = [replace(c, id=f"{STAND_IN}{i}") for i, c in enumerate(changes)]
            facts = replace(facts_of(subscription, stand_ins, self.settings), id=STAND_IN)
        book = PreloadedBook(
            prices,
            account_id=subscription.account_id,
            currency=subscription.currency,
            commitment_end=subscription.commitment_end,
            terms=self._terms,
        )
        lines = billable_lines(
            facts or facts_of(subscription, changes, self.settings),
            book,
            until=self.close + ONE_DAY,
            places=self.places(subscription.currency),
            charged=charged,
            settled=settled,
            since=self.since,
            usage=usage,
            events=lambda split: events.get(split, {}),
        )
        if facts is None:
            return lines, {}
        self._shapes[shape] = lines
        return lines, ids

    def _assemble(
        self, period: PayerPeriod, charges: list[Charge], members: Sequence[Member]
    ) -> InvoiceDraft:
        payer = period.account_id
        currency = next(m.currency for m in members if m.id == payer)
        return assemble_invoice(
            account_id=payer,
            currency=currency,
            period_start=period.period_start,
            period_end=period.period_end,
            charges=charges,
            source_order=source_order(payer, members),
            jurisdictions={m.id: m.jurisdiction for m in members},
            calculator=self.calculator,
            on=self.close,
            places=self.places(currency),
        )


def _failure(account_id: str, exc: Exception, *, subscription: str | None = None) -> Failure:
    code = getattr(exc, "code", None) or type(exc).__name__
    where = f"subscription {subscription}: " if subscription else ""
    return Failure(account_id, str(code), f"{where}{exc}")
