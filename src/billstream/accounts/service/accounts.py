"""Account use cases: create, change, move in the hierarchy, delete, read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from billstream.accounts.errors import AccountErrorCode
from billstream.accounts.hierarchy import (
    AccountNode,
    paying_accounts,
    paying_ancestor,
    would_create_cycle,
)
from billstream.accounts.models import Account, AccountType, BillingMode, NumberAssignment
from billstream.accounts.phone import to_e164
from billstream.accounts.schemas import AccountCreate, AccountTreeNode, AccountUpdate, Address
from billstream.accounts.validation import (
    check_billing_day,
    check_country,
    check_email,
    region_of_locale,
)
from billstream.core.clock import Clock
from billstream.core.errors import ConflictError, InvalidInputError, NotFoundError
from billstream.core.ids import new_id
from billstream.core.money import validate_currency
from billstream.db import tree
from billstream.db.pagination import Page, paginate
from billstream.tenants.context import TenantContext
from billstream.tenants.repository import get_in_scope
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import lock_tenant, resolved_settings
from billstream.tenants.validation import check_locale


def node(account: Account) -> AccountNode:
    return AccountNode(account.id, account.parent_id, account.self_paying)


def _address(value: Address | None, field: str) -> dict[str, Any] | None:
    if value is None:
        return None
    data = value.model_dump(exclude_none=True)
    data["country"] = check_country(value.country, field=f"{field}.country")
    return data


def checked_fields(values: Mapping[str, Any], *, locale: str) -> dict[str, Any]:
    """Validate and normalise the changeable fields present in `values` (no database)."""
    out = dict(values)
    if out.get("email") is not None:
        out["email"] = check_email(out["email"])
    if out.get("phone") is not None:
        out["phone"] = to_e164(out["phone"], default_region=region_of_locale(locale), field="phone")
    if out.get("language") is not None:
        out["language"] = check_locale(out["language"], field="language")
    for key in ("billing_address", "service_address"):
        if key in out:
            raw = out[key]
            out[key] = _address(Address.model_validate(raw) if isinstance(raw, dict) else raw, key)
    if "name" in out and (out["name"] is None or not str(out["name"]).strip()):
        raise InvalidInputError("a name cannot be empty", field="name")
    return out


def _require_free_external_id(
    session: Session, tenant_id: str, external_id: str | None, *, exclude: str | None = None
) -> None:
    if external_id is None:
        return
    stmt = select(Account.id).where(
        Account.tenant_id == tenant_id, Account.external_id == external_id
    )
    if exclude is not None:
        stmt = stmt.where(Account.id != exclude)
    if session.scalar(stmt) is not None:
        raise ConflictError(
            f"external id {external_id!r} is already used in this tenant",
            code=AccountErrorCode.EXTERNAL_ID_TAKEN,
            field="external_id",
        )


def _parent(session: Session, tenant_id: str, parent_id: str) -> Account:
    parent = session.get(Account, parent_id)
    if parent is None or parent.tenant_id != tenant_id:
        raise NotFoundError(
            f"parent account {parent_id} not found in this tenant", field="parent_id"
        )
    return parent


def _payer_above(session: Session, parent_id: str) -> Account:
    """The account that pays for a non-paying child of `parent_id`."""
    chain = tree.ancestors_and_self(session, Account, parent_id)
    by_id = {a.id: a for a in chain}
    return by_id[paying_ancestor(parent_id, {a.id: node(a) for a in chain})]


def create_account(
    session: Session, *, clock: Clock, ctx: TenantContext, data: AccountCreate
) -> Account:
    """Create an account of `ctx`'s tenant (the edge built `ctx` from `data.tenant_id`)."""
    if data.tenant_id not in (None, ctx.tenant_id):
        raise ValueError(f"the account is for {data.tenant_id}, the context for {ctx.tenant_id}")
    tenant_id, settings = ctx.tenant_id, ctx.settings
    fields = checked_fields(
        data.model_dump(exclude={"tenant_id", "parent_id", "billing_mode", "currency"}),
        locale=settings.locale,
    )
    fields["billing_day"] = check_billing_day(data.billing_cycle, data.billing_day)
    fields["language"] = fields.get("language") or settings.locale
    _require_free_external_id(session, tenant_id, data.external_id)
    currency = validate_currency(data.currency) if data.currency else None
    if data.parent_id is not None:
        _parent(session, tenant_id, data.parent_id)
    if data.billing_mode == BillingMode.BILLED_TO_PARENT:
        if data.parent_id is None:
            raise InvalidInputError(
                "an account billed to its parent needs a parent",
                code=AccountErrorCode.NO_PARENT_TO_BILL,
                field="parent_id",
            )
        payer = _payer_above(session, data.parent_id)
        if currency is not None and currency != payer.currency:
            raise InvalidInputError(
                f"billed to {payer.name}, which pays in {payer.currency}",
                code=AccountErrorCode.CURRENCY_MISMATCH,
                field="currency",
            )
        currency = payer.currency
    now = clock.now()
    account = Account(
        id=new_id("acc"),
        tenant_id=tenant_id,
        parent_id=data.parent_id,
        billing_mode=data.billing_mode,
        currency=currency or settings.currency,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(account)
    session.flush()
    return account


def get_account(
    session: Session, *, scope: TenantScope, account_id: str, field: str = "account_id"
) -> Account:
    return get_in_scope(session, Account, account_id, scope=scope, label="account", field=field)


def account_of_tenant(
    session: Session, *, ctx: TenantContext, account_id: str, field: str
) -> Account:
    """The account `account_id` of `ctx`'s tenant, named by a request's `field`.

    Unknown, outside the caller's scope, or of another tenant (a sibling brand's, say): the
    same `NotFoundError`, so an id in a body tells the caller no more than one in a path.
    """
    return get_in_scope(
        session, Account, account_id, scope=ctx.scope, label="account", field=field,
        tenant_id=ctx.tenant_id,
    )  # fmt: skip


def list_accounts(
    session: Session,
    *,
    scope: TenantScope,
    cursor: str | None = None,
    limit: int = 50,
    tenant_id: str | None = None,
    parent_id: str | None = None,
    external_id: str | None = None,
    top_level: bool = False,
) -> Page[Account]:
    stmt = select(Account).where(scope.filter(Account))
    if tenant_id is not None:
        stmt = stmt.where(Account.tenant_id == tenant_id)
    if parent_id is not None:
        stmt = stmt.where(Account.parent_id == parent_id)
    if external_id is not None:
        stmt = stmt.where(Account.external_id == external_id)
    if top_level:
        stmt = stmt.where(Account.parent_id.is_(None))
    return paginate(session, stmt, Account.id, cursor=cursor, limit=limit)


def update_account(
    session: Session, *, clock: Clock, scope: TenantScope, account_id: str, data: AccountUpdate
) -> Account:
    account = get_account(session, scope=scope, account_id=account_id)
    changes = data.model_dump(exclude_unset=True)
    settings = resolved_settings(session, account.tenant_id)
    changes = checked_fields(changes, locale=settings.locale)
    if "language" in changes and changes["language"] is None:
        changes["language"] = settings.locale
    if "external_id" in changes:
        _require_free_external_id(
            session, account.tenant_id, changes["external_id"], exclude=account.id
        )
    if "billing_cycle" in changes or "billing_day" in changes:
        cycle = changes.get("billing_cycle", account.billing_cycle)
        kept_day = account.billing_day if cycle == account.billing_cycle else None
        changes["billing_cycle"] = cycle
        changes["billing_day"] = check_billing_day(cycle, changes.get("billing_day", kept_day))
    for key, value in changes.items():
        setattr(account, key, value)
    account.updated_at = clock.now()
    session.flush()
    return account


def move_account(
    session: Session,
    *,
    clock: Clock,
    scope: TenantScope,
    account_id: str,
    parent_id: str | None,
    billing_mode: BillingMode | None = None,
) -> Account:
    """Put `account_id` under `parent_id` (or at the top); refuse a move that makes a cycle.

    Hierarchy changes in one tenant are serialised by locking the tenant row, so two
    concurrent moves cannot together build a loop that neither sees alone.
    """
    account = get_account(session, scope=scope, account_id=account_id)
    lock_tenant(session, account.tenant_id)
    session.refresh(account)
    mode = billing_mode or BillingMode(account.billing_mode)
    if parent_id is not None:
        _parent(session, account.tenant_id, parent_id)
        chain = tree.ancestors_and_self(session, Account, parent_id)
        if would_create_cycle(account.id, parent_id, {a.id: a.parent_id for a in chain}):
            raise ConflictError(
                f"{parent_id} is {account_id} or one of its descendants: the move makes a cycle",
                code=AccountErrorCode.CYCLE,
                field="parent_id",
            )
    if mode == BillingMode.BILLED_TO_PARENT:
        if parent_id is None:
            raise InvalidInputError(
                "an account billed to its parent needs a parent",
                code=AccountErrorCode.NO_PARENT_TO_BILL,
                field="parent_id",
            )
        payer = _payer_above(session, parent_id)
        if payer.currency != account.currency:
            raise ConflictError(
                f"{account.name} bills in {account.currency}; {payer.name} pays in "
                f"{payer.currency}",
                code=AccountErrorCode.CURRENCY_MISMATCH,
                field="parent_id",
            )
    account.parent_id = parent_id
    account.billing_mode = mode
    account.updated_at = clock.now()
    session.flush()
    return account


def delete_account(session: Session, *, scope: TenantScope, account_id: str) -> None:
    account = get_account(session, scope=scope, account_id=account_id)
    if session.scalar(select(exists().where(Account.parent_id == account.id))):
        raise ConflictError(
            "the account has sub-accounts; move or delete them first",
            code=AccountErrorCode.HAS_CHILDREN,
            field="account_id",
        )
    if session.scalar(select(exists().where(NumberAssignment.account_id == account.id))):
        raise ConflictError(
            "the account has held numbers; its history must be kept",
            code=AccountErrorCode.HAS_NUMBERS,
            field="account_id",
        )
    session.delete(account)
    session.flush()


def paying_account_of(session: Session, account: Account) -> str:
    chain = tree.ancestors_and_self(session, Account, account.id)
    return paying_ancestor(account.id, {a.id: node(a) for a in chain})


def account_tree(session: Session, *, scope: TenantScope, account_id: str) -> AccountTreeNode:
    """`account_id` and everything below it, each node with who pays its charges."""
    root = get_account(session, scope=scope, account_id=account_id)
    ids = tree.subtree_ids(session, Account, root.id)
    accounts = list(session.scalars(select(Account).where(Account.id.in_(ids))))
    above = tree.ancestors_and_self(session, Account, root.id)
    nodes = {a.id: node(a) for a in [*above, *accounts]}
    payer = paying_accounts(nodes)
    children: dict[str | None, list[Account]] = {}
    for a in sorted(accounts, key=lambda a: (a.name, a.id)):
        children.setdefault(a.parent_id, []).append(a)

    def build(a: Account) -> AccountTreeNode:
        return AccountTreeNode(
            id=a.id,
            name=a.name,
            type=AccountType(a.type),
            billing_mode=BillingMode(a.billing_mode),
            paying_account_id=payer[a.id],
            children=[build(c) for c in children.get(a.id, [])],
        )

    return build(root)
