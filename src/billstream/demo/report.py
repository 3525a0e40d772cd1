"""What the demo shows: Rich tables read back from the database through the services."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import datetime, timedelta

import polars as pl
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from billstream.accounts import service as accounts
from billstream.accounts.models import Account, AccountType, NumberAssignment, PhoneNumber
from billstream.accounts.schemas import AccountTreeNode
from billstream.demo.generate import ORG_ABC_ROOT
from billstream.demo.provider import US
from billstream.demo.subscriptions import upcoming_table
from billstream.tenants.models import Tenant
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import ancestor_chain, operator_scope, settings_of_tenants
from billstream.tenants.settings import format_invoice_number

KIND_COLUMNS = ("geographic", "mobile", "toll_free")
LOOKUP_SAMPLE = 5


def tenants_in_tree_order(session: Session, root: Tenant) -> list[tuple[int, Tenant]]:
    """`root` and its descendants depth first, siblings by slug, each with its depth."""
    scope = operator_scope(session, root.id)
    tenants = session.scalars(select(Tenant).where(scope.filter(Tenant)).order_by(Tenant.slug))
    children: dict[str | None, list[Tenant]] = {}
    for tenant in tenants:
        children.setdefault(tenant.parent_id, []).append(tenant)

    def walk(tenant: Tenant, depth: int) -> list[tuple[int, Tenant]]:
        below = [pair for c in children.get(tenant.id, []) for pair in walk(c, depth + 1)]
        return [(depth, tenant), *below]

    return walk(root, 0)


def _swatch(color: str | None) -> str:
    return f"[{color}]■[/] {color}" if color else ""


def tenant_table(session: Session, root: Tenant, *, year: int) -> Table:
    table = Table(
        "tenant",
        "slug",
        "currency",
        "time zone",
        "locale",
        f"first invoice of {year}",
        "brand name",
        "colours",
        title="Tenants, with the settings in force for each",
    )
    ordered = tenants_in_tree_order(session, root)
    above = ancestor_chain(session, root.id)[:-1]
    settings_of = settings_of_tenants([*above, *(tenant for _depth, tenant in ordered)])
    for depth, tenant in ordered:
        settings = settings_of[tenant.id]
        brand = settings.branding
        table.add_row(
            "  " * depth + ("└ " if depth else "") + tenant.name,
            tenant.slug,
            settings.currency,
            settings.timezone,
            settings.locale,
            format_invoice_number(settings, year=year, seq=1),
            brand.name or "",
            f"{_swatch(brand.primary_color)}  {_swatch(brand.accent_color)}",
        )
    return table


def _depths(parent_of: dict[str, str | None]) -> dict[str, int]:
    depth: dict[str, int] = {}

    def of(account_id: str) -> int:
        if account_id not in depth:
            parent = parent_of[account_id]
            depth[account_id] = 1 if parent is None else of(parent) + 1
        return depth[account_id]

    for account_id in parent_of:
        of(account_id)
    return depth


def accounts_table(session: Session, root: Tenant) -> Table:
    scope = operator_scope(session, root.id)
    rows = session.execute(
        select(
            Account.id, Account.tenant_id, Account.parent_id, Account.type, Account.billing_mode
        ).where(scope.filter(Account))
    ).all()
    depth = _depths({r.id: r.parent_id for r in rows})
    types = [str(t) for t in AccountType]
    table = Table(
        "brand",
        *types,
        "self-paying",
        "billed to parent",
        "deepest level",
        "total",
        title="Accounts per brand and type",
    )
    for _, tenant in tenants_in_tree_order(session, root):
        mine = [r for r in rows if r.tenant_id == tenant.id]
        if not mine:
            continue
        kinds = Counter(r.type for r in mine)
        modes = Counter(r.billing_mode for r in mine)
        table.add_row(
            tenant.name,
            *(str(kinds[t]) for t in types),
            str(modes["self_paying"]),
            str(modes["billed_to_parent"]),
            str(max(depth[r.id] for r in mine)),
            str(len(mine)),
        )
    return table


def _flatten(node: AccountTreeNode, depth: int = 0) -> list[tuple[int, AccountTreeNode]]:
    return [(depth, node), *(pair for c in node.children for pair in _flatten(c, depth + 1))]


def org_abc_table(session: Session, brand: Tenant) -> Group | None:
    """SPEC C2's Org ABC: each account, the account its charges are invoiced to, and so
    what each invoice carries."""
    abc = session.scalar(
        select(Account.id).where(Account.tenant_id == brand.id, Account.external_id == ORG_ABC_ROOT)
    )
    if abc is None:
        return None
    tree = accounts.account_tree(session, scope=operator_scope(session, brand.id), account_id=abc)
    nodes = _flatten(tree)
    name_of = {n.id: n.name for _, n in nodes}
    table = Table("account", "type", "billing mode", "paid by", title="Org ABC: who pays")
    invoices: dict[str, list[str]] = {}
    for depth, n in nodes:
        invoices.setdefault(n.paying_account_id, []).append(n.name)
        table.add_row(
            "  " * depth + ("└ " if depth else "") + n.name,
            str(n.type),
            str(n.billing_mode).replace("_", " "),
            name_of.get(n.paying_account_id, n.paying_account_id),
        )
    lines = [
        Text(f"{name_of.get(payer, payer)}'s invoice carries: {', '.join(names)}")
        for payer, names in invoices.items()
    ]
    return Group(table, *lines)


def _counts(session: Session, stmt: Select[str, int]) -> Counter[str]:
    return Counter({key: n for key, n in session.execute(stmt).all()})


def numbers_table(session: Session, root: Tenant, *, now: datetime) -> Table:
    scope = operator_scope(session, root.id)
    kinds = session.execute(
        select(PhoneNumber.tenant_id, PhoneNumber.kind, func.count())
        .where(scope.filter(PhoneNumber))
        .group_by(PhoneNumber.tenant_id, PhoneNumber.kind)
    ).all()
    by_kind = Counter({(t, k): int(n) for t, k, n in kinds})
    in_force = or_(NumberAssignment.valid_to.is_(None), NumberAssignment.valid_to > now)
    held = _counts(
        session,
        select(NumberAssignment.tenant_id, func.count())
        .where(scope.filter(NumberAssignment), NumberAssignment.valid_from <= now, in_force)
        .group_by(NumberAssignment.tenant_id),
    )
    history = _counts(
        session,
        select(NumberAssignment.tenant_id, func.count())
        .where(scope.filter(NumberAssignment))
        .group_by(NumberAssignment.tenant_id),
    )
    table = Table(
        "brand",
        *(k.replace("_", "-") for k in KIND_COLUMNS),
        "numbers",
        "held",
        "free",
        "assignments so far",
        title=f"Number inventory on {now:%Y-%m-%d}",
    )
    for _, tenant in tenants_in_tree_order(session, root):
        total = sum(n for (t, _), n in by_kind.items() if t == tenant.id)
        if total:
            table.add_row(
                tenant.name,
                *(str(by_kind[(tenant.id, k)]) for k in KIND_COLUMNS),
                str(total),
                str(held[tenant.id]),
                str(total - held[tenant.id]),
                str(history[tenant.id]),
            )
    return table


def lookup_queries(numbers: list[str], *, count: int, seed: int, end: datetime) -> pl.DataFrame:
    """`count` (number, at) pairs: numbers of the inventory at instants of the year to `end`."""
    rng = random.Random(seed)
    start = end - timedelta(days=365)
    span = int((end - start).total_seconds())
    return pl.DataFrame(
        {
            "number": rng.choices(numbers, k=count),
            "offset": [rng.randrange(span) for _ in range(count)],
        }
    ).select(
        "number",
        at=(pl.lit(start) + pl.duration(seconds=pl.col("offset"))).cast(pl.Datetime("us", "UTC")),
    )


def lookup_table(session: Session, root: Tenant, *, count: int, seed: int, now: datetime) -> Group:
    """Who held each of `count` numbers at an instant: one query and one as-of join."""
    scope: TenantScope = operator_scope(session, root.id)
    inventory = list(
        session.scalars(
            select(PhoneNumber.e164).where(scope.filter(PhoneNumber)).order_by(PhoneNumber.e164)
        )
    )
    queries = lookup_queries(inventory, count=count, seed=seed, end=now)
    started = time.perf_counter()
    held = accounts.number_holders(session, scope=scope, queries=queries)
    elapsed = time.perf_counter() - started
    matched = held.filter(pl.col("account_id").is_not_null()).height
    table = Table(
        "pairs",
        "held by an account",
        "held by nobody",
        "seconds",
        "pairs per second",
        title="Set-based number look-up: who held each number at each instant",
    )
    table.add_row(
        f"{held.height:,}",
        f"{matched:,}",
        f"{held.height - matched:,}",
        f"{elapsed:.3f}",
        f"{held.height / elapsed:,.0f}" if elapsed > 0 else "-",
    )
    return Group(table, lookup_sample(session, held.head(LOOKUP_SAMPLE)))


def lookup_sample(session: Session, held: pl.DataFrame) -> Table:
    ids = [i for i in held["account_id"].to_list() if i is not None]
    names = session.execute(
        select(Account.id, Account.name, Account.external_id, Tenant.name)
        .join(Tenant, Tenant.id == Account.tenant_id)
        .where(Account.id.in_(ids))
    ).all()
    holder = {account_id: (f"{name} ({ext})", brand) for account_id, name, ext, brand in names}
    table = Table("number", "at (UTC)", "held by", "brand", title="The first look-ups")
    for row in held.iter_rows(named=True):
        name, brand = holder.get(row["account_id"], ("nobody", ""))
        table.add_row(row["number"], f"{row['at']:%Y-%m-%d %H:%M:%S}", name, brand)
    return table


def demo_tables(
    session: Session, *, root: Tenant, now: datetime, seed: int, lookups: int
) -> list[RenderableType]:
    brand = session.scalar(select(Tenant).where(Tenant.slug == US.tenant.slug))
    tree = org_abc_table(session, brand) if brand else None
    org_abc: list[RenderableType] = [tree, upcoming_table(session, brand)] if brand and tree else []
    return [
        tenant_table(session, root, year=now.year),
        accounts_table(session, root),
        *org_abc,
        numbers_table(session, root, now=now),
        lookup_table(session, root, count=lookups, seed=seed, now=now),
    ]
