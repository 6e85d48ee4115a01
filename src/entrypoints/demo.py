"""`frontdesk demo`: hear the receptionist work in a minute, with no account anywhere.

Starts the whole server in this process on the embedded database (a temporary data
directory unless `--data-dir`), with the scripted voice agent, a throwaway Twilio auth
token and a throwaway API key. Then it calls in exactly as Twilio does (the signed
voice webhook and media stream, see `dev_client`), prints the conversation from the
call's live events feed, and shows the appointment it booked as the REST API returns
it, with the request that fetched it and the console page of the call.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

if TYPE_CHECKING:
    from entrypoints.local_server import LocalServer
    from entrypoints.settings import Settings

DEMO_CALLER = "+14155550123"
DEMO_STAFF = "demo@example.com"


def add_demo_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="place a scripted call to a local server and show what the receptionist did",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        help="keep the demo's database here (default: a temporary directory, removed after)",
    )
    demo.add_argument(
        "--stay",
        action="store_true",
        help="keep the server running after the call (Ctrl-C stops it), with a console "
        "account to sign in with",
    )


def run_demo(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    from entrypoints.observability.logging import configure_logging

    configure_logging(level="WARNING", log_format=settings.log_format, secrets=[])
    if args.data_dir is not None:
        return asyncio.run(_demo(_demo_settings(settings, args.data_dir), args.stay, out))
    with tempfile.TemporaryDirectory(prefix="frontdesk-demo-") as data_dir:
        return asyncio.run(_demo(_demo_settings(settings, Path(data_dir)), args.stay, out))


def _demo_settings(settings: Settings, data_dir: Path) -> Settings:
    """The operator's settings made self-contained: embedded database in `data_dir`, the
    sample practice and its demo script, throwaway secrets, no texts, no Telnyx."""
    from pydantic import SecretStr

    from entrypoints.settings import DEFAULT_AGENT_SCRIPT, DEFAULT_PRACTICE_FILE

    return settings.model_copy(
        update={
            "database_url": None,
            "frontdesk_data_dir": data_dir,
            "practice_file": DEFAULT_PRACTICE_FILE,
            "default_region": None,
            "voice_agent": "scripted",
            "agent_script": DEFAULT_AGENT_SCRIPT,
            "twilio_auth_token": SecretStr(secrets.token_hex(16)),
            "twilio_auth_token_secondary": None,
            "twilio_messaging_from": None,
            "telnyx_public_key": None,
            "frontdesk_api_keys": [SecretStr("demo-" + secrets.token_urlsafe(12))],
            "dev": False,
        }
    )


async def _demo(settings: Settings, stay: bool, out: TextIO) -> int:
    from entrypoints.dev_client.client import BytesSource, DevCall, DevCallOptions
    from entrypoints.local_server import local_server

    token = settings.twilio_auth_token
    assert token is not None
    api_key = settings.frontdesk_api_keys[0].get_secret_value()
    async with local_server(settings) as server:
        practice = server.container.practice()
        say = _printer(out)
        say(f"== frontdesk demo: {practice.name}, answered by the SCRIPTED receptionist")
        say(f"   server {server.base_url}, database in {settings.frontdesk_data_dir}")
        say("   calling in as Twilio does (signed webhook, media stream); live events feed:")
        options = DevCallOptions(
            server_url=server.base_url,
            public_url=server.base_url,
            auth_token=token.get_secret_value(),
            api_key=api_key,
            from_number=DEMO_CALLER,
        )
        await DevCall(options, BytesSource(b""), out=out).run()
        found = await _show_booking(server, api_key, say)
        if not found:
            return 1
        if stay:
            await _stay(server, say)
        else:
            say("== the server stops now: `uv run frontdesk demo --stay` keeps it running")
    return 0


async def _show_booking(server: LocalServer, api_key: str, say: Any) -> bool:
    import httpx

    url = f"{server.base_url}/api/v1/appointments?phone={quote(DEMO_CALLER)}"
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url, headers={"Authorization": f"Bearer {api_key}"})
    items = response.json().get("items", []) if response.status_code == 200 else []
    if not items:
        say(f"== no appointment was booked (GET {url} answered {response.status_code})")
        return False
    practice = server.container.practice()
    say("== booked, as the REST API returns it:")
    for item in items:
        say(
            f"   {practice.services[item['service_id']].name} with "
            f"{practice.providers[item['provider_id']].name}, {item['local_start']}, "
            f"for {item['patient_name']} ({item['status']}, by {item['channel']})"
        )
    say(f"   curl -s -H 'Authorization: Bearer {api_key}' '{url}'")
    call_id = items[0].get("call_id")
    say(f"   the call, turn by turn, in the console: {server.base_url}/console/calls/{call_id}")
    return True


async def _stay(server: LocalServer, say: Any) -> None:
    from application.staff.accounts import AddStaff
    from domain.staff import Role

    password = secrets.token_urlsafe(12)
    await server.container.add_staff()(
        AddStaff(email=DEMO_STAFF, password=password, role=Role.ADMIN)
    )
    say(f"   console sign-in: {DEMO_STAFF} / {password}")
    say("== the server keeps running; Ctrl-C stops it")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: KeyboardInterrupt instead
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    say("== stopped")


def _printer(out: TextIO) -> Any:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    return say
