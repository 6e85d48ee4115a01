"""`frontdesk doctor` on configurations a newcomer has: one line per check, exit 1 when
any fails. Real Postgres for the database check, a real HTTP server standing in for the
providers' APIs for `--online`."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol

import pytest
from tests.e2e.test_cli_errors import closed_port

from adapters.sql import upgrade_to_head
from entrypoints.cli import main
from entrypoints.doctor.checks import DoctorSettings

SID, TOKEN, DEEPGRAM_KEY = "AC" + "1" * 32, "twilio-token-123", "deepgram-key-456"
TELNYX_KEY = base64.b64encode(bytes(range(32))).decode()
PHONE_READY = {
    "TWILIO_ACCOUNT_SID": SID,
    "TWILIO_AUTH_TOKEN": TOKEN,
    "DEEPGRAM_API_KEY": DEEPGRAM_KEY,
    "PUBLIC_URL": "https://clinic.example.net",
}


class Doctor(Protocol):
    def __call__(self, *args: str, **env: str) -> tuple[int, dict[str, str]]: ...


@pytest.fixture
def engine_name() -> str:
    return "postgres"


@pytest.fixture
def doctor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Doctor:
    """`doctor(*args, **env)` -> (exit status, {check name: line}), in a clean directory
    with no frontdesk setting in the environment but `env`."""
    monkeypatch.chdir(tmp_path)
    for name in DoctorSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str, **env: str) -> tuple[int, dict[str, str]]:
        with monkeypatch.context() as scoped:
            for key, value in env.items():
                scoped.setenv(key, value)
            status = main(["doctor", *args])
        lines = capsys.readouterr().out.splitlines()
        return status, {line[6:19].strip(): line for line in lines}

    return run


def test_a_fresh_checkout_passes_with_warnings_and_providers_not_checked(doctor: Doctor) -> None:
    status, lines = doctor()
    assert status == 0
    assert lines["settings"].startswith("ok ")
    assert lines["database"].startswith("ok    database     embedded SQLite")
    assert lines["practice"].startswith("ok    practice     Bright Smile Dental: 3 providers")
    assert lines["twilio"].startswith("warn  twilio       TWILIO_AUTH_TOKEN unset")
    assert lines["agent"].startswith("warn  agent        DEEPGRAM_API_KEY unset")
    assert lines["telnyx"].startswith("ok    telnyx       TELNYX_PUBLIC_KEY unset (optional")
    assert lines["twilio api"] == (
        "skip  twilio api   not checked (offline)  -> frontdesk doctor --online"
    )
    assert lines["deepgram api"].startswith("skip  deepgram api not checked (offline)")


def test_settings_that_do_not_parse_fail_naming_the_variable(doctor: Doctor) -> None:
    status, lines = doctor(MAX_CONCURRENT_CALLS="lots")
    assert status == 1
    assert list(lines) == ["settings"]
    assert lines["settings"].startswith("fail  settings     MAX_CONCURRENT_CALLS: Input should be")


def test_a_phone_ready_configuration_passes_every_offline_check(doctor: Doctor) -> None:
    status, lines = doctor(**PHONE_READY, TELNYX_PUBLIC_KEY=TELNYX_KEY)
    assert status == 0
    assert all(line.startswith(("ok ", "skip ")) for line in lines.values()), lines
    assert lines["public url"] == "ok    public url   https://clinic.example.net"
    assert all(secret not in "".join(lines.values()) for secret in (TOKEN, DEEPGRAM_KEY))


@pytest.mark.parametrize(
    ("public_url", "problem"),
    [
        ("http://clinic.example.net", "not https"),
        ("https://clinic.example.net/frontdesk", "has a path or query"),
        ("https://clinic.example.net/?x=1", "has a path or query"),
        ("https://localhost:8443", "a local address"),
        ("https://127.0.0.1", "a local address"),
        (None, "unset: signatures checked against http://127.0.0.1:8000"),
    ],
)
def test_a_public_url_a_carrier_cannot_sign_fails(
    doctor: Doctor, public_url: str | None, problem: str
) -> None:
    env = {k: v for k, v in PHONE_READY.items() if k != "PUBLIC_URL"}
    if public_url is not None:
        env["PUBLIC_URL"] = public_url
    status, lines = doctor(**env)
    assert status == 1
    assert lines["public url"].startswith("fail  public url")
    assert problem in lines["public url"]
    assert "-> set PUBLIC_URL to the public HTTPS base" in lines["public url"]


def test_a_carrier_without_an_agent_key_fails_and_a_bad_telnyx_key_fails(doctor: Doctor) -> None:
    env = {k: v for k, v in PHONE_READY.items() if k != "DEEPGRAM_API_KEY"}
    status, lines = doctor(**env, TELNYX_PUBLIC_KEY="not-a-key")
    assert status == 1
    assert lines["agent"].startswith("fail  agent        DEEPGRAM_API_KEY unset")
    assert lines["telnyx"].startswith("fail  telnyx       TELNYX_PUBLIC_KEY is not a base64")


def test_the_scripted_agent_warns_that_every_caller_hears_the_script_and_a_bad_one_fails(
    doctor: Doctor, tmp_path: Path
) -> None:
    status, lines = doctor(VOICE_AGENT="scripted")
    assert status == 0
    assert lines["agent"].startswith(
        "warn  agent        VOICE_AGENT=scripted: every call plays the script 'book a checkup'"
    )
    broken = tmp_path / "script.toml"
    broken.write_text('name = "x"\nturns = []\n')
    status, lines = doctor(VOICE_AGENT="scripted", AGENT_SCRIPT=str(broken))
    assert status == 1
    assert lines["agent"].startswith(
        f"fail  agent        AGENT_SCRIPT {broken}: unknown key 'turns'"
    )


def test_a_broken_practice_file_fails_naming_the_key(doctor: Doctor, tmp_path: Path) -> None:
    broken = tmp_path / "practice.toml"
    broken.write_text('[practice]\nname = "x"\ntime_zone = "Nowhere/Atlantis"\n')
    status, lines = doctor(PRACTICE_FILE=str(broken))
    assert status == 1
    assert "practice.time_zone: Value error, unknown time zone" in lines["practice"]
    assert lines["practice"].startswith(f"fail  practice     {broken}: ")


def test_the_database_check_reaches_postgres_and_reads_the_schema(
    doctor: Doctor, empty_database_url: str
) -> None:
    status, lines = doctor(DATABASE_URL=empty_database_url)
    assert status == 1
    assert lines["database"] == (
        "fail  database     reachable, no schema yet  -> run `frontdesk migrate`"
    )
    upgrade_to_head(empty_database_url)
    status, lines = doctor(DATABASE_URL=empty_database_url)
    assert status == 0
    assert lines["database"] == "ok    database     reachable, schema at the latest migration"


def test_an_unreachable_database_fails_naming_where(doctor: Doctor) -> None:
    port = closed_port()
    status, lines = doctor(DATABASE_URL=f"postgresql://u:pw-secret@127.0.0.1:{port}/clinic")
    assert status == 1
    assert lines["database"].startswith(
        f"fail  database     nothing accepts connections at 127.0.0.1:{port}/clinic"
    )
    assert "pw-secret" not in lines["database"]


class ProviderApis(BaseHTTPRequestHandler):
    """Twilio's account resource and Deepgram's project list, taking only our credentials."""

    def do_HEAD(self) -> None:
        self._answer(200)

    def do_GET(self) -> None:
        twilio = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        accepted = {
            f"/2010-04-01/Accounts/{SID}.json": twilio,
            "/v1/projects": f"Token {DEEPGRAM_KEY}",
        }
        expected = accepted.get(self.path)
        if expected is None:
            self._answer(404)
        else:
            self._answer(200 if self.headers.get("Authorization") == expected else 401)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def provider_apis() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ProviderApis)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_online_reaches_the_providers_and_tries_the_credentials(
    doctor: Doctor, provider_apis: str
) -> None:
    apis = {"TWILIO_API_BASE_URL": provider_apis, "DEEPGRAM_API_BASE_URL": provider_apis}
    status, lines = doctor("--online", **PHONE_READY, **apis)
    assert status == 0, lines
    assert lines["twilio api"] == "ok    twilio api   reachable, credentials accepted"
    assert lines["deepgram api"] == "ok    deepgram api reachable, credentials accepted"

    status, lines = doctor("--online", **{**PHONE_READY, **apis, "DEEPGRAM_API_KEY": "revoked"})
    assert status == 1
    assert lines["deepgram api"] == (
        "fail  deepgram api reachable, credentials refused (HTTP 401)  -> check DEEPGRAM_API_KEY"
    )
    assert lines["twilio api"].startswith("ok ")


def test_online_with_the_providers_out_of_reach_fails(doctor: Doctor) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}"
    status, lines = doctor("--online", TWILIO_API_BASE_URL=nowhere, DEEPGRAM_API_BASE_URL=nowhere)
    assert status == 1
    for name in ("twilio api", "deepgram api"):
        assert "unreachable (ConnectError)  -> check the network, proxy or firewall" in lines[name]
