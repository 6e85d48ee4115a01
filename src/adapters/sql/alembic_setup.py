"""Where the migrations live, as an alembic `Config` built in code (no alembic.ini needed)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.config import Config

MIGRATIONS_DIR = Path(
    os.environ.get("FRONTDESK_MIGRATIONS_DIR", Path(__file__).resolve().parents[3] / "migrations")
)


def alembic_config(url: str | None = None) -> Config:
    """Config for the repository's `migrations/`; `url` overrides the environment's."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
