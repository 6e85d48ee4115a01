"""`.frontdesk/setup.json`: what setup did, so later runs can resume, show or undo it.

Holds identifiers and URLs only; never a token, key or database URL.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class SetupState:
    number_sid: str | None = None
    phone_number: str | None = None
    number_bought: bool = False
    public_url: str | None = None
    fly_app: str | None = None
    fly_app_created: bool = False
    fly_postgres: str | None = None
    fly_postgres_attached: bool = False
    fly_deployed_at: str | None = None
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)

    @property
    def empty(self) -> bool:
        return self.number_sid is None and self.fly_app is None

    @classmethod
    def load(cls, path: Path) -> SetupState:
        """The saved state, or a fresh one when the file does not exist."""
        if not path.exists():
            return cls()
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def save(self, path: Path) -> None:
        """Writes atomically (temporary file, then rename); deletes the file when empty."""
        if self.empty:
            path.unlink(missing_ok=True)
            return
        self.updated_at = utc_now()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n", "utf-8")
        os.replace(temporary, path)
