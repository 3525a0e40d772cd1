"""The demo: a sample provider (a parent company, three brands, a few hundred accounts with
hierarchies, numbers with history) loaded through the real services, then shown as tables.

`billstream demo` runs it in one transaction at a fixed date (`DEMO_START`), so it gives the
same data on every machine; a second run finds the data and only shows it again.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from rich.console import RenderableType
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from billstream.core.clock import Clock
from billstream.demo.load import load_demo
from billstream.demo.provider import PARENT
from billstream.demo.report import demo_tables
from billstream.tenants.models import Tenant

__all__ = ["DEMO_START", "LOOKUPS", "run_demo"]

DEMO_START = datetime(2026, 1, 1, tzinfo=UTC)
LOOKUPS = 100_000

NEXT_STEPS = f"""\
Next: start the API and look around.
  billstream serve
  billstream apikey create --tenant {PARENT.slug} --descendants
  then open http://127.0.0.1:8000/docs and authorise with the token."""


def run_demo(
    session: Session,
    *,
    clock: Clock,
    accounts: int,
    seed: int,
    lookups: int = LOOKUPS,
) -> list[RenderableType]:
    """Load the demo provider unless it is there; return what to show once committed."""
    root = session.scalar(select(Tenant).where(Tenant.slug == PARENT.slug))
    if root is None:
        started = time.perf_counter()
        root = load_demo(session, clock=clock, accounts_total=accounts, seed=seed)
        status = (
            f"Loaded the demo provider {PARENT.name} as of {clock.now():%Y-%m-%d} "
            f"in {time.perf_counter() - started:.1f} s."
        )
    else:
        status = "demo data already loaded"
    tables = demo_tables(session, root=root, now=clock.now(), seed=seed, lookups=lookups)
    return [Text(status), *tables, Text(NEXT_STEPS)]
