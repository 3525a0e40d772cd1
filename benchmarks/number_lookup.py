"""Who held number N at instant T, for a whole frame of pairs: set-based vs per-row.

Builds a tenant with `--numbers` numbers, each assigned to an account over the year in up to
three consecutive periods, then answers `--pairs` random (number, instant) look-ups
(a) with billstream's set-based `number_holders` (one query + one as-of join), and
(b) with one SQL query per pair, the per-record way, on a sample of `--sample` pairs.
Both answers are compared on the sample. Prints pairs/s for each and the speed-up; with
`--json` ends with one JSON line.

    python -m benchmarks.number_lookup [--numbers 20000] [--pairs 1000000] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from billstream.accounts.models import Account, NumberAssignment, PhoneNumber
from billstream.accounts.service import import_accounts, number_holders
from billstream.core.clock import FakeClock
from billstream.core.ids import new_id
from billstream.db.engine import make_engine, make_session_factory
from billstream.db.migrate import upgrade
from billstream.tenants.service import create_tenant, operator_context, operator_scope

YEAR = datetime(2026, 1, 1, tzinfo=UTC)
console = Console()


def build(session: Session, clock: FakeClock, numbers: int, rng: random.Random) -> list[str]:
    tenant = create_tenant(
        session,
        clock=clock,
        slug=f"bench-{rng.randrange(10**9)}",
        name="Benchmark",
        settings={"currency": "GBP", "locale": "en_GB"},
    )
    accounts = max(numbers // 5, 1)
    rows = [{"external_id": f"c{i}", "name": f"Customer {i}"} for i in range(accounts)]
    import_accounts(session, clock=clock, ctx=operator_context(session, tenant.id), rows=rows)
    account_ids = list(session.scalars(select(Account.id).where(Account.tenant_id == tenant.id)))
    e164s = sorted({f"+44207{rng.randrange(1_000_000, 9_999_999)}" for _ in range(numbers)})
    now = clock.now()
    number_rows = [
        {
            "id": new_id("num"),
            "tenant_id": tenant.id,
            "e164": e,
            "kind": "geographic",
            "created_at": now,
            "updated_at": now,
        }
        for e in e164s
    ]
    session.execute(insert(PhoneNumber), number_rows)
    assignments = []
    for row in number_rows:
        cuts = sorted(rng.sample(range(1, 364), 2))
        bounds = [YEAR, YEAR + timedelta(days=cuts[0]), YEAR + timedelta(days=cuts[1]), None]
        for start, end in pairwise(bounds):
            if rng.random() < 0.8:  # some gaps: nobody holds the number then
                assignments.append(
                    {
                        "id": new_id("nas"),
                        "tenant_id": tenant.id,
                        "number_id": row["id"],
                        "account_id": rng.choice(account_ids),
                        "subscription_id": None,
                        "valid_from": start,
                        "valid_to": end,
                        "created_at": now,
                    }
                )
    session.execute(insert(NumberAssignment), assignments)
    session.flush()
    return e164s


def per_row(session: Session, tenant_ids: list[str], number: str, at: datetime) -> str | None:
    """The per-record way, each step on its index: the number's id, then its assignment."""
    number_ids = select(PhoneNumber.id).where(
        PhoneNumber.tenant_id.in_(tenant_ids), PhoneNumber.e164 == number
    )
    return session.scalar(
        select(NumberAssignment.account_id).where(
            NumberAssignment.number_id.in_(number_ids.scalar_subquery()),
            NumberAssignment.valid_from <= at,
            or_(NumberAssignment.valid_to.is_(None), NumberAssignment.valid_to > at),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        clock = FakeClock(YEAR)
        with make_session_factory(engine)() as session:
            e164s = build(session, clock, args.numbers, rng)
            session.commit()
            tenant_id = session.scalar(
                select(PhoneNumber.tenant_id).where(PhoneNumber.e164 == e164s[0])
            )
            assert tenant_id is not None
            scope = operator_scope(session, tenant_id)
            seconds = [rng.randrange(0, 365 * 86400) for _ in range(args.pairs)]
            queries = pl.DataFrame(
                {
                    "number": [e164s[rng.randrange(len(e164s))] for _ in range(args.pairs)],
                    "at": [YEAR + timedelta(seconds=s) for s in seconds],
                },
                schema={"number": pl.String, "at": pl.Datetime("us", "UTC")},
            )
            started = time.perf_counter()
            held = number_holders(session, scope=scope, queries=queries)
            set_seconds = time.perf_counter() - started
            sample = queries.head(args.sample)
            started = time.perf_counter()
            expected = [
                per_row(session, sorted(scope.tenant_ids), n, a) for n, a in sample.iter_rows()
            ]
            row_seconds = time.perf_counter() - started
            assert held["account_id"].head(args.sample).to_list() == expected, "answers differ"
        engine.dispose()
    figures = {
        "pairs": args.pairs,
        "set_based_pairs_per_s": round(args.pairs / set_seconds),
        "per_row_pairs_per_s": round(args.sample / row_seconds),
        "speedup": round((args.pairs / set_seconds) / (args.sample / row_seconds), 1),
        "held_fraction": round(held["account_id"].is_not_null().mean() or 0, 3),
        "backend": engine.dialect.name,
    }
    table = Table(title=f"number look-up, {args.numbers:,} numbers ({figures['backend']})")
    table.add_column("way")
    table.add_column("pairs", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("pairs/s", justify="right")
    table.add_row(
        "set-based number_holders",
        f"{args.pairs:,}",
        f"{set_seconds:.2f}",
        f"{figures['set_based_pairs_per_s']:,}",
    )
    table.add_row(
        "one query per pair (baseline)",
        f"{args.sample:,}",
        f"{row_seconds:.2f}",
        f"{figures['per_row_pairs_per_s']:,}",
    )
    console.print(table)
    console.print(f"speed-up over per-row: {figures['speedup']}x; answers equal on the sample")
    if args.json:
        console.print(json.dumps(figures), highlight=False, soft_wrap=True)


if __name__ == "__main__":
    main()
