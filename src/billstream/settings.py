"""Settings, read from ``BILLSTREAM_*`` environment variables (and a ``.env`` file if present).

Nothing reads settings at import; `Settings()` is built by `bootstrap`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASES = {"sqlite", "sqlite+pysqlite", "postgresql+psycopg"}
SUPPORTED = (
    "billstream runs on SQLite (sqlite:///<file>) or PostgreSQL with psycopg "
    "(postgresql+psycopg://<user>@<host>/<db>)"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLSTREAM_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Where the embedded database, key file and documents live."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: an SQLite file `billstream.sqlite` in data_dir.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Pepper for API-key hashes. Unset: generated once into data_dir/secret.key.",
    )

    formats_dir: Path | None = Field(
        default=None,
        description="Tenant CDR formats, one YAML file per format; default: data_dir/formats.",
    )

    smtp_host: str | None = Field(
        default=None, description="SMTP server for invoice e-mails; unset: e-mail is not sent."
    )
    smtp_port: int = Field(default=25, description="SMTP port (587 with STARTTLS, usually).")
    smtp_username: str | None = Field(default=None, description="SMTP login, if required.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade with STARTTLS first.")
    smtp_from: str = Field(
        default="billing@localhost", description="Sender address; the brand's name is shown."
    )
    smtp_timeout_s: int = Field(default=30, description="Seconds before SMTP gives up.")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str | None) -> str | None:
        """A database billstream runs on, refused here rather than by a missing driver."""
        if not url:
            return url
        scheme, found, _ = url.partition("://")
        if not found:
            raise ValueError(f"{url!r} is not a database URL: {SUPPORTED}")
        if scheme not in DATABASES:  # the URL's rest may hold a password: not repeated
            raise ValueError(f"{scheme!r} is not supported: {SUPPORTED}")
        return url

    @property
    def smtp_password_value(self) -> str | None:
        return self.smtp_password.get_secret_value() if self.smtp_password else None

    def resolved_formats_dir(self) -> Path:
        return self.formats_dir if self.formats_dir is not None else self.data_dir / "formats"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'billstream.sqlite').resolve()}"
