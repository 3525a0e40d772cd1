"""`billstream serve` (the REST API) and `billstream demo` (a sample provider's January)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from billstream.cli.common import command_runtime, console, fails_cleanly
from billstream.core.clock import FakeClock
from billstream.core.errors import InvalidInputError

# seconds a `serve --workers` process may take to import the app and answer; uvicorn's
# default of 5 s is shorter than that import on a busy machine, and the worker is then killed
WORKER_STARTUP_S = 60


@fails_cleanly
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Processes serving requests.")] = 1,
) -> None:
    """Run the REST API (OpenAPI docs at /docs)."""
    import uvicorn

    from billstream.app import create_app
    from billstream.db import migrate

    with command_runtime() as runtime:
        current, head = migrate.current_revision(runtime.engine), migrate.head_revision()
        if current != head:
            raise InvalidInputError(
                f"at revision {current or 'none'}, not {head}; run `billstream db upgrade` first",
                field="database",
            )
        console().print(
            f"billstream API on http://{host}:{port}/v1 - OpenAPI docs at http://{host}:{port}/docs",
            markup=False,
            highlight=False,
        )
        if workers == 1:
            uvicorn.run(create_app(runtime), host=host, port=port)
        else:  # each worker process imports the app factory and builds its own runtime
            factory = f"{create_app.__module__}:{create_app.__name__}"
            uvicorn.run(
                factory,
                factory=True,
                host=host,
                port=port,
                workers=workers,
                timeout_worker_healthcheck=WORKER_STARTUP_S,
            )


@fails_cleanly
def demo(
    accounts: Annotated[int, typer.Option(min=6, help="Accounts across all brands.")] = 1_000,
    cdrs: Annotated[int, typer.Option(min=0, help="CDRs generated for January.")] = 1_000_000,
    pdfs: Annotated[int, typer.Option(min=0, help="Invoice PDFs to render (~0.3 s each).")] = 30,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 7,
) -> None:
    """Set up a sample provider (three brands, catalogue, rate cards, accounts, numbers), run
    its January (CDRs through mediation and rating, bill runs, invoice PDFs) and show it."""
    from billstream.demo import DEMO_START, DemoOptions, run_demo

    clock = FakeClock(DEMO_START)
    progress = console(stderr=True)
    with command_runtime(clock=clock, create=True) as runtime:
        options = DemoOptions(
            accounts=accounts,
            cdrs=cdrs,
            pdfs=pdfs,
            seed=seed,
            data_dir=Path(runtime.settings.data_dir),
            formats_dir=runtime.settings.resolved_formats_dir(),
        )
        shown = run_demo(
            runtime.session_factory,
            clock=clock,
            options=options,
            announce=lambda text: progress.print(f"... {text}", markup=False, highlight=False),
        )
    out = console()
    for renderable in shown:
        out.print(renderable, highlight=False)
