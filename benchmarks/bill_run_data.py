"""A provider's January for the bill-run benchmark: deterministic, written in bulk.

What one call of `build_provider` writes for a tenant of `accounts` accounts (seeded):
- through the real services (small): the tenant (USD, UTC), its catalogue (four plans, one
  with a setup fee, two billed in advance), a voice and SMS rate card of 24 destinations, and
  the accounts (`import_accounts`, itself one bulk insert): 70% of the groups are standalone
  payers, 30% are trees of a payer and 1-4 sub-accounts billed to it (some two levels deep);
  half the accounts have a Californian service address (7.25% sales tax), a few a British one
  (20% VAT, a second tax rule);
- in bulk, row for row what `create_subscription` and `change_subscription` write: 1-5
  subscriptions per account (2% of standalone payers have none and no usage: nothing due),
  ordered on Dec 20 to start on Jan 1 (10% on a later January day), each with its `create`
  change; 20% of the per-unit ones change quantity on a mid-January day (a second change);
- one rating run of the tenant for January (UTC) and its rated records through the rating
  service's own bulk path (`store_rated_rows`: COPY on PostgreSQL, executemany on SQLite):
  5-20 records per account that has subscriptions, 85% voice calls and 15% SMS over 24
  destinations, about 1% rejected (no rate), which billing must leave out.
`check_rows_like_services` proves the bulk rows equal what the services write.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account, BillingMode
from billstream.accounts.schemas import AccountCreate
from billstream.accounts.service import create_account, import_accounts
from billstream.billing.models import TaxRate
from billstream.catalog.models import Plan
from billstream.catalog.service import apply_catalog, load_catalog_yaml
from billstream.core.clock import FakeClock
from billstream.core.ids import new_id
from billstream.rating.models import CardKind, Rate, RatingRun
from billstream.rating.service.cards import import_rate_card
from billstream.rating.service.storage import rated_usage_rows, store_rated_rows
from billstream.subscriptions.cycles import billing_anchor
from billstream.subscriptions.lifecycle import ChangeKind, ChangeTiming, SubscriptionStatus
from billstream.subscriptions.models import Subscription, SubscriptionChange
from billstream.subscriptions.schemas import ChangeCreate, SubscriptionCreate
from billstream.subscriptions.service import CLI_ACTOR, change_subscription, create_subscription
from billstream.tenants.service import create_tenant, operator_context, operator_scope

ORDERED = datetime(2025, 12, 20, 12, tzinfo=UTC)  # when the orders were placed
MONTH = date(2026, 1, 1)
MONTH_START = datetime(2026, 1, 1, tzinfo=UTC)
MONTH_END = datetime(2026, 2, 1, tzinfo=UTC)
CLOSE = date(2026, 1, 31)
CATALOG = """\
effective_from: 2025-01-01
products:
  - {code: number, name: Business number, kind: recurring}
  - {code: seat, name: Hosted PBX seat, kind: recurring}
  - {code: trunk, name: SIP trunk, kind: recurring}
  - {code: fax, name: Cloud fax, kind: recurring}
plans:
  - code: numbers
    name: Business numbers
    currencies: [USD]
    charges:
      - code: number
        product: number
        timing: arrears
        prices: [{currency: USD, model: {type: per_unit, unit_price: 5.00}}]
  - code: seats
    name: PBX seats
    currencies: [USD]
    setup_fee: {USD: 25.00}
    charges:
      - code: seat
        product: seat
        timing: advance
        prices: [{currency: USD, model: {type: per_unit, unit_price: 12.50}}]
  - code: trunk
    name: SIP trunk
    currencies: [USD]
    charges:
      - code: trunk
        product: trunk
        timing: arrears
        prices: [{currency: USD, model: {type: flat, amount: 30.00}}]
  - code: fax
    name: Cloud fax
    currencies: [USD]
    charges:
      - code: fax
        product: fax
        timing: advance
        prices: [{currency: USD, model: {type: flat, amount: 9.99}}]
