"""Deterministic demo data (pure): account rows as a CSV import has them, numbers, and
the history of who held each number. Everything is drawn from one `random.Random(seed)`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from billstream.accounts.phone import to_e164
from billstream.core.errors import InvalidInputError
from billstream.demo.provider import (
    BRANDS,
    COMPANY_WORDS,
    DEPARTMENTS,
    FIRST_NAMES,
    LAST_NAMES,
    TEAMS,
    US,
    VENDORS,
    BrandSpec,
    NumberRange,
)

MAX_DEPTH = 4
ORG_SIZES = (1, 2, 3, 4, 6, 8, 12)
ORG_SIZE_WEIGHTS = (30, 15, 15, 12, 12, 10, 6)
HISTORY_START = (2025, 1, 1)  # numbers are first assigned in the half year from this date

# SPEC C2: ABC and Support pay; Sales, HR, Tier1 and Tier2 are billed to their parent.
ORG_ABC = (
    ("ABC", "Org ABC", None, "customer", "self_paying"),
    ("ABC-SALES", "Sales", "ABC", "department", "billed_to_parent"),
    ("ABC-SUPPORT", "Support", "ABC", "department", "self_paying"),
    ("ABC-HR", "HR", "ABC", "department", "billed_to_parent"),
    ("ABC-TIER1", "Tier1", "ABC-SUPPORT", "department", "billed_to_parent"),
    ("ABC-TIER2", "Tier2", "ABC-SUPPORT", "department", "billed_to_parent"),
)
ORG_ABC_ROOT = ORG_ABC[0][0]

Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class NumberEvent:
    """`e164` passes to `account` (an external id) at `at`; `account` None: it is released."""

    e164: str
    at: datetime
    account: str | None


@dataclass(slots=True)
class BrandData:
    brand: BrandSpec
    rows: list[Row] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    events: list[NumberEvent] = field(default_factory=list)


@dataclass(slots=True)
class _Org:
    """What the accounts of one organisation share: address, mail domain, id counter."""

    brand: BrandSpec
    address: Row
    domain: str
    children_names: dict[str, set[str]] = field(default_factory=dict)


def account_budgets(total: int) -> dict[str, int]:
    """How many accounts each brand gets; Org ABC's six count in the US brand's share."""
    rest = max(total - len(ORG_ABC), 0)
    budgets = {b.code: rest * b.share // 100 for b in BRANDS}
    budgets[BRANDS[0].code] += rest - sum(budgets.values())
    budgets[US.code] += len(ORG_ABC)
    return budgets


def phone_number(rng: random.Random, ranges: Sequence[NumberRange], taken: set[str]) -> str:
    """A valid, not yet `taken` number from one of `ranges` (drawn by weight)."""
    while True:
        chosen = rng.choices(ranges, weights=[r.weight for r in ranges])[0]
        raw = chosen.prefix + "".join(rng.choice("0123456789") for _ in range(chosen.digits))
        try:
            e164 = to_e164(raw)
        except InvalidInputError:
            continue
        if e164 not in taken:
            taken.add(e164)
            return e164


def _company_name(rng: random.Random, brand: BrandSpec) -> str:
    first, second = (rng.choice(words) for words in COMPANY_WORDS)
    return f"{first} {second} {rng.choice(brand.company_suffixes)}"


def _new_org(rng: random.Random, brand: BrandSpec, name: str) -> _Org:
    city = rng.choice(brand.cities)
    address = {
        "line1": f"{rng.randint(1, 400)} {rng.choice(brand.streets)}",
        "city": city.name,
        "region": city.region or "",
        "postcode": rng.choice(city.postcodes),
        "country": brand.country,
    }
    domain = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".example"
    return _Org(brand=brand, address=address, domain=domain)


def _row(
    rng: random.Random,
    org: _Org,
    *,
    external_id: str,
    name: str,
    account_type: str,
    parent: str | None = None,
    billing_mode: str = "self_paying",
) -> Row:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    anniversary = rng.random() < 0.2
    row = {
        "external_id": external_id,
        "name": name,
        "type": account_type,
        "parent_external_id": parent or "",
        "billing_mode": billing_mode,
        "contact_name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}@{org.domain}",
        "phone": phone_number(rng, (org.brand.contact_numbers,), set()),
        "payment_terms_days": str(rng.choice((14, 30, 30, 45, 60))),
        "billing_cycle": "anniversary" if anniversary else "calendar",
        "billing_day": str(rng.randint(1, 28)) if anniversary else "",
        "invoice_delivery": "none" if billing_mode == "billed_to_parent" else "email",
        "auto_pay": str(rng.random() < 0.4).lower(),
    }
    for part, value in org.address.items():
        row[f"billing_address_{part}"] = value
        row[f"service_address_{part}"] = value
    return row


def org_abc_rows(rng: random.Random) -> list[Row]:
    """SPEC C2's example, exactly: ABC → Sales, Support, HR; Support → Tier1, Tier2."""
    org = _new_org(rng, US, "Org ABC")
    rows = [
        _row(
            rng,
            org,
            external_id=ext,
            name=name,
            account_type=kind,
            parent=parent,
            billing_mode=mode,
        )
        for ext, name, parent, kind, mode in ORG_ABC
    ]
    # SPEC C4's case study bills Org ABC by calendar month
    return [{**row, "billing_cycle": "calendar", "billing_day": ""} for row in rows]


