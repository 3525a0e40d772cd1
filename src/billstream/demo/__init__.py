"""The demo: a sample provider and its whole month, through the real services and jobs.

A parent company with three brands (USD, GBP, SGD), a catalogue of per-number plans with
included minutes, retail and carrier cost cards (rounding rules, tiers), about a thousand
accounts with hierarchies (SPEC's Org ABC among them) and their numbers are set up on
`DEMO_START` in one transaction. Then January runs: the bill runs of accounts with their own
billing day, a month of generated CDRs through mediation and rating, the month-end bill runs
and a sample of invoice PDFs, each stage committing as the real jobs do (`demo.month`). A
second run finds what is done, finishes what is not, and shows the same summary again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from rich.console import RenderableType
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from billstream.core.clock import FakeClock
from billstream.demo import month
from billstream.demo.load import load_demo
from billstream.demo.month import LOOKUPS, DemoOptions, Stages
from billstream.demo.provider import PARENT
from billstream.demo.report import demo_tables
from billstream.demo.summary import month_tables
from billstream.tenants.models import Tenant

__all__ = ["DEMO_START", "LOOKUPS", "DemoOptions", "run_demo"]

DEMO_START = datetime(2026, 1, 1, tzinfo=UTC)

Announce = Callable[[str], None]


def _root(session: Session) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.slug == PARENT.slug))


def set_up(
    sessions: sessionmaker[Session], clock: FakeClock, options: DemoOptions, stages: Stages
) -> str | None:
    """Load the provider on `DEMO_START` unless it is there; the status line if loaded."""
    clock.set(DEMO_START)
    with sessions.begin() as session:
        if _root(session) is not None:
            return None
        started = time.perf_counter()
        with stages.timed("setup") as detail:
            load_demo(session, clock=clock, accounts_total=options.accounts, seed=options.seed)
            detail.append(f"{options.accounts} accounts, numbers, catalogue, cards, orders")
    return (
        f"Loaded the demo provider {PARENT.name} as of {DEMO_START:%Y-%m-%d} "
        f"in {time.perf_counter() - started:.1f} s."
    )


def run_month(
    sessions: sessionmaker[Session],
    clock: FakeClock,
    options: DemoOptions,
    stages: Stages,
    announce: Announce,
) -> None:
    """Every stage of January the database does not show done yet."""
    with sessions() as session:
        root = _root(session)
        brands = month.brand_tenants(session)
        billed = month.month_end_billed(session, brands)
    assert root is not None
    if not billed:
        bill_month(sessions, clock, options, stages, announce, root=root, brands=brands)
    with sessions() as session:
        todo = month.missing_pdfs(session, brands, options)[0] if options.pdfs else []
    if todo:
        announce(f"rendering {len(todo)} invoice PDFs")
        with stages.timed("invoice PDFs") as detail:
            detail.append(month.write_pdfs(sessions, root, brands, options))


def bill_month(
    sessions: sessionmaker[Session],
    clock: FakeClock,
    options: DemoOptions,
    stages: Stages,
    announce: Announce,
    *,
    root: Tenant,
    brands: Mapping[str, Tenant],
) -> None:
    """January up to its month-end bill runs: each stage skips what is already done."""
    with sessions() as session:
        received = month.received(session, root)
    announce("bill runs of accounts with their own billing day, through January")
    with stages.timed("anniversary bill runs") as detail:
        detail.append(month.bill_anniversaries(sessions, clock, brands))
    missing = [name for name in month.expected_files() if name not in received]
    if missing:
        announce(f"generating {options.cdrs:,} CDRs")
        with stages.timed("CDR generation") as detail:
            files = month.generate_month(sessions, brands, options)
            detail.append(f"{sum(f.records for f in files):,} records in {options.cdrs_dir}")
        announce("mediation: ingesting the carriers' files")
        with stages.timed("mediation") as detail:
            detail.append(month.ingest_month(sessions, clock, root, files, options.formats_dir))
    announce("rating January at retail and cost")
    with stages.timed("rating") as detail:
        detail.append(month.rate_month(sessions, clock, brands, options.data_dir))
    announce("month-end bill runs")
    with stages.timed("month-end bill runs") as detail:
        detail.append(month.bill_month_end(sessions, clock, brands))


def run_demo(
    sessions: sessionmaker[Session],
    *,
    clock: FakeClock,
    options: DemoOptions,
    announce: Announce = lambda _: None,
) -> list[RenderableType]:
    """Set up the provider and run its month where not done; what to show."""
    stages = Stages()
    announce("setting up the provider")
    status = set_up(sessions, clock, options, stages) or "demo data already loaded"
    run_month(sessions, clock, options, stages, announce)
    with sessions() as session:
        root = _root(session)
        assert root is not None
        setup = demo_tables(
            session, root=root, now=DEMO_START, seed=options.seed, lookups=options.lookups
        )
        summary = month_tables(session, root=root, stages=stages, options=options)
    return [Text(status), *setup, *summary]
