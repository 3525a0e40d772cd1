"""Number inventory use cases: add, assign, release, and who held a number when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from billstream.accounts.errors import AccountErrorCode
from billstream.accounts.models import Account, NumberAssignment, PhoneNumber
from billstream.accounts.number_lookup import ASSIGNMENT_SCHEMA, holders_at
from billstream.accounts.phone import number_kind, to_e164
from billstream.accounts.validation import check_country, region_of_locale
from billstream.core.clock import Clock
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.core.ids import new_id
from billstream.db.pagination import Page, paginate
from billstream.tenants.context import TenantContext
from billstream.tenants.repository import get_in_scope
from billstream.tenants.scope import TenantScope


def add_numbers(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    numbers: Sequence[str],
    default_region: str | None = None,
) -> list[PhoneNumber]:
    """Add numbers to a tenant's inventory, all or none: any bad number refuses the lot."""
    tenant = ctx.tenant_id
    if default_region is not None:
        region: str | None = check_country(default_region, field="default_region")
    else:
        region = region_of_locale(ctx.settings.locale)
    normal: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(numbers):
        e164 = to_e164(raw, default_region=region, field=f"numbers[{i}]")
        if e164 in seen:
            raise InvalidInputError(
                f"{e164} is listed twice (also at numbers[{seen[e164]}])", field=f"numbers[{i}]"
            )
        seen[e164] = i
        normal.append(e164)
    existing = set(
        session.scalars(
            select(PhoneNumber.e164).where(
                PhoneNumber.tenant_id == tenant, PhoneNumber.e164.in_(normal)
            )
        )
    )
    if existing:
        first = min(seen[e] for e in existing)
        raise ConflictError(
            f"{normal[first]} is already in the inventory",
            code=AccountErrorCode.NUMBER_EXISTS,
            field=f"numbers[{first}]",
        )
    now = clock.now()
    rows = [
        {
            "id": new_id("num"),
            "tenant_id": tenant,
            "e164": e,
            "kind": number_kind(e),
            "created_at": now,
            "updated_at": now,
        }
        for e in normal
    ]
    session.execute(insert(PhoneNumber), rows)
    return list(
        session.scalars(
            select(PhoneNumber)
            .where(PhoneNumber.id.in_([r["id"] for r in rows]))
            .order_by(PhoneNumber.e164)
        )
    )


def get_number(session: Session, *, scope: TenantScope, number_id: str) -> PhoneNumber:
    return get_in_scope(
        session, PhoneNumber, number_id, scope=scope, label="number", field="number_id"
    )


def list_numbers(
    session: Session,
    *,
    scope: TenantScope,
    cursor: str | None = None,
    limit: int = 50,
    tenant_id: str | None = None,
    e164: str | None = None,
) -> Page[PhoneNumber]:
    stmt = select(PhoneNumber).where(scope.filter(PhoneNumber))
    if tenant_id is not None:
        stmt = stmt.where(PhoneNumber.tenant_id == tenant_id)
    if e164 is not None:
        stmt = stmt.where(PhoneNumber.e164 == to_e164(e164, field="e164"))
    return paginate(session, stmt, PhoneNumber.id, cursor=cursor, limit=limit)


def _lock_number(session: Session, scope: TenantScope, number_id: str) -> PhoneNumber:
    """Lock the number row: assignments of one number are checked and written one at a time."""
    return get_in_scope(
        session, PhoneNumber, number_id, scope=scope, label="number", field="number_id", lock=True
    )


