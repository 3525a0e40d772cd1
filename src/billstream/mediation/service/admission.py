"""Admit parsed records: dedupe, normalise, route, store; set-based from end to end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billstream.accounts.service import number_holders
from billstream.accounts.validation import region_of_locale
from billstream.core.errors import ConflictError
from billstream.db.bulk import copy_in
from billstream.mediation.definition import CdrFormat, RoutedNumber
from billstream.mediation.errors import MediationErrorCode, RejectReason
from billstream.mediation.models import UsageRecord
from billstream.mediation.normalise import with_e164
from billstream.mediation.parsing import REJECT_SCHEMA, rejects_of
from billstream.tenants.scope import TenantScope
from billstream.tenants.settings import ResolvedSettings

KEY_CHUNK = 5_000  # keys per look-up of stored keys on SQLite (bound parameters)
PG_KEY_CHUNK = 100_000  # keys per look-up on PostgreSQL (one array parameter)
COPY_CHUNK = 100_000  # rows per CSV chunk written to COPY, or per SQLite executemany
USAGE_COLUMNS = [
    "root_tenant_id",
    "record_key",
    "tenant_id",
    "account_id",
    "subscription_id",
    "usage_type",
    "started_at",
    "duration_s",
    "quantity",
    "calling",
    "called",
    "carrier",
    "file_id",
    "line_no",
]


@dataclass(frozen=True)
class Target:
    """Where records go: the importing tenant (it owns the arrival), its root (kept on the
    rows), the routing scope (the tenants records may route to, each owning its records)."""

    tenant_id: str
    root_tenant_id: str
    scope: TenantScope
    settings: ResolvedSettings  # the importing tenant's


@dataclass(frozen=True)
class Admitted:
    accepted: pl.DataFrame  # the stored rows (USAGE_COLUMNS)
    duplicate_lines: pl.Series  # line numbers counted as duplicates
    rejects: pl.DataFrame  # REJECT_SCHEMA


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


KEY_SCHEMA = {"tenant_id": pl.String, "record_key": pl.String}


def stored_keys(session: Session, routed: pl.DataFrame) -> pl.DataFrame:
    """Which (tenant_id, record_key) pairs of `routed` are stored already: one query per
    chunk of keys and the tenants they route to (on PostgreSQL one array parameter per
    100,000 keys; on SQLite an IN list of 5,000). A key stored by another tenant is not
    found: each tenant's keys are its own."""
    postgres = session.get_bind().dialect.name == "postgresql"
    pairs = routed.select("tenant_id", "record_key").unique()
    found: list[tuple[str, str]] = []
    for tenant_ids, keys in _by_tenants(pairs, PG_KEY_CHUNK if postgres else KEY_CHUNK):
        matches = (
            UsageRecord.record_key == any_(bindparam("keys", keys, type_=ARRAY(String)))
            if postgres
            else UsageRecord.record_key.in_(keys)
        )
        rows = session.execute(
            select(UsageRecord.tenant_id, UsageRecord.record_key).where(
                UsageRecord.tenant_id.in_(tenant_ids), matches
            )
        )
        found += [(tenant, key) for tenant, key in rows]
    stored = pl.DataFrame(found, schema=KEY_SCHEMA, orient="row")
    return stored.join(pairs, on=["tenant_id", "record_key"], how="semi")


def _by_tenants(pairs: pl.DataFrame, size: int) -> Iterator[tuple[list[str], list[str]]]:
    """Chunks of `size` distinct keys, each with the tenants its pairs route to."""
    keys = pairs["record_key"].unique().sort().to_list()
    for chunk in _chunks(keys, size):
        tenants = pairs.filter(pl.col("record_key").is_in(chunk))["tenant_id"].unique()
        yield sorted(tenants.to_list()), chunk


def _route(
    session: Session, scope: TenantScope, frame: pl.DataFrame, route_by: list[RoutedNumber]
) -> pl.DataFrame:
    """Add tenant_id, account_id, subscription_id: the first candidate number held then."""
    routed = frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in ("tenant_id", "account_id", "subscription_id")
    ).with_row_index("_i")
    for candidate in route_by:
        number = f"{candidate}_e164"
        todo = routed.filter(pl.col("account_id").is_null() & pl.col(number).is_not_null())
        if todo.is_empty():
            continue
        queries = todo.select(
            "_i", pl.col(number).alias("number"), pl.col("started_at").alias("at")
        )
        held = number_holders(session, scope=scope, queries=queries).filter(
            pl.col("account_id").is_not_null()
        )
        routed = routed.update(
            held.select("_i", "tenant_id", "account_id", "subscription_id"), on="_i", how="left"
        )
    return routed.drop("_i")


