"""Driving a bill run: one transaction to start it, one per chunk, one to finish it.

Each chunk commits on its own, so a run of 100,000 accounts never holds one long
transaction, a crash loses at most the chunk in flight, and running the same key again
resumes where it stopped (or returns the finished run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from billstream.billing.models import BillRun
from billstream.billing.service.runs import (
    CHUNK,
    BillRunRequest,
    bill_pending,
    finish_bill_run,
    pending_count,
    start_bill_run,
)
from billstream.core.clock import Clock
from billstream.tenants.scope import TenantScope

Progress = Callable[[int, int], None]  # (accounts done, accounts in the run)


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    key: str
    tenant_id: str
    status: str
    accounts: int
    invoiced: int
    nothing_due: int
    failed: int


def _summary(run: BillRun) -> RunSummary:
    return RunSummary(
        run.id,
        run.key,
        run.tenant_id,
        run.status,
        run.accounts,
        run.invoiced,
        run.nothing_due,
        run.failed,
    )


def execute_bill_run(
    sessions: sessionmaker[Session],
    clock: Clock,
    *,
    scope: TenantScope,
    request: BillRunRequest,
    actor: str,
    chunk: int = CHUNK,
    progress: Progress | None = None,
) -> RunSummary:
    """Start (or resume) the run of `request` and bill it to the end, chunk by chunk."""
    with sessions.begin() as session:
        run = start_bill_run(session, clock, scope=scope, request=request, actor=actor)
        run_id, total = run.id, run.accounts
        left = pending_count(session, run_id)
    done = total - left
    if progress:
        progress(done, total)
    while left:
        with sessions.begin() as session:
            handled = bill_pending(session, clock, run_id=run_id, limit=chunk)
        if not handled:
            break
        done += handled
        left -= handled
        if progress:
            progress(done, total)
    with sessions.begin() as session:
        return _summary(finish_bill_run(session, clock, run_id=run_id))
