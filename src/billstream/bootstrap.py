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
from sqlalchemy.orm import Session, sessionmaker

from billstream.core.clock import Clock, SystemClock
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


def load_pepper(settings: Settings) -> bytes:
    """The secret key for API-key hashes: from settings, else a file made once in data_dir."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def bootstrap(
    settings: Settings | None = None, *, clock: Clock | None = None, engine: Engine | None = None
) -> Runtime:
    settings = settings or Settings()
    engine = engine or make_engine(settings.resolved_database_url())
    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
        pepper=load_pepper(settings),
    )
