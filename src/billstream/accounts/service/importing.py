"""Account import from rows (a CSV file): a bad row is reported and the rest go on.

Rows are matched to existing accounts by `external_id`: new ones are created, existing ones
have their fields updated (moving an account in the hierarchy is `move_account`'s work, so a
changed parent is reported, not applied). A row may name as parent an account created earlier
in the file or already stored. Everything is checked in memory against maps loaded by one
query each, then written with one bulk insert; updates change the already loaded rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from billstream.accounts.hierarchy import AccountNode, BrokenHierarchyError, paying_ancestor
from billstream.accounts.models import Account, BillingMode
from billstream.accounts.schemas import AccountCreate, AccountUpdate
from billstream.accounts.service.accounts import checked_fields
from billstream.accounts.validation import check_billing_day
from billstream.core.clock import Clock
from billstream.core.errors import BillstreamError
from billstream.core.ids import new_id
from billstream.core.inputs import FROM_TEXT
from billstream.core.money import validate_currency
from billstream.tenants.context import TenantContext

ADDRESS_PARTS = ("line1", "line2", "city", "region", "postcode", "country")
UPDATABLE = tuple(AccountUpdate.model_fields)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    external_id: str | None
    field: str | None
    reason: str


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)


def _row_to_input(row: Mapping[str, str | None]) -> dict[str, Any]:
    """A flat CSV row (``billing_address_city`` …) as the nested shape of `AccountCreate`."""
    values: dict[str, Any] = {}
    for key, raw in row.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if value in ("", None) or key is None:
            continue
        prefix = next(
            (p for p in ("billing_address_", "service_address_") if key.startswith(p)), None
        )
        if prefix:
            values.setdefault(prefix[:-1], {})[key.removeprefix(prefix)] = value
        else:
            values[key] = value
    return values


def _validation_message(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    return ".".join(str(p) for p in first["loc"]), str(first["msg"])


def import_accounts(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    rows: Iterable[Mapping[str, str | None]],
    first_line: int = 2,
) -> ImportReport:
    """Create or update accounts from `rows`; every row is counted exactly once in the report."""
    tenant_id, settings = ctx.tenant_id, ctx.settings
    stored = {
        a.external_id: a
        for a in session.scalars(
            select(Account).where(Account.tenant_id == tenant_id, Account.external_id.is_not(None))
        )
    }
    nodes = {a.id: AccountNode(a.id, a.parent_id, a.self_paying) for a in stored.values()}
    currency_of = {a.id: a.currency for a in stored.values()}
    id_of = {ext: a.id for ext, a in stored.items()}
    in_file: set[str] = set()
    report = ImportReport()
    creates: list[dict[str, Any]] = []
    now = clock.now()
    for offset, row in enumerate(rows):
        report.rows += 1
        line = first_line + offset
        values = _row_to_input(row)
        ext = values.get("external_id")
        try:
            if not ext:
                raise BillstreamError(
                    "every imported row needs an external_id", field="external_id"
                )
            if ext in in_file:
                raise BillstreamError(
                    "this external_id appears twice in the file", field="external_id"
                )
            in_file.add(ext)
            parent_ext = values.pop("parent_external_id", None)
            parent_id = id_of.get(parent_ext) if parent_ext else None
            if parent_ext and parent_id is None:
                raise BillstreamError(
                    f"no account with external_id {parent_ext!r} (above or stored)",
                    field="parent_external_id",
                )
            if ext in stored:
                change = _update_row(stored[ext], values, parent_id, settings.locale)
                if change is None:
                    report.unchanged += 1
                else:
                    for key, value in {**change, "updated_at": now}.items():
                        setattr(stored[ext], key, value)
                    report.updated += 1
                continue
            data = AccountCreate.model_validate(
                {**values, "parent_id": parent_id, "tenant_id": tenant_id}, context=FROM_TEXT
            )
            account = _new_row(data, nodes, currency_of, settings.currency, settings.locale)
            account |= {
                "id": new_id("acc"),
                "tenant_id": tenant_id,
                "created_at": now,
                "updated_at": now,
            }
            creates.append(account)
            id_of[ext] = account["id"]
            nodes[account["id"]] = AccountNode(
                account["id"], parent_id, account["billing_mode"] == BillingMode.SELF_PAYING
            )
            currency_of[account["id"]] = account["currency"]
            report.created += 1
        except ValidationError as exc:
            where, reason = _validation_message(exc)
            report.errors.append(RowError(line, ext, where, reason))
        except BillstreamError as exc:
            report.errors.append(RowError(line, ext, exc.field, exc.detail))
    if creates:
        session.execute(insert(Account), creates)
    session.flush()
    return report


def _new_row(
    data: AccountCreate,
    nodes: Mapping[str, AccountNode],
    currency_of: Mapping[str, str],
    tenant_currency: str,
    locale: str,
) -> dict[str, Any]:
    fields = checked_fields(data.model_dump(exclude={"tenant_id", "currency"}), locale=locale)
    fields["billing_day"] = check_billing_day(data.billing_cycle, data.billing_day)
    fields["language"] = fields.get("language") or locale
    currency = validate_currency(data.currency) if data.currency else None
    if data.billing_mode == BillingMode.BILLED_TO_PARENT:
        if data.parent_id is None:
            raise BillstreamError(
                "an account billed to its parent needs a parent", field="parent_external_id"
            )
        try:
            payer_currency = currency_of[paying_ancestor(data.parent_id, nodes)]
        except BrokenHierarchyError as exc:
            raise BillstreamError(str(exc), field="parent_external_id") from None
        if currency not in (None, payer_currency):
            raise BillstreamError(f"the paying account bills in {payer_currency}", field="currency")
        currency = payer_currency
    return {**fields, "currency": currency or tenant_currency}


def _update_row(
    account: Account, values: dict[str, Any], parent_id: str | None, locale: str
) -> dict[str, Any] | None:
    """The changed fields of an existing account, or None if the row changes nothing."""
    if parent_id != account.parent_id:
        raise BillstreamError(
            "the parent differs from the stored one; use account move", field="parent_external_id"
        )
    if "currency" in values:
        values["currency"] = validate_currency(values["currency"])
    for fixed in ("billing_mode", "currency"):
        if fixed in values and values.pop(fixed) != getattr(account, fixed):
            raise BillstreamError(
                f"{fixed} of an existing account is not changed by import", field=fixed
            )
    values.pop("tenant_id", None)
    data = AccountUpdate.model_validate(values, context=FROM_TEXT)
    changes = checked_fields(data.model_dump(exclude_unset=True), locale=locale)
    if "billing_cycle" in changes or "billing_day" in changes:
        cycle = changes.get("billing_cycle", account.billing_cycle)
        kept_day = account.billing_day if cycle == account.billing_cycle else None
        changes["billing_day"] = check_billing_day(cycle, changes.get("billing_day", kept_day))
    diff = {k: v for k, v in changes.items() if getattr(account, k) != v}
    return diff or None
