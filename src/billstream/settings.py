"""Settings, read from ``BILLSTREAM_*`` environment variables (and a ``.env`` file if present).

Nothing reads settings at import; `Settings()` is built by `bootstrap`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    def resolved_formats_dir(self) -> Path:
        return self.formats_dir if self.formats_dir is not None else self.data_dir / "formats"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'billstream.sqlite').resolve()}"