"""
PER_UNIT_PLANS = ("numbers", "seats")
PLANS = ("numbers", "numbers", "seats", "trunk", "fax")  # drawn with these weights
DESTINATIONS = [
    ("1", "United States"),
    ("1212", "United States - New York"),
    ("1415", "United States - San Francisco"),
    ("44", "United Kingdom"),
    ("447", "United Kingdom - Mobile"),
    ("33", "France"),
    ("336", "France - Mobile"),
    ("49", "Germany"),
    ("4915", "Germany - Mobile"),
    ("34", "Spain"),
    ("39", "Italy"),
    ("31", "Netherlands"),
    ("61", "Australia"),
    ("81", "Japan"),
    ("86", "China"),
    ("91", "India"),
    ("52", "Mexico"),
    ("55", "Brazil"),
    ("65", "Singapore"),
    ("971", "United Arab Emirates"),
    ("27", "South Africa"),
    ("353", "Ireland"),
    ("46", "Sweden"),
    ("48", "Poland"),
]


@dataclass(frozen=True, slots=True)
class Provider:
    """What was generated, and what a correct close of January must produce."""

    tenant_id: str
    accounts: int
    payers: list[str]  # every paying account, by id
    billable: set[str]  # the payers whose tree has something to bill
    subscriptions: int
    changes: int
    rated_rows: int


@dataclass(frozen=True, slots=True)
class Order:
    account_id: str
    plan: str
    quantity: int
    start: date
    change: tuple[date, int] | None  # a quantity change: (effective, new quantity)


def build_provider(session: Session, clock: FakeClock, *, accounts: int, seed: int) -> Provider:
    """A tenant with `accounts` accounts, their orders and January's rated usage (flushed)."""
    rng = random.Random(seed)
    clock.set(ORDERED)
    tenant_id = provider_tenant(session, clock, slug=f"bench-{seed}-{rng.randrange(10**9)}")
    plans = dict(
        session.execute(select(Plan.code, Plan.id).where(Plan.tenant_id == tenant_id)).all()
    )
    created = _accounts(session, clock, tenant_id, accounts, rng)
    orders = [o for account in created for o in _orders(account, rng)]
    subscriptions, changes = bulk_orders(session, tenant_id, orders, plans, created, clock.now())
    ordered = {o.account_id for o in orders}
    with_orders = [a["id"] for a in created if a["id"] in ordered]
    rated = _rated_usage(session, clock, tenant_id, with_orders, rng)
    payers = sorted(a["id"] for a in created if a["billing_mode"] == BillingMode.SELF_PAYING)
    return Provider(
        tenant_id=tenant_id,
        accounts=len(created),
        payers=payers,
        billable={a["payer"] for a in created if a["id"] in ordered},
        subscriptions=subscriptions,
        changes=changes,
        rated_rows=rated,
    )


def provider_tenant(session: Session, clock: FakeClock, *, slug: str) -> str:
    """The tenant, its tax rules, catalogue and rate card, through the services."""
    tenant = create_tenant(
        session, clock=clock, slug=slug, name="Benchmark telecom", settings={"currency": "USD"}
    )
    session.execute(
        insert(TaxRate),
        [
            {"id": new_id("tax"), "tenant_id": tenant.id, "jurisdiction": j, "name": n,
             "rate": Decimal(r), "effective_from": date(2025, 1, 1), "effective_to": None,
             "created_at": clock.now()}
            for j, n, r in (("US-CA", "Sales tax", "7.25"), ("GB", "VAT", "20"))
        ],
    )  # fmt: skip
    ctx = operator_context(session, tenant.id)
    document = load_catalog_yaml(CATALOG)
    apply_catalog(session, clock=clock, ctx=ctx, document=document)
    card = [
        {"prefix": p, "description": d, "rate": f"0.{(i * 37) % 90 + 5:03d}"}
        for i, (p, d) in enumerate(DESTINATIONS)
    ] + [{"prefix": "1", "description": "SMS", "rate": "0.05", "usage_type": "sms"}]
    import_rate_card(session, clock=clock, ctx=ctx, name="Retail",
                     kind=CardKind.RETAIL, rows=card, source="benchmark",
                     effective_from=date(2025, 1, 1))  # fmt: skip
    return tenant.id


def _account_rows(count: int, rng: random.Random) -> list[dict[str, str]]:
    """Import rows: standalone payers and trees of a payer and 1-4 billed sub-accounts."""
    rows: list[dict[str, str]] = []
    while len(rows) < count:
        group = len(rows)
        size = 1 if rng.random() < 0.7 else 1 + rng.randint(1, 4)
        size = min(size, count - len(rows))
        for member in range(size):
            row = {"external_id": f"c{group}-{member}", "name": f"Customer {group}-{member}"}
            if member:  # the second level hangs from the first sub-account, sometimes
                parent = 1 if member > 1 and rng.random() < 0.3 else 0
                row |= {
                    "parent_external_id": f"c{group}-{parent}",
                    "billing_mode": "billed_to_parent",
                }
            where = rng.random()
            if where < 0.5:
                row |= {"service_address_country": "US", "service_address_region": "CA"}
            elif where < 0.55:
                row |= {"service_address_country": "GB"}
            rows.append(row)
    return rows