def _department_name(rng: random.Random, org: _Org, parent: str, depth: int) -> str:
    pool = DEPARTMENTS if depth == 1 else TEAMS
    used = org.children_names.setdefault(parent, set())
    free = [name for name in pool if name not in used] or [f"{rng.choice(pool)} {len(used) + 1}"]
    name = rng.choice(free)
    used.add(name)
    return name


def organisation_rows(rng: random.Random, brand: BrandSpec, first_id: int, size: int) -> list[Row]:
    """One top-level customer or reseller and up to `size` - 1 accounts below it.

    Below a reseller: its own customers (self-paying). Below a customer: departments and
    teams, most billed to their parent. No chain is deeper than `MAX_DEPTH`.
    """
    root_type = "reseller" if size > 1 and rng.random() < 0.2 else "customer"
    name = _company_name(rng, brand)
    org = _new_org(rng, brand, name)
    ext = f"{brand.code}-{first_id:05d}"
    rows = [_row(rng, org, external_id=ext, name=name, account_type=root_type)]
    nodes = [(ext, 1, root_type, org)]
    for n in range(1, size):
        parent, depth, parent_type, parent_org = rng.choice(
            [node for node in nodes if node[1] < MAX_DEPTH]
        )
        child_ext = f"{ext}-{n:02d}"
        if parent_type == "reseller":
            child_name = _company_name(rng, brand)
            child_org = _new_org(rng, brand, child_name)
            row = _row(
                rng,
                child_org,
                external_id=child_ext,
                name=child_name,
                account_type="customer",
                parent=parent,
            )
            nodes.append((child_ext, depth + 1, "customer", child_org))
        else:
            mode = "billed_to_parent" if rng.random() < 0.7 else "self_paying"
            row = _row(
                rng,
                parent_org,
                external_id=child_ext,
                account_type="department",
                parent=parent,
                name=_department_name(rng, parent_org, parent, depth),
                billing_mode=mode,
            )
            nodes.append((child_ext, depth + 1, "department", parent_org))
        rows.append(row)
    return rows


def vendor_row(rng: random.Random, brand: BrandSpec, first_id: int) -> Row:
    name = f"{rng.choice(COMPANY_WORDS[0])} {rng.choice(VENDORS)} {brand.company_suffixes[0]}"
    org = _new_org(rng, brand, name)
    ext = f"{brand.code}-V{first_id:04d}"
    return _row(rng, org, external_id=ext, name=name, account_type="vendor")


def brand_rows(rng: random.Random, brand: BrandSpec, budget: int) -> list[Row]:
    """`budget` account rows for `brand`, parents before children (Org ABC first in the US)."""
    rows = org_abc_rows(rng) if brand is US else []
    serial = 0
    while len(rows) < budget:
        serial += 1
        if rng.random() < 0.06:
            rows.append(vendor_row(rng, brand, serial))
            continue
        size = min(rng.choices(ORG_SIZES, weights=ORG_SIZE_WEIGHTS)[0], budget - len(rows))
        rows.extend(organisation_rows(rng, brand, serial, size))
    return rows


def number_events(
    rng: random.Random, brand: BrandSpec, numbers: Sequence[str], holders: Sequence[str]
) -> list[NumberEvent]:
    """Who holds each number from when: most are assigned once at local midnight in the first
    half of 2025; some are released months later and most of those go to another account."""
    tz = ZoneInfo(brand.tenant.timezone)
    start = datetime(*HISTORY_START, tzinfo=tz)
    org_abc = {ext for ext, *_ in ORG_ABC}
    pinned = [ext for ext in holders if ext in org_abc]
    events: list[NumberEvent] = []
    for i, e164 in enumerate(numbers):
        if i >= len(pinned) and rng.random() < 0.15:
            continue  # stays free
        holder = pinned[i] if i < len(pinned) else rng.choice(holders)
        since = (start + timedelta(days=rng.randrange(181))).astimezone(UTC)
        events.append(NumberEvent(e164, since, holder))
        if i < len(pinned) or rng.random() >= 0.15:
            continue
        released = since + timedelta(days=rng.randint(30, 120))
        events.append(NumberEvent(e164, released, None))
        if rng.random() < 0.7:
            others = [h for h in holders if h != holder] or [holder]
            events.append(NumberEvent(e164, released, rng.choice(others)))
    return events


def brand_data(rng: random.Random, brand: BrandSpec, budget: int) -> BrandData:
    """Accounts, an inventory of about 1.5 numbers per account, and the numbers' history."""
    rows = brand_rows(rng, brand, budget)
    taken: set[str] = set()
    numbers = [phone_number(rng, brand.inventory, taken) for _ in range(len(rows) * 3 // 2 + 8)]
    holders = [row["external_id"] for row in rows]
    events = number_events(rng, brand, numbers, holders)
    return BrandData(brand=brand, rows=rows, numbers=numbers, events=events)
