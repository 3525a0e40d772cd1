"""The composition root: settings, engine, sessions, clock and secrets, wired once.

The API, the CLI and (later) the worker call `bootstrap`; nothing opens a connection or
reads settings at import.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from billstream.core.clock import Clock, SystemClock
from billstream.core.errors import NotFoundError
from billstream.db.engine import make_engine, make_session_factory
from billstream.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    pepper: bytes

    def close(self) -> None:
        self.engine.dispose()


def load_pepper(settings: Settings, *, create: bool = False) -> bytes:
    """The secret key for API-key hashes: from settings, else the file in data_dir (made
    there only if `create`: a key made anew would not match the stored hashes)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        if not create:
            raise NotFoundError(
                f"no file {path.resolve()} and BILLSTREAM_SECRET_KEY is unset: run "
                "`billstream db upgrade` to create the file, or set BILLSTREAM_SECRET_KEY",
                field="secret key",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def require_database(url: str) -> None:
    """An SQLite file that is not there is not made by opening it: only `db upgrade` and
    `demo` create a database, so a command run in the wrong folder says so."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return
    if not Path(name).exists():
        raise NotFoundError(
            f"no database at {Path(name).resolve()}: run `billstream db upgrade` (or "
            "`billstream demo`) to create it, or set BILLSTREAM_DATA_DIR or "
            "BILLSTREAM_DATABASE_URL to yours",
            field="database",
        )


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    create: bool = False,
) -> Runtime:
    """The runtime of `settings` (default: from the environment). Without `create`, a
    missing SQLite file or secret key file is an error saying where it was looked for."""
    settings = settings or Settings()
    if engine is None:
        url = settings.resolved_database_url()
        if not create:
            require_database(url)
        engine = make_engine(url)
    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
        pepper=load_pepper(settings, create=create),
    )