def _unrouted_rejects(unrouted: pl.DataFrame, route_by: list[RoutedNumber]) -> pl.DataFrame:
    valid = pl.any_horizontal(pl.col(f"{c}_e164").is_not_null() for c in route_by)
    names = " or ".join(str(c) for c in route_by)
    raws = pl.concat_str([pl.col(str(c)).fill_null("(empty)") for c in route_by], separator=" / ")
    found = pl.concat_str([pl.col(f"{c}_e164").fill_null("-") for c in route_by], separator=" / ")
    reason = (
        pl.when(valid)
        .then(pl.lit(RejectReason.UNKNOWN_NUMBER))
        .otherwise(pl.lit(RejectReason.BAD_NUMBER))
    )
    detail = (
        pl.when(valid)
        .then(
            pl.format(
                "no account held the {} number {} at {}",
                pl.lit(names),
                found,
                pl.col("started_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
        .otherwise(pl.format("the {} number {} is not a phone number", pl.lit(names), raws))
    )
    return rejects_of(unrouted, reason, detail)


def admit(
    session: Session,
    *,
    target: Target,
    fmt: CdrFormat,
    records: pl.DataFrame,
    file_ids: pl.Expr,
) -> Admitted:
    """Dedupe `records` in themselves, route them, dedupe against the keys stored by the
    tenants they route to, and store the rest.

    A key seen earlier in the same arrival is a duplicate (the arrival is the importer's own);
    a key stored before is a duplicate only for the tenant that stored it, so an import learns
    nothing about the keys of tenants its records do not route to. National numbers are read
    in the format's default region, else the tenant's (its locale).

    `file_ids` gives each record's file (a literal for one file; a column when reprocessing
    rejects of several).
    """
    ordered = records.sort("line_no")
    first = ordered.filter(pl.col("record_key").is_first_distinct())
    repeated_lines = ordered.join(
        first.select("line_no", "record_key"), on=["line_no", "record_key"], how="anti"
    )["line_no"]
    region = fmt.default_region or region_of_locale(target.settings.locale)
    numbered = with_e164(first, ["calling", "called", "toll_free"], region)
    routed = _route(session, target.scope, numbered, fmt.route_by)
    unrouted = routed.filter(pl.col("account_id").is_null())
    routed = routed.filter(pl.col("account_id").is_not_null())
    known = stored_keys(session, routed)
    seen_lines = routed.join(known, on=["tenant_id", "record_key"], how="semi")["line_no"]
    fresh = routed.join(known, on=["tenant_id", "record_key"], how="anti", maintain_order="left")
    accepted = fresh.select(
        pl.lit(target.root_tenant_id).alias("root_tenant_id"),
        "record_key",
        "tenant_id",
        "account_id",
        "subscription_id",
        pl.col("usage_type").str.slice(0, 32),
        "started_at",
        "duration_s",
        "quantity",
        # a number that is not one is kept as it came, cut to the column's width
        pl.coalesce("calling_e164", "calling").str.slice(0, 64).alias("calling"),
        pl.coalesce("called_e164", "called").str.slice(0, 64).alias("called"),
        pl.col("carrier").str.slice(0, 100),
        file_ids.cast(pl.String).alias("file_id"),
        "line_no",
    )
    accepted, raced_lines = store_new_records(session, accepted)
    line = repeated_lines.dtype
    duplicate_lines = pl.concat([repeated_lines, seen_lines.cast(line), raced_lines.cast(line)])
    rejects = _unrouted_rejects(unrouted, fmt.route_by) if unrouted.height else None
    return Admitted(
        accepted=accepted,
        duplicate_lines=duplicate_lines,
        rejects=rejects if rejects is not None else pl.DataFrame(schema=REJECT_SCHEMA),
    )


def store_new_records(session: Session, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Store `rows`, whose keys were not stored when looked up; returns the rows stored and the
    lines of those another import stored in the meantime, now duplicates.

    Two imports of the same new records can race between the look-up of stored keys and the
    insert (on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises them). The insert runs in a
    savepoint: on a key clash it is undone, the keys are looked up again (the other import has
    committed them: its insert is what we waited on) and the rest is stored, once. A clash
    again is a `usage_import_conflict` (409): the whole import is rolled back, to be retried.
    """
    session.flush()  # the file row outside the savepoint: the rollback must not undo it
    raced = rows["line_no"].clear()
    for attempt in range(2):
        try:
            with session.begin_nested():
                store_records(session, rows)
            return rows, raced
        except IntegrityError:  # a key clash (both databases: see `db.bulk.copy_in`)
            if attempt:
                break
        again = stored_keys(session, rows)
        raced = rows.join(again, on=["tenant_id", "record_key"], how="semi")["line_no"]
        rows = rows.join(again, on=["tenant_id", "record_key"], how="anti", maintain_order="left")
    raise ConflictError(
        "another import is storing the same records; retry this one",
        code=MediationErrorCode.IMPORT_CONFLICT,
    )


def store_records(session: Session, rows: pl.DataFrame) -> None:
    """Bulk insert into usage_records: COPY on PostgreSQL, one executemany on SQLite."""
    if rows.is_empty():
        return
    session.flush()  # the file row first: the records point at it
    rows = rows.sort("record_key")  # in primary-key order: the index grows at its end
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy(session, rows)
    else:
        _executemany(connection, rows)


def _executemany(connection: Connection, rows: pl.DataFrame) -> None:
    """SQLite: executemany of plain tuples at the driver (per 100,000 rows), instants as the text
    `UTCDateTime` stores there (naive UTC), so no per-value Python type processing."""
    tuples = rows.select(
        pl.col(USAGE_COLUMNS).exclude("started_at"),
        pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M:%S%.6f"),
    ).select(USAGE_COLUMNS)
    marks = ", ".join("?" for _ in USAGE_COLUMNS)
    sql = f"INSERT INTO usage_records ({', '.join(USAGE_COLUMNS)}) VALUES ({marks})"
    for chunk in tuples.iter_slices(COPY_CHUNK):  # a chunk's tuples at a time: bounded memory
        connection.exec_driver_sql(sql, chunk.rows())


def _copy(session: Session, rows: pl.DataFrame) -> None:
    columns = ", ".join(USAGE_COLUMNS)
    with copy_in(session, f"COPY usage_records ({columns}) FROM STDIN (FORMAT csv)") as copy:
        for chunk in rows.select(USAGE_COLUMNS).iter_slices(COPY_CHUNK):
            copy.write(
                chunk.write_csv(
                    include_header=False,
                    datetime_format="%Y-%m-%dT%H:%M:%S%.6f+00:00",
                    null_value="",
                )
            )