def assign_number(
    session: Session,
    *,
    clock: Clock,
    scope: TenantScope,
    number_id: str,
    account_id: str,
    valid_from: datetime,
    valid_to: datetime | None = None,
) -> NumberAssignment:
    """Give the number to an account for ``[valid_from, valid_to)``; refuse any overlap.

    The assignment names no subscription: `subscriptions.service.assign_number` (what the
    API calls) checks one and sets it."""
    number = _lock_number(session, scope, number_id)
    account = get_in_scope(
        session, Account, account_id, scope=scope, label="account", field="account_id",
        tenant_id=number.tenant_id, tenant_named="the number's tenant",
    )  # fmt: skip
    if valid_to is not None and valid_to <= valid_from:
        raise InvalidInputError("valid_to must be after valid_from", field="valid_to")
    overlapping = session.scalar(
        select(NumberAssignment)
        .where(
            NumberAssignment.number_id == number.id,
            or_(NumberAssignment.valid_to.is_(None), NumberAssignment.valid_to > valid_from),
            *([] if valid_to is None else [NumberAssignment.valid_from < valid_to]),
        )
        .order_by(NumberAssignment.valid_from)
        .limit(1)
    )
    if overlapping is not None:
        until = overlapping.valid_to.isoformat() if overlapping.valid_to else "open-ended"
        raise ConflictError(
            f"{number.e164} is held by account {overlapping.account_id} from "
            f"{overlapping.valid_from.isoformat()} to {until}",
            code=AccountErrorCode.ASSIGNMENT_OVERLAP,
            field="valid_from",
        )
    assignment = NumberAssignment(
        id=new_id("nas"),
        tenant_id=number.tenant_id,
        number_id=number.id,
        account_id=account.id,
        subscription_id=None,
        valid_from=valid_from,
        valid_to=valid_to,
        created_at=clock.now(),
    )
    session.add(assignment)
    session.flush()
    return assignment


def release_number(
    session: Session, *, scope: TenantScope, number_id: str, at: datetime
) -> NumberAssignment:
    """End, at `at`, the assignment holding the number then."""
    number = _lock_number(session, scope, number_id)
    held = session.scalar(
        select(NumberAssignment).where(
            NumberAssignment.number_id == number.id,
            NumberAssignment.valid_from <= at,
            or_(NumberAssignment.valid_to.is_(None), NumberAssignment.valid_to > at),
        )
    )
    if held is None:
        raise ConflictError(
            f"{number.e164} is not held by anyone at {at.isoformat()}",
            code=AccountErrorCode.NOT_ASSIGNED,
            field="at",
        )
    if at == held.valid_from:
        raise InvalidInputError(
            "releasing at the start would leave an empty assignment", field="at"
        )
    held.valid_to = at
    session.flush()
    return held


def list_assignments(
    session: Session, *, scope: TenantScope, number_id: str
) -> list[NumberAssignment]:
    number = get_number(session, scope=scope, number_id=number_id)
    return list(
        session.scalars(
            select(NumberAssignment)
            .where(NumberAssignment.number_id == number.id)
            .order_by(NumberAssignment.valid_from)
        )
    )


def number_holders(session: Session, *, scope: TenantScope, queries: pl.DataFrame) -> pl.DataFrame:
    """For a frame of (`number` in E.164, `at`) rows, who held each number then.

    One query loads every assignment of the scope that overlaps the frame's time span; the
    match itself is the pure as-of join `holders_at`. Adds `assignment_id`, `tenant_id`,
    `account_id` and `subscription_id` (null where nobody held the number, or where two
    tenants of the scope held the same number at that instant).
    """
    if queries.is_empty():
        return holders_at(queries, pl.DataFrame(schema=ASSIGNMENT_SCHEMA))
    start, end = queries["at"].min(), queries["at"].max()
    stmt = (
        select(
            PhoneNumber.e164.label("number"),
            NumberAssignment.valid_from,
            NumberAssignment.valid_to,
            NumberAssignment.id.label("assignment_id"),
            NumberAssignment.tenant_id,
            NumberAssignment.account_id,
            NumberAssignment.subscription_id,
        )
        .join(PhoneNumber, PhoneNumber.id == NumberAssignment.number_id)
        .where(
            scope.filter(NumberAssignment),
            NumberAssignment.valid_from <= end,
            or_(NumberAssignment.valid_to.is_(None), NumberAssignment.valid_to > start),
        )
    )
    rows = session.execute(stmt).all()
    assignments = pl.DataFrame([tuple(r) for r in rows], schema=ASSIGNMENT_SCHEMA, orient="row")
    return holders_at(queries, assignments)
