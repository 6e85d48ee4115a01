"""Process settings, from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PRACTICE_FILE = Path(__file__).parent / "practices" / "dental_office.toml"


class Settings(BaseSettings):
    """Everything an operator sets. Secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy async URL, e.g. postgresql+asyncpg://u:p@host/db. "
        "Unset: an embedded SQLite file under FRONTDESK_DATA_DIR.",
    )
    frontdesk_data_dir: Path = Field(default=Path(".frontdesk"))
    practice_file: Path = Field(default=DEFAULT_PRACTICE_FILE)
    frontdesk_api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    default_region: str | None = Field(
        default=None, description="Overrides the practice file's region for national numbers."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    @field_validator("frontdesk_api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    def resolved_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        path = (self.frontdesk_data_dir / "frontdesk.sqlite3").resolve()
        return f"sqlite+aiosqlite:///{path}"