def _accounts(
    session: Session, clock: FakeClock, tenant_id: str, count: int, rng: random.Random
) -> list[dict[str, Any]]:
    """Import the accounts through the service; each as {id, billing_mode, payer, cycle}."""
    ctx = operator_context(session, tenant_id)
    report = import_accounts(session, clock=clock, ctx=ctx, rows=_account_rows(count, rng))
    if report.errors:
        raise RuntimeError(f"account import refused rows: {report.errors[:3]}")
    stored = list(session.execute(
        select(Account.id, Account.external_id, Account.parent_id, Account.billing_mode,
               Account.billing_cycle, Account.billing_day)
        .where(Account.tenant_id == tenant_id)
    ))  # fmt: skip
    stored.sort(key=lambda row: row.external_id or "")  # ids are random; draws follow these
    parent_of = {row.id: row.parent_id for row in stored}
    billed_up = {row.id for row in stored if row.billing_mode == BillingMode.BILLED_TO_PARENT}
    out = []
    for row in stored:
        payer = row.id
        while payer in billed_up:  # up the tree to the account that pays
            payer = parent_of[payer]
        out.append({"id": row.id, "billing_mode": row.billing_mode, "payer": payer,
                    "cycle": row.billing_cycle, "day": row.billing_day})  # fmt: skip
    return out


def _orders(account: dict[str, Any], rng: random.Random) -> list[Order]:
    """1-5 orders of the account (none for 2% of standalone payers)."""
    if account["billing_mode"] == BillingMode.SELF_PAYING and rng.random() < 0.02:
        return []
    orders = []
    for _ in range(rng.randint(1, 5)):
        plan = rng.choice(PLANS)
        start = MONTH if rng.random() < 0.9 else MONTH + timedelta(days=rng.randint(1, 20))
        quantity = rng.randint(1, 50) if plan in PER_UNIT_PLANS else 1
        change = None
        if plan in PER_UNIT_PLANS and rng.random() < 0.2:
            day = max(start + timedelta(days=1), date(2026, 1, rng.randint(10, 25)))
            change = (day, max(1, quantity + rng.choice((-5, -2, 3, 10))))
        orders.append(Order(account["id"], plan, quantity, start, change))
    return orders


