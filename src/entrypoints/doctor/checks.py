"""The checks `frontdesk doctor` runs on a parsed configuration, one `Check` each.

Each names what it looked at, what it found, and what to do when it is not `ok`. Only
`database` and the `--online` probes do I/O; the rest read the settings."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from entrypoints.settings import Settings

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True, slots=True)
class Check:
    status: Status
    name: str
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{self.status:<5} {self.name:<12} {self.detail}"
        return f"{text}  -> {self.fix}" if self.fix else text


class DoctorSettings(Settings):
    """The server's settings plus what only the doctor reads."""

    telnyx_public_key: str | None = None
    twilio_api_base_url: str = Field(default="https://api.twilio.com")
    deepgram_api_base_url: str = Field(default="https://api.deepgram.com")

    @property
    def carrier_configured(self) -> bool:
        return bool(self.twilio_auth_tokens or self.telnyx_public_key)


def practice_file(settings: Settings) -> Check:
    from adapters.practice_file import PracticeFileError, load_practice

    try:
        practice = load_practice(settings.practice_file, settings.default_region)
    except PracticeFileError as error:
        detail = str(error).removeprefix("practice file ")
        return Check("fail", "practice", detail, "fix the file, or point PRACTICE_FILE elsewhere")
    summary = f"{practice.name}: {len(practice.providers)} providers, {len(practice.services)}"
    return Check("ok", "practice", f"{summary} services ({settings.practice_file})")


def database(settings: Settings) -> Check:
    """Reach the database and compare its schema with this code's migrations."""
    if settings.embedded_database:
        return Check(
            "ok",
            "database",
            f"embedded SQLite under {settings.frontdesk_data_dir} (serve migrates it)",
        )
    from adapters.sql import describe_database_failure, schema_status_at

    url = settings.resolved_database_url()
    try:
        status = schema_status_at(url)
    except Exception as error:
        described = describe_database_failure(error, url)
        if described is None:
            raise
        return Check("fail", "database", described, "check DATABASE_URL and that Postgres is up")
    if status == "ok":
        return Check("ok", "database", "reachable, schema at the latest migration")
    if status == "ahead":
        return Check(
            "fail", "database", "schema newer than this code", "run the newer release instead"
        )
    problem = "no schema yet" if status == "missing" else "schema older than this code"
    return Check("fail", "database", f"reachable, {problem}", "run `frontdesk migrate`")


def carrier(settings: DoctorSettings) -> list[Check]:
    checks = []
    if settings.twilio_auth_tokens:
        checks.append(Check("ok", "twilio", "TWILIO_AUTH_TOKEN set"))
    else:
        checks.append(
            Check(
                "warn",
                "twilio",
                "TWILIO_AUTH_TOKEN unset: Twilio requests are refused (serve --dev "
                "accepts unsigned ones from loopback)",
                "set it to take calls (Twilio console, Account info)",
            )
        )
    sid = settings.twilio_account_sid
    if sid and not (sid.startswith("AC") and len(sid) == 34):
        checks.append(
            Check("warn", "twilio", "TWILIO_ACCOUNT_SID is not AC + 32 characters", "copy it again")
        )
    checks.append(_telnyx(settings.telnyx_public_key))
    return checks


def _telnyx(key: str | None) -> Check:
    if not key:
        return Check("ok", "telnyx", "TELNYX_PUBLIC_KEY unset (optional: Telnyx calls)")
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        return Check(
            "fail",
            "telnyx",
            "TELNYX_PUBLIC_KEY is not a base64 Ed25519 public key (32 bytes)",
            "copy the public key from the Telnyx portal (Keys & Credentials)",
        )
    return Check("ok", "telnyx", "TELNYX_PUBLIC_KEY set")


def agent(settings: DoctorSettings) -> Check:
    if settings.voice_agent == "scripted":
        return _scripted_agent(settings)
    if settings.deepgram_api_key is not None and settings.deepgram_api_key.get_secret_value():
        return Check("ok", "agent", "DEEPGRAM_API_KEY set")
    return Check(
        "fail" if settings.carrier_configured else "warn",
        "agent",
        "DEEPGRAM_API_KEY unset: callers hear an apology and go to the front desk",
        "set DEEPGRAM_API_KEY (console.deepgram.com, API keys)",
    )


def _scripted_agent(settings: DoctorSettings) -> Check:
    """The scripted agent needs no credential, but every caller hears the same script:
    fine for a demo or a test line, a mistake on a practice's real number."""
    from adapters.scripted import ScriptError, load_script
    from application.receptionist.tool_arguments import ARGUMENT_TYPES

    try:
        script = load_script(settings.agent_script, frozenset(ARGUMENT_TYPES))
    except ScriptError as error:
        return Check("fail", "agent", f"AGENT_SCRIPT {error}", "fix the script file")
    return Check(
        "warn",
        "agent",
        f"VOICE_AGENT=scripted: every call plays the script {script.name!r}, no real receptionist",
        "unset VOICE_AGENT (and set DEEPGRAM_API_KEY) before taking real calls",
    )


def public_url(settings: DoctorSettings) -> Check:
    """Carriers sign their requests with the URL they called, so PUBLIC_URL must be
    exactly the public base: HTTPS, a real host, nothing after it."""
    bad: Status = "fail" if settings.carrier_configured else "warn"
    fix = "set PUBLIC_URL to the public HTTPS base, e.g. https://abc.example.net"
    if not settings.public_url:
        return Check(
            bad, "public url", f"unset: signatures checked against {settings.public_base_url}", fix
        )
    try:
        parts = urlsplit(settings.public_url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as error:
        return Check("fail", "public url", f"not a URL ({error})", fix)
    if parts.scheme != "https":
        return Check(bad, "public url", f"{settings.public_url}: not https", fix)
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        return Check("fail", "public url", f"{settings.public_url}: has a path or query", fix)
    if _is_local(host):
        return Check(bad, "public url", f"{settings.public_url}: a local address", fix)
    return Check("ok", "public url", settings.public_url)


def _is_local(host: str) -> bool:
    if host in {"", "localhost"} or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified


def online(settings: DoctorSettings) -> list[Check]:
    """Reach the providers' APIs over HTTPS (a few seconds at most each)."""
    from adapters.provider_probes import probe_deepgram, probe_twilio

    token = settings.twilio_auth_token
    key = settings.deepgram_api_key
    results = [
        (
            "twilio api",
            probe_twilio(
                settings.twilio_api_base_url,
                settings.twilio_account_sid,
                token.get_secret_value() if token else None,
            ),
            "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
        ),
        (
            "deepgram api",
            probe_deepgram(settings.deepgram_api_base_url, key.get_secret_value() if key else None),
            "check DEEPGRAM_API_KEY",
        ),
    ]
    checks = []
    for name, result, credentials_fix in results:
        if not result.reached:
            checks.append(
                Check("fail", name, result.detail, "check the network, proxy or firewall")
            )
        elif result.accepted is False:
            checks.append(Check("fail", name, result.detail, credentials_fix))
        else:
            checks.append(Check("ok", name, result.detail))
    return checks


def offline() -> list[Check]:
    return [
        Check("skip", name, "not checked (offline)", "frontdesk doctor --online")
        for name in ("twilio api", "deepgram api")
    ]
