"""`BILLSTREAM_DATABASE_URL` names a database billstream supports, or is refused up front."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from billstream.settings import Settings


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///var/billstream.sqlite",
        "sqlite+pysqlite:////srv/billstream.sqlite",
        "sqlite://",
        "postgresql+psycopg://billstream:secret@db.internal:5432/billstream",
    ],
)
def test_sqlite_and_postgresql_with_psycopg_are_accepted(url: str) -> None:
    assert Settings(database_url=url).resolved_database_url() == url


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("mysql://root:pw@localhost/billing", "mysql"),
        ("postgresql://u@h/db", "postgresql"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2"),
    ],
)
def test_another_database_is_refused_naming_the_setting(url: str, scheme: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(database_url=url)
    [error] = raised.value.errors()
    assert error["loc"] == ("database_url",)
    assert error["msg"] == (
        f"Value error, {scheme!r} is not supported: billstream runs on SQLite "
        "(sqlite:///<file>) or PostgreSQL with psycopg (postgresql+psycopg://<user>@<host>/<db>)"
    )
    assert "pw" not in str(raised.value.errors(include_input=False))


def test_a_path_is_not_a_database_url() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(database_url="var/billstream.sqlite")
    assert raised.value.errors()[0]["msg"] == (
        "Value error, 'var/billstream.sqlite' is not a database URL: billstream runs on SQLite "
        "(sqlite:///<file>) or PostgreSQL with psycopg (postgresql+psycopg://<user>@<host>/<db>)"
    )