def subscription_rows(
    order: Order, *, tenant_id: str, plan_id: str, account: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The subscription row and change rows `create_subscription` (and `change_subscription`
    for the quantity change) write for an order placed on Dec 20 (before its start: pending,
    its snapshot the first phase); the plans have no trial, commitment or end date."""
    sid = new_id("sub")
    quantity = Decimal(order.quantity)
    subscription = {
        "id": sid, "tenant_id": tenant_id, "account_id": order.account_id, "plan_id": plan_id,
        "external_id": None, "status": SubscriptionStatus.PENDING, "currency": "USD",
        "quantity": quantity, "start_date": order.start,
        "billing_anchor": billing_anchor(account["cycle"], account["day"], order.start),
        "trial_end": None, "commitment_end": None, "cancelled_at": None,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    common = {"tenant_id": tenant_id, "subscription_id": sid, "timing": ChangeTiming.DATE,
              "actor": CLI_ACTOR, "recorded_at": now}  # fmt: skip
    changes = [
        common | {"id": new_id("sch"), "seq": 1, "kind": ChangeKind.CREATE,
                  "effective": order.start, "before": {"status": "pending"},
                  "after": {"plan_id": plan_id, "plan": order.plan, "quantity": str(quantity)},
                  "reason": None}
    ]  # fmt: skip
    if order.change is not None:
        day, new_quantity = order.change
        state = {"status": "active", "plan_id": plan_id}
        changes.append(
            common | {"id": new_id("sch"), "seq": 2, "kind": ChangeKind.QUANTITY,
                      "effective": day, "before": state | {"quantity": str(quantity)},
                      "after": state | {"quantity": str(Decimal(new_quantity))},
                      "reason": "customer asked"}
        )  # fmt: skip
    return subscription, changes


def bulk_orders(
    session: Session,
    tenant_id: str,
    orders: list[Order],
    plans: dict[str, str],
    accounts: list[dict[str, Any]],
    now: datetime,
) -> tuple[int, int]:
    """Insert the orders' subscriptions and changes in bulk; their counts."""
    by_id = {a["id"]: a for a in accounts}
    subscriptions, changes = [], []
    for order in orders:
        row, rows = subscription_rows(
            order, tenant_id=tenant_id, plan_id=plans[order.plan],
            account=by_id[order.account_id], now=now,
        )  # fmt: skip
        subscriptions.append(row)
        changes += rows
    for first in range(0, len(subscriptions), 50_000):
        session.execute(insert(Subscription), subscriptions[first : first + 50_000])
    for first in range(0, len(changes), 50_000):
        session.execute(insert(SubscriptionChange), changes[first : first + 50_000])
    return len(subscriptions), len(changes)


def _rated_usage(
    session: Session, clock: FakeClock, tenant_id: str, accounts: list[str], rng: random.Random
) -> int:
    """One rating run of January with 5-20 rated records per account, stored in bulk."""
    rates = pl.DataFrame(
        session.execute(
            select(Rate.id, Rate.version_id, Rate.prefix, Rate.usage_type, Rate.rate_micros)
            .where(Rate.tenant_id == tenant_id)
            .order_by(Rate.usage_type, Rate.prefix)
        ).all(),
        schema=["rate_id", "card_version_id", "matched_prefix", "usage_type", "rate_micros"],
        orient="row",
    )
    voice = rates.filter(pl.col("usage_type") == "voice").with_row_index("d")
    sms = rates.filter(pl.col("usage_type") == "sms").drop("usage_type")
    counts = [rng.randint(5, 20) for _ in accounts]
    frame = _records(accounts, counts, seed=rng.randrange(2**31))
    rated = _priced(frame, voice, sms, tenant_id)
    run = RatingRun(
        id=new_id("rr"), tenant_id=tenant_id, account_id=None, period_start=MONTH_START,
        period_end=MONTH_END, version=1, currency="USD", rated=0, rejected=0, superseded=0,
        retail_micros=0, cost_micros=0, superseded_micros=0, parquet_path=None,
        created_at=MONTH_END,
    )  # fmt: skip
    session.add(run)
    session.flush()
    rows = rated_usage_rows(rated, run_id=run.id, currency="USD")
    store_rated_rows(session, rows)
    accepted = rows.filter(pl.col("reject_reason").is_null())
    run.rated, run.rejected = accepted.height, rows.height - accepted.height
    run.retail_micros = int(accepted["amount_micros"].sum())
    session.flush()
    return rows.height


def _records(accounts: list[str], counts: list[int], *, seed: int) -> pl.DataFrame:
    """The records: account, time in January, kind, destination index and duration."""
    frame = pl.DataFrame({"account_id": accounts, "n": counts}).select(
        pl.col("account_id").repeat_by("n").explode()
    )
    draw = pl.int_range(pl.len(), dtype=pl.Int64).hash(seed)
    seconds = int((MONTH_END - MONTH_START).total_seconds())
    return frame.with_columns(
        (pl.lit(MONTH_START) + pl.duration(seconds=(draw % seconds).cast(pl.Int64)))
        .dt.cast_time_unit("us")
        .alias("started_at"),
        ((draw // 7) % 100).cast(pl.Int64).alias("kind"),
        ((draw // 701) % len(DESTINATIONS)).cast(pl.UInt32).alias("d"),
        ((draw // 70_001) % 1_800 + 1).cast(pl.Int64).alias("length"),
        pl.format("bench-{}", pl.int_range(pl.len())).alias("record_key"),
    )


def _priced(
    frame: pl.DataFrame, voice: pl.DataFrame, sms: pl.DataFrame, tenant: str
) -> pl.DataFrame:
    """The records rated: voice per started minute, SMS per message, ~1% without a rate."""
    is_sms = pl.col("kind") >= 85
    rejected = pl.col("kind") == 0
    joined = frame.join(voice.drop("usage_type"), on="d", how="left").with_columns(
        pl.when(is_sms).then(pl.lit(sms["rate_id"][0])).otherwise("rate_id").alias("rate_id"),
        pl.when(is_sms).then(pl.lit(sms["card_version_id"][0])).otherwise("card_version_id").alias("card_version_id"),
        pl.when(is_sms).then(pl.lit(sms["matched_prefix"][0])).otherwise("matched_prefix").alias("matched_prefix"),
        pl.when(is_sms).then(pl.lit(sms["rate_micros"][0])).otherwise("rate_micros").alias("rate_micros"),
    )  # fmt: skip
    billed_s = pl.when(is_sms | rejected).then(0).otherwise((pl.col("length") + 59) // 60 * 60)
    billed_units = pl.when(is_sms & ~rejected).then(1).otherwise(0)
    amount = billed_s * pl.col("rate_micros") // 60 + billed_units * pl.col("rate_micros")
    none = pl.lit(None, pl.String)
    return joined.select(
        pl.lit(tenant).alias("tenant_id"), "account_id", "record_key",
        pl.when(is_sms).then(pl.lit("sms")).otherwise(pl.lit("voice")).alias("usage_type"),
        "started_at",
        pl.when(is_sms).then(0).otherwise("length").alias("duration_s"),
        pl.when(is_sms).then(1).otherwise(0).alias("quantity"),
        (pl.lit("+") + pl.col("matched_prefix") + pl.lit("5550100")).alias("called"),
        none.alias("carrier"), pl.lit("all").alias("band"),
        *(pl.when(rejected).then(none).otherwise(c).alias(c)
          for c in ("rate_id", "card_version_id", "matched_prefix")),
        pl.when(rejected).then(None).otherwise(60).cast(pl.Int64).alias("first_increment_s"),
        pl.when(rejected).then(None).otherwise(60).cast(pl.Int64).alias("next_increment_s"),
        none.alias("rounding_rule_id"),
        billed_s.cast(pl.Int64).alias("billed_s"),
        billed_units.cast(pl.Int64).alias("billed_units"),
        pl.lit(0, pl.Int64).alias("allowance_s"), pl.lit(0, pl.Int64).alias("allowance_units"),
        pl.when(rejected).then(0).otherwise(amount).cast(pl.Int64).alias("amount_micros"),
        none.alias("cost_rate_id"), none.alias("cost_card_version_id"), none.alias("cost_prefix"),
        pl.lit(None, pl.Int64).alias("cost_micros"),
        pl.when(rejected).then(pl.lit("no_rate")).otherwise(none).alias("reject_reason"),
    )  # fmt: skip


def check_rows_like_services(session: Session, clock: FakeClock, tenant_id: str) -> None:
    """Place one order with a quantity change through the services and compare its rows with
    `subscription_rows`' (ids aside); rolled back by the caller."""
    clock.set(ORDERED)
    scope = operator_scope(session, tenant_id)
    account = create_account(
        session, clock=clock, ctx=operator_context(session, tenant_id),
        data=AccountCreate(tenant_id=tenant_id, name="Row check", external_id="row-check"),
    )  # fmt: skip
    order = Order(account.id, "seats", 7, date(2026, 1, 5), (date(2026, 1, 16), 10))
    data = SubscriptionCreate(account_id=account.id, plan=order.plan, quantity=Decimal(7),
                              start_date=order.start)  # fmt: skip
    view = create_subscription(session, clock=clock, scope=scope, data=data, actor=CLI_ACTOR)
    change = ChangeCreate.model_validate(
        {"kind": "quantity", "quantity": 10, "effective": "date", "date": date(2026, 1, 16),
         "reason": "customer asked"}
    )  # fmt: skip
    sid = view.subscription.id
    change_subscription(session, clock=clock, scope=scope, subscription_id=sid, data=change,
                        actor=CLI_ACTOR)  # fmt: skip
    session.flush()
    plan_id = view.subscription.plan_id
    mine = {"cycle": account.billing_cycle, "day": account.billing_day}
    want_sub, want_changes = subscription_rows(
        order, tenant_id=tenant_id, plan_id=plan_id, account=mine, now=clock.now()
    )
    got_sub = _columns(session.get(Subscription, sid))
    got_changes = [
        _columns(c)
        for c in session.scalars(
            select(SubscriptionChange)
            .where(SubscriptionChange.subscription_id == sid)
            .order_by(SubscriptionChange.seq)
        )
    ]
    ignore = {"id", "subscription_id"}
    if _without(got_sub, ignore) != _without(want_sub, ignore) or [
        _without(c, ignore) for c in got_changes
    ] != [_without(c, ignore) for c in want_changes]:
        raise SystemExit(
            f"bulk rows differ from the services':\n{got_sub}\n{want_sub}\n"
            f"{got_changes}\n{want_changes}"
        )


def _columns(row: Any) -> dict[str, Any]:
    return {c.name: getattr(row, c.key) for c in row.__table__.columns}


def _without(row: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: (str(v) if hasattr(v, "value") else v) for k, v in row.items() if k not in keys}
