"""What `frontdesk setup` reads beyond the server's settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from adapters.twilio_rest import DEFAULT_API_BASE_URL
from entrypoints.settings import Settings


class SetupSettings(Settings):
    """The server's settings plus the REST endpoints and Fly.io placement setup uses."""

    twilio_api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL,
        description="Twilio's REST API host; another value points setup at a proxy or a "
        "stand-in server.",
    )
    fly_org: str = "personal"
    fly_region: str = "iad"

    @property
    def state_file(self) -> Path:
        return self.frontdesk_data_dir / "setup.json"
