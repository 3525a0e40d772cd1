"""Rate cards: import a CSV as a new version of a named card; load cards as rates frames."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import ColumnElement, insert, or_, select
from sqlalchemy.orm import Session

from billstream.accounts.service import account_of_tenant
from billstream.core.clock import Clock
from billstream.core.errors import ConflictError, InvalidInputError
from billstream.core.ids import new_id
from billstream.core.money import validate_currency
from billstream.rating.card_file import RowError, overlap_summary, read_card_rows
from billstream.rating.models import (
    MAX_CARRIER_LENGTH,
    CardKind,
    Rate,
    RateCard,
    RateCardVersion,
)
from billstream.rating.rater import RATE_SCHEMA
from billstream.tenants.context import TenantContext

__all__ = ["CardImport", "cost_rates", "import_rate_card", "local_midnight", "retail_rates"]


@dataclass(frozen=True)
class CardImport:
    card_id: str
    version_id: str | None
    version: int | None
    rows: int
    imported: int
    errors: list[RowError]


def local_midnight(day: date, timezone: str) -> datetime:
    """The instant a local day starts in `timezone`."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))


def _card(
    session: Session,
    *,
    tenant_id: str,
    name: str,
    kind: CardKind,
    currency: str,
    account_id: str | None,
    carrier: str | None,
    now: datetime,
) -> RateCard:
    card = session.scalar(
        select(RateCard).where(RateCard.tenant_id == tenant_id, RateCard.name == name)
    )
    if card is None:
        card = RateCard(
            id=new_id("rc"),
            tenant_id=tenant_id,
            name=name,
            kind=kind.value,
            currency=currency,
            account_id=account_id,
            carrier=carrier,
            created_at=now,
            updated_at=now,
        )
        session.add(card)
        session.flush()
    elif card.kind != kind.value or card.currency != currency:
        raise ConflictError(
            f"card {name!r} is a {card.kind} card in {card.currency}; a new version keeps both",
            field="kind" if card.kind != kind.value else "currency",
        )
    return card


def import_rate_card(
    session: Session,
    *,
    clock: Clock,
    ctx: TenantContext,
    name: str,
    kind: CardKind,
    rows: Iterable[Mapping[str, Any]],
    source: str,
    effective_from: date | None = None,
    currency: str | None = None,
    account_id: str | None = None,
    carrier: str | None = None,
) -> CardImport:
    """Import rows as the next version of card `name`, in force from `effective_from` (the
    tenant's local midnight; default today); the version before ends there. Bad rows are
    reported with their line and column and the rest are imported. No valid row: nothing.
    Rows of one (prefix, usage type, band) whose effective windows overlap refuse the whole
    file (`InvalidInputError` naming the later row's line and column): nothing is written."""
    tenant_id = ctx.tenant_id
    if not name.strip() or len(name) > 100:
        raise InvalidInputError("a card name is 1-100 characters", field="name")
    if carrier is not None and len(carrier) > MAX_CARRIER_LENGTH:
        raise InvalidInputError(
            f"a carrier name is at most {MAX_CARRIER_LENGTH} characters", field="carrier"
        )
    if account_id is not None:
        account_of_tenant(session, ctx=ctx, account_id=account_id, field="account_id")
    settings = ctx.settings
    currency = validate_currency(currency or settings.currency)
    starts = local_midnight(
        effective_from or clock.now().astimezone(ZoneInfo(settings.timezone)).date(),
        settings.timezone,
    )
    parsed = read_card_rows(rows, timezone=settings.timezone)
    _refuse_overlaps(parsed.overlaps)
    card = _card(
        session,
        tenant_id=tenant_id,
        name=name,
        kind=kind,
        currency=currency,
        account_id=account_id,
        carrier=carrier,
        now=clock.now(),
    )
    if not parsed.rates:
        return CardImport(card.id, None, None, parsed.rows, 0, parsed.errors)
    version = _new_version(session, card, starts=starts, clock=clock, source=source)
    version.rates = len(parsed.rates)
    session.execute(
        insert(Rate),
        [
            rate | {"id": new_id("rt"), "tenant_id": tenant_id, "version_id": version.id}
            for rate in parsed.rates
        ],
    )
    session.flush()
    return CardImport(
        card.id, version.id, version.version, parsed.rows, len(parsed.rates), parsed.errors
    )


def _refuse_overlaps(overlaps: list[RowError]) -> None:
    """Refuse a file where one destination's rows overlap in time, before anything is written."""
    if not overlaps:
        return
    first = overlaps[0]
    raise InvalidInputError(
        "rows of one prefix, usage type and band have overlapping effective windows, so "
        f"nothing was imported: {overlap_summary(overlaps)}",
        field=f"line {first.line}: {first.column}",
    )


