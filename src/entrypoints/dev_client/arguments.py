"""The `frontdesk dev-client` arguments; light to import (the client loads only when it runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def add_dev_client_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "dev-client",
        help="call your own server as Twilio would (microphone and speakers, or a WAV file)",
        description="Ring the server's voice webhook and talk over the media stream exactly "
        "as Twilio does (signed when TWILIO_AUTH_TOKEN is set). Ctrl-C hangs up.",
    )
    parser.add_argument("--url", help="where the server listens (default: http://127.0.0.1:PORT)")
    parser.add_argument(
        "--wav", type=Path, help="speak this WAV file (any rate/channels), then silence"
    )
    parser.add_argument(
        "--record", type=Path, help="write the conversation here (WAV: caller left, agent right)"
    )
    parser.add_argument("--from", dest="from_number", default="+14155550123", help="caller id")
    parser.add_argument("--to", dest="to_number", default="+15555550100", help="number dialled")
    parser.add_argument(
        "--api-key", help="for the live transcript (default: the first FRONTDESK_API_KEYS key)"
    )
