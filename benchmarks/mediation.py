"""Mediation throughput: an Asterisk Master.csv of `--rows` CDRs, read and ingested.

Builds a tenant holding `--numbers` numbers (each assigned to its own account), writes a
deterministic Master.csv (18 columns with uniqueid, or 16 with `--hashed-keys` so every key
is a sha256 of the record's fields), then measures in one run:
(a) Polars reading the file as strings (the floor),
(b) billstream's parsing alone (lines, fields, timestamps, durations, keys),
(c) the whole ingest: parse, dedupe against stored keys, E.164 per distinct number, routing
    through the inventory at each record's instant, bulk insert (COPY on PostgreSQL),
(d) the same file again (recognised by its checksum).
Prints rows/s for each and the peak RSS of the whole run (the generated file included); with
`--json` ends with one JSON line.

    python -m benchmarks.mediation [--rows 1000000] [--numbers 2000] [--callers 20000]
        [--hashed-keys] [--database URL] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import insert, select

from billstream.accounts.models import Account, NumberAssignment, PhoneNumber
from billstream.accounts.service import import_accounts
from billstream.core.clock import FakeClock
from billstream.core.ids import new_id
from billstream.db.engine import make_engine, make_session_factory
from billstream.db.migrate import upgrade
from billstream.mediation.parsing import parse_cdr_file
from billstream.mediation.service import find_format, ingest_cdr_file
from billstream.tenants.service import create_tenant, operator_context

MONTH = datetime(2026, 1, 1, tzinfo=UTC)


def called_number(i: int) -> str:
    return f"212{200 + i // 10_000:03d}{i % 10_000:04d}"


def master_csv(rows: int, numbers: int, callers: int, *, hashed: bool, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    called = pl.Series([called_number(rng.randrange(numbers)) for _ in range(rows)])
    calling = pl.Series(
        [
            f"415{200 + (c := rng.randrange(callers)) // 10_000:03d}{c % 10_000:04d}"
            for _ in range(rows)
        ]
    )
    start = pl.Series([MONTH + timedelta(seconds=rng.randrange(30 * 86_400)) for _ in range(rows)])
    billsec = pl.Series([rng.randrange(0, 600) for _ in range(rows)])
    frame = pl.DataFrame(
        {
            "accountcode": "",
            "src": calling,
            "dst": called,
            "dcontext": "from-internal",
            "clid": calling,
            "channel": pl.Series([f"SIP/100-{i:08x}" for i in range(rows)]),
            "dstchannel": "SIP/trunk-0001",
            "lastapp": "Dial",
            "lastdata": "SIP/trunk",
            "start": start.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "answer": start.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "end": (start + billsec.cast(pl.Duration("us")) * 1_000_000).dt.strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "duration": billsec + 5,
            "billsec": billsec,
            "disposition": "ANSWERED",
            "amaflags": "DOCUMENTATION",
        }
    )
    if not hashed:
        frame = frame.with_columns(
            pl.format("1736000000.{}", pl.int_range(rows)).alias("uniqueid"),
            pl.lit("").alias("userfield"),
        )
    out = io.BytesIO()
    frame.write_csv(out, include_header=False, quote_style="non_numeric")
    return out.getvalue()


def provider(session, clock: FakeClock, numbers: int):  # type: ignore[no-untyped-def]
    tenant = create_tenant(
        session,
        clock=clock,
        slug=f"bench-{random.randrange(10**9)}",
        name="Bench",
        settings={"currency": "USD", "locale": "en_US"},
    )
    rows = [{"external_id": f"c{i}", "name": f"Customer {i}"} for i in range(numbers)]
    import_accounts(session, clock=clock, ctx=operator_context(session, tenant.id), rows=rows)
    accounts = [
        {"id": account_id}
        for account_id in session.scalars(select(Account.id).where(Account.tenant_id == tenant.id))
    ]
    now = clock.now()
    phones = [
        {"id": new_id("num"), "tenant_id": tenant.id, "e164": "+1" + called_number(i),
         "kind": "geographic", "created_at": now, "updated_at": now}
        for i in range(numbers)
    ]  # fmt: skip
    session.execute(insert(PhoneNumber), phones)
    session.execute(
        insert(NumberAssignment),
        [
            {"id": new_id("nas"), "tenant_id": tenant.id, "number_id": p["id"],
             "account_id": a["id"], "valid_from": MONTH, "created_at": now}
            for p, a in zip(phones, accounts, strict=True)
        ],
    )  # fmt: skip
    session.commit()
    return tenant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--numbers", type=int, default=2_000)
    parser.add_argument("--callers", type=int, default=20_000)
    parser.add_argument("--hashed-keys", action="store_true")
    parser.add_argument("--database")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    t = time.perf_counter()
    data = master_csv(args.rows, args.numbers, args.callers, hashed=args.hashed_keys)
    took = time.perf_counter() - t
    print(f"generated {args.rows:,} CDRs ({len(data) / 1e6:.0f} MB) in {took:.1f} s")
    fmt = find_format("asterisk-cdr-csv", None)
    results: dict[str, float] = {}

    t = time.perf_counter()
    pl.read_csv(data, has_header=False, infer_schema=False)
    results["floor_rows_per_s"] = args.rows / (time.perf_counter() - t)

    t = time.perf_counter()
    parsed, _ = parse_cdr_file(data, fmt)
    results["parse_rows_per_s"] = args.rows / (time.perf_counter() - t)
    assert parsed.records.height == args.rows, parsed.rejects.head()
    del parsed

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        clock = FakeClock(datetime(2026, 2, 1, tzinfo=UTC))
        factory = make_session_factory(engine)
        with factory() as session:
            tenant = provider(session, clock, args.numbers)
            ctx = operator_context(session, tenant.id)
            t = time.perf_counter()
            report = ingest_cdr_file(session, clock=clock, ctx=ctx,
                                     fmt=fmt, name="Master.csv", data=data)  # fmt: skip
            session.commit()
            results["ingest_rows_per_s"] = args.rows / (time.perf_counter() - t)
            assert report.accepted == args.rows, (report.accepted, report.rejects.head())
            t = time.perf_counter()
            again = ingest_cdr_file(session, clock=clock, ctx=ctx,
                                    fmt=fmt, name="again.csv", data=data)  # fmt: skip
            session.commit()
            results["same_file_again_s"] = time.perf_counter() - t
            assert again.duplicates == args.rows
        engine.dispose()
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, value in results.items():
        print(f"{name:>22}: {value:,.2f}")
    if args.json:
        print(json.dumps({k: round(v, 2) for k, v in results.items()}))


if __name__ == "__main__":
    main()