def _new_version(
    session: Session, card: RateCard, *, starts: datetime, clock: Clock, source: str
) -> RateCardVersion:
    latest = session.scalar(
        select(RateCardVersion)
        .where(RateCardVersion.card_id == card.id)
        .order_by(RateCardVersion.version.desc())
        .limit(1)
    )
    if latest is not None:
        if starts <= latest.effective_from:
            raise ConflictError(
                f"version {latest.version} of {card.name!r} is in force from "
                f"{latest.effective_from:%Y-%m-%d}; a new version must start after it",
                field="effective_from",
            )
        latest.effective_to = starts
    version = RateCardVersion(
        id=new_id("rcv"),
        tenant_id=card.tenant_id,
        card_id=card.id,
        version=(latest.version + 1) if latest else 1,
        effective_from=starts,
        effective_to=None,
        source=source[:255],
        rates=0,
        imported_at=clock.now(),
    )
    session.add(version)
    session.flush()
    return version


def retail_rates(
    session: Session, *, tenant_id: str, start: datetime, end: datetime
) -> tuple[pl.LazyFrame, str | None]:
    """The rates of the tenant's retail cards in force in ``[start, end)`` (its card plus
    customers' special cards), as a rates frame (`rater.RATE_SCHEMA`) and their currency.
    Cost cards are inherited per carrier: `cost_rates`."""
    where = [RateCard.tenant_id == tenant_id, RateCard.kind == CardKind.RETAIL.value]
    rows = _rate_rows(session, where, start=start, end=end)
    conflict = _conflict(rows, CardKind.RETAIL)
    if conflict is not None:
        raise conflict
    return _rates_of(rows, start=start, end=end)


def cost_rates(
    session: Session, *, tenant_ids: Sequence[str], start: datetime, end: datetime
) -> dict[tuple[str, str], tuple[pl.LazyFrame, str | None] | ConflictError]:
    """The rates of every cost card of `tenant_ids` in force in ``[start, end)``, by
    (owner, carrier), in one query; an owner with two cards for one carrier: the conflict,
    to be raised only if that card is used."""
    where = [RateCard.tenant_id.in_(list(tenant_ids)), RateCard.kind == CardKind.COST.value]
    grouped: dict[tuple[str, str], list[Any]] = {}
    for row in _rate_rows(session, where, start=start, end=end):
        grouped.setdefault((row.tenant_id, row.carrier), []).append(row)
    return {
        key: _conflict(rows, CardKind.COST) or _rates_of(rows, start=start, end=end)
        for key, rows in grouped.items()
    }


def _rate_rows(
    session: Session, where: list[ColumnElement[bool]], *, start: datetime, end: datetime
) -> list[Any]:
    """The rate rows of the cards `where` selects whose versions overlap ``[start, end)``."""
    stmt = (
        select(
            Rate.id.label("rate_id"),
            Rate.version_id.label("card_version_id"),
            RateCard.account_id,
            Rate.prefix,
            Rate.usage_type,
            Rate.band,
            RateCardVersion.effective_from.label("valid_from"),
            RateCardVersion.effective_to.label("valid_to"),
            Rate.rate_micros,
            Rate.connect_fee_micros,
            Rate.min_duration_s,
            Rate.first_increment_s,
            Rate.next_increment_s,
            RateCard.currency,
            RateCard.id.label("card_id"),
            Rate.effective_from,
            Rate.effective_to,
            RateCard.tenant_id,
            RateCard.carrier,
        )
        .join(RateCardVersion, RateCardVersion.id == Rate.version_id)
        .join(RateCard, RateCard.id == RateCardVersion.card_id)
        .where(
            *where,
            RateCardVersion.effective_from < end,
            or_(RateCardVersion.effective_to.is_(None), RateCardVersion.effective_to > start),
        )
        .order_by(RateCard.name, RateCardVersion.version, Rate.prefix)
    )
    return list(session.execute(stmt).all())


def _conflict(rows: Sequence[Any], kind: CardKind) -> ConflictError | None:
    base_cards = {r.card_id for r in rows if r.account_id is None}
    if len(base_cards) > 1:
        return ConflictError(
            f"the tenant has {len(base_cards)} {kind.value} cards for everyone; keep one",
            field="card",
        )
    return None


def _rates_of(
    rows: Sequence[Any], *, start: datetime, end: datetime
) -> tuple[pl.LazyFrame, str | None]:
    currencies = {r.currency for r in rows}
    frame = pl.DataFrame(
        [_narrowed(tuple(r)) for r in rows], schema=RATE_SCHEMA, orient="row"
    ).filter(
        (pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("valid_from")))
        & (pl.col("valid_from") < end.astimezone(UTC))
        & (pl.col("valid_to").is_null() | (pl.col("valid_to") > start.astimezone(UTC)))
    )
    return frame.lazy(), (currencies.pop() if len(currencies) == 1 else None)


def _narrowed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A rate row's window: its version's, narrowed by the rate's own effective dates."""
    valid_from, valid_to = row[6], row[7]
    rate_from, rate_to = row[15], row[16]
    if rate_from is not None and rate_from > valid_from:
        valid_from = rate_from
    if rate_to is not None and (valid_to is None or rate_to < valid_to):
        valid_to = rate_to
    return (*row[:6], valid_from, valid_to, *row[8:13])
