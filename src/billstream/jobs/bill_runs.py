"""Driving a bill run: one transaction to start it, one per chunk, one to finish it.

Each chunk commits on its own, so a run of 100,000 accounts never holds one long
transaction, a crash loses at most the chunk in flight, and running the same key again
resumes where it stopped (or returns the finished run).

On PostgreSQL the chunks can be billed by several processes at once (`workers`: the caller
and `workers - 1` helpers it starts): each claims its chunk's accounts with ``SKIP LOCKED``
and they share only the short lock on the invoice series at the end of each chunk. SQLite
has one writer, so one worker.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from sqlalchemy import URL
from sqlalchemy.orm import Session, sessionmaker

from billstream.billing.models import BillRun
from billstream.billing.service.runs import (
    CHUNK,
    BillRunRequest,
    bill_pending,
    finish_bill_run,
    pending_count,
    refresh_statistics,
    start_bill_run,
    wait_for_chunks_in_flight,
)
from billstream.core.clock import Clock
from billstream.core.errors import InvalidInputError
from billstream.db.engine import make_engine, make_session_factory
from billstream.jobs.collector import fewer_collections
from billstream.tenants.context import TenantContext

Progress = Callable[[int, int], None]  # (accounts done, accounts in the run)
ANALYSE_FROM = 5_000  # accounts of a run from which it refreshes the planner's statistics


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
    ctx: TenantContext,
    request: BillRunRequest,
    actor: str,
    chunk: int = CHUNK,
    workers: int = 1,
    progress: Progress | None = None,
) -> RunSummary:
    """Start (or resume) the run of `request` and bill it to the end, chunk by chunk, in
    `workers` processes (more than one on PostgreSQL only)."""
    with sessions.begin() as session:
        url = session.get_bind().engine.url
        check_workers(url, workers)
        run = start_bill_run(session, clock, ctx=ctx, request=request, actor=actor)
        run_id, total = run.id, run.accounts
        left = pending_count(session, run_id)
    # a run this large writes enough to leave the planner's statistics behind (see
    # `refresh_statistics`); for a smaller one an ANALYZE would cost more than it saves
    analyse = total >= ANALYSE_FROM
    if left and analyse:
        with sessions.begin() as session:
            refresh_statistics(session)
    if progress:
        progress(total - left, total)
    helpers: list[BaseProcess] = []
    if left and workers > 1:
        count = min(workers, -(-left // chunk)) - 1  # the caller is one of the workers
        helpers = _start_helpers(url.render_as_string(hide_password=False), clock, run_id,
                                 chunk=chunk, count=count)  # fmt: skip
    try:
        _bill_until_done(
            sessions, clock, run_id, chunk=chunk, total=total, progress=progress, analyse=analyse
        )
    finally:
        for helper in helpers:
            helper.join()
    if helpers:
        # what a helper that died left pending (its chunk in flight rolled back, so nothing
        # is lost or doubled)
        _bill_until_done(sessions, clock, run_id, chunk=chunk, total=total, progress=progress)
    with sessions.begin() as session:
        return _summary(finish_bill_run(session, clock, run_id=run_id))


def check_workers(url: URL, workers: int) -> None:
    """Several workers need PostgreSQL: SQLite lets one process write at a time, so on it
    they would only wait for each other (and `workers` is refused rather than ignored)."""
    if workers > 1 and url.get_backend_name() != "postgresql":
        raise InvalidInputError(
            f"{workers} workers need PostgreSQL: SQLite has one writer at a time, so a bill "
            "run on it has one worker",
            field="workers",
        )


def _bill_until_done(
    sessions: sessionmaker[Session],
    clock: Clock,
    run_id: str,
    *,
    chunk: int,
    total: int,
    progress: Progress | None,
    analyse: bool = False,
) -> None:
    """Bill chunks until none is pending, including those other processes were billing
    (joined at once, two runs of one key share its chunks; the summary is read after the
    last one). If `analyse`, refresh the planner's statistics after the 1st, 2nd, 4th, 8th…
    chunk, while the written tables double in size."""
    done = 0
    with fewer_collections():
        while True:
            with sessions.begin() as session:
                handled = bill_pending(session, clock, run_id=run_id, limit=chunk)
                left = pending_count(session, run_id) if progress else 0
            if not handled:
                # the rest may be chunks other processes are billing: wait for them
                with sessions.begin() as session:
                    if not wait_for_chunks_in_flight(session, run_id):
                        return
                continue
            done += 1
            if analyse and done & (done - 1) == 0:
                with sessions.begin() as session:
                    refresh_statistics(session)
            if progress:
                progress(total - left, total)


def _worker(url: str, clock: Clock, run_id: str, chunk: int) -> None:
    """A helper process: its own engine, billing chunks of the run until none is left."""
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        _bill_until_done(sessions, clock, run_id, chunk=chunk, total=0, progress=None)
    finally:
        engine.dispose()


def _start_helpers(
    url: str, clock: Clock, run_id: str, *, chunk: int, count: int
) -> list[BaseProcess]:
    """Start `count` processes billing chunks of the run beside the caller's own. The caller
    refreshes the statistics (two would only wait on each other)."""
    context = multiprocessing.get_context("spawn")
    helpers: list[BaseProcess] = [
        context.Process(target=_worker, args=(url, clock, run_id, chunk), daemon=True)
        for _ in range(count)
    ]
    for helper in helpers:
        helper.start()
    return helpers
