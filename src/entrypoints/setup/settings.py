"""What `frontdesk setup` reads beyond the server's settings."""

from __future__ import annotations

from pathlib import Path

from entrypoints.settings import Settings


class SetupSettings(Settings):
    """The server's settings plus the Fly.io placement setup uses."""

    fly_org: str = "personal"
    fly_region: str = "iad"

    @property
    def state_file(self) -> Path:
        return self.frontdesk_data_dir / "setup.json"
