"""`frontdesk setup` as an operator runs it, against a fake Twilio REST server on a real
port (the twilio package's own HTTP client talks to it) and a fake flyctl on PATH."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.fake_twilio_rest import FakeTwilioRest

from entrypoints.cli import main

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "tok-5e1f0c2d9b8a7f6e"
PUBLIC = "https://frontdesk.example.net"
FAKE_FLYCTL = Path(__file__).parents[1] / "support" / "fake_flyctl"


@dataclass
class Operator:
    """Runs `frontdesk setup ...` in a scratch directory; returns code, stdout, stderr."""

    directory: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def setup(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["setup", *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    @property
    def state_file(self) -> Path:
        return self.directory / ".frontdesk" / "setup.json"

    def state(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.state_file.read_text())
        return loaded


@pytest.fixture
def twilio() -> Iterator[FakeTwilioRest]:
    with FakeTwilioRest(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def operator(
    tmp_path: Path,
    twilio: FakeTwilioRest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Operator:
    monkeypatch.chdir(tmp_path)
    for name in ("DEEPGRAM_API_KEY", "FRONTDESK_API_KEYS", "TWILIO_AUTH_TOKEN_SECONDARY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_API_BASE_URL", twilio.base_url)
    monkeypatch.setenv("PUBLIC_URL", PUBLIC)
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / ".frontdesk"))
    monkeypatch.setenv("LOG_FORMAT", "console")
    return Operator(tmp_path, capsys, monkeypatch)


@pytest.fixture
def flyctl_log(operator: Operator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts the fake flyctl first on PATH; the path of the log it appends to."""
    bin_dir = operator.directory / "bin"
    bin_dir.mkdir()
    (bin_dir / "flyctl").symlink_to(FAKE_FLYCTL)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    log = operator.directory / "flyctl.jsonl"
    monkeypatch.setenv("FAKE_FLYCTL_LOG", str(log))
    (operator.directory / ".env").write_text(
        "DEEPGRAM_API_KEY=dg-secret-42\nFRONTDESK_API_KEYS=api-secret-7\n"
        f"PUBLIC_URL={PUBLIC}\nHOST=127.0.0.1\n"
    )
    return log


def flyctl_runs(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def fail_flyctl(monkeypatch: pytest.MonkeyPatch, prefix: str, stderr: str) -> None:
    monkeypatch.setenv("FAKE_FLYCTL_FAIL", json.dumps({prefix: {"stderr": stderr}}))


# -- Twilio only -----------------------------------------------------------------------


def test_the_only_number_is_pointed_at_public_url_and_the_state_holds_no_secret(
    operator: Operator, twilio: FakeTwilioRest
) -> None:
    number = twilio.own("+14155550100")

    code, out, err = operator.setup("--twilio-only")

    assert code == 0, err
    assert number.voice_url == f"{PUBLIC}/twilio/voice"
    assert number.status_callback == f"{PUBLIC}/twilio/status"
    assert (number.voice_method, number.status_callback_method) == ("POST", "POST")
    assert "Call +14155550100" in out
    saved = operator.state()
    assert (saved["number_sid"], saved["public_url"]) == (number.sid, PUBLIC)
    assert AUTH_TOKEN not in operator.state_file.read_text()
    assert AUTH_TOKEN not in out + err


def test_a_wrong_auth_token_is_explained_in_plain_words_naming_the_variable(
    operator: Operator, twilio: FakeTwilioRest, monkeypatch: pytest.MonkeyPatch
) -> None:
    twilio.own("+14155550100")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-token")

    code, _, err = operator.setup("--twilio-only")

    assert code == 1
    assert "Twilio refused the account SID and auth token" in err
    assert "TWILIO_AUTH_TOKEN" in err
    assert "Traceback" not in err
    assert "not-the-token" not in err
    assert not operator.state_file.exists()


def test_a_missing_token_without_a_terminal_names_the_variable_instead_of_prompting(
    operator: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")

    code, _, err = operator.setup("--twilio-only")

    assert code == 1
    assert "TWILIO_AUTH_TOKEN is not set" in err
    assert "what to do: put it in .env" in err


def test_buying_where_no_numbers_are_available_says_so_and_buys_nothing(
    operator: Operator, twilio: FakeTwilioRest
) -> None:
    code, _, err = operator.setup("--twilio-only", "--buy", "--area-code", "999", "--yes")

    assert code == 1
    assert "no local numbers available in area code 999" in err
    assert "--area-code" in err
    assert twilio.numbers == {}


def test_buying_needs_yes_without_a_terminal_and_then_buys_and_points_the_number(
    operator: Operator, twilio: FakeTwilioRest
) -> None:
    twilio.for_sale["415"] = ["+14155550199", "+14155550198"]

    code, _, err = operator.setup("--twilio-only", "--buy", "--area-code", "415")
    assert code == 1
    assert "costs money" in err
    assert "--yes" in err
    assert twilio.numbers == {}

    code, out, err = operator.setup("--twilio-only", "--buy", "--area-code", "415", "--yes")
    assert code == 0, err
    bought = twilio.by_phone("+14155550199")
    assert bought.voice_url == f"{PUBLIC}/twilio/voice"
    assert "Bought +14155550199" in out
    assert operator.state()["number_bought"] is True


def test_several_numbers_without_a_terminal_ask_for_number_which_then_picks_one(
    operator: Operator, twilio: FakeTwilioRest
) -> None:
    first, second = twilio.own("+14155550100"), twilio.own("+14155550101")

    code, _, err = operator.setup("--twilio-only")
    assert code == 1
    assert "--number" in err

    code, _, err = operator.setup("--twilio-only", "--number", "+1 (415) 555-0101")
    assert code == 0, err
    assert (first.voice_url, second.voice_url) == ("", f"{PUBLIC}/twilio/voice")


def test_without_public_url_or_flyctl_there_is_nothing_to_point_at(
    operator: Operator, twilio: FakeTwilioRest, monkeypatch: pytest.MonkeyPatch
) -> None:
    twilio.own("+14155550100")
    monkeypatch.delenv("PUBLIC_URL")
    empty = operator.directory / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    code, _, err = operator.setup()

    assert code == 1
    assert "flyctl is not installed" in err
    assert "PUBLIC_URL is not set" in err


def test_status_shows_the_saved_number_and_notices_when_it_was_repointed_elsewhere(
    operator: Operator, twilio: FakeTwilioRest
) -> None:
    number = twilio.own("+14155550100")
    assert operator.setup("--twilio-only")[0] == 0

    code, out, _ = operator.setup("--status")
    assert code == 0
    assert "+14155550100" in out
    assert f"{PUBLIC}/twilio/voice" in out

    number.voice_url = "https://someone-else.example.com/voice"
    code, out, err = operator.setup("--status")
    assert code == 0
    assert "https://someone-else.example.com/voice" in out
    assert "no longer points" in err


def test_status_before_any_setup_says_to_run_setup_first(operator: Operator) -> None:
    code, _, err = operator.setup("--status")

    assert code == 1
    assert "no number is set up yet" in err


def test_update_url_repoints_the_saved_number_and_refuses_a_loopback_address(
    operator: Operator, twilio: FakeTwilioRest
) -> None:
    number = twilio.own("+14155550100")
    assert operator.setup("--twilio-only")[0] == 0

    code, _, err = operator.setup("--update-url", "https://new.example.org/")
    assert code == 0, err
    assert number.voice_url == "https://new.example.org/twilio/voice"
    assert number.status_callback == "https://new.example.org/twilio/status"
    assert operator.state()["public_url"] == "https://new.example.org"

    code, _, err = operator.setup("--update-url", "http://127.0.0.1:8000")
    assert code == 1
    assert "not a public address" in err
    assert number.voice_url == "https://new.example.org/twilio/voice"


def test_a_number_released_elsewhere_is_reported_as_gone(
    operator: Operator, twilio: FakeTwilioRest
) -> None:
    number = twilio.own("+14155550100")
    assert operator.setup("--twilio-only")[0] == 0
    del twilio.numbers[number.sid]

    code, _, err = operator.setup("--update-url", "https://new.example.org")

    assert code == 1
    assert "no such number on this account" in err


def test_teardown_unpoints_the_number_and_releases_it_only_when_asked(
    operator: Operator, twilio: FakeTwilioRest
) -> None:
    number = twilio.own("+14155550100")
    assert operator.setup("--twilio-only")[0] == 0

    code, _, err = operator.setup("--teardown", "--twilio-only")
    assert code == 0, err
    assert (number.voice_url, number.status_callback) == ("", "")
    assert number.sid in twilio.numbers

    code, _, err = operator.setup("--teardown", "--twilio-only", "--release-number")
    assert code == 1
    assert "--yes" in err
    assert number.sid in twilio.numbers

    code, _, err = operator.setup("--teardown", "--twilio-only", "--release-number", "--yes")
    assert code == 0, err
    assert twilio.numbers == {}
    assert not operator.state_file.exists()


# -- with flyctl -----------------------------------------------------------------------


def test_with_flyctl_setup_deploys_and_points_the_number_at_the_fly_app(
    operator: Operator, twilio: FakeTwilioRest, flyctl_log: Path
) -> None:
    number = twilio.own("+14155550100")

    code, _, err = operator.setup("--fly-app", "frontdesk-test")

    assert code == 0, err
    assert number.voice_url == "https://frontdesk-test.fly.dev/twilio/voice"
    assert number.status_callback == "https://frontdesk-test.fly.dev/twilio/status"
    runs = flyctl_runs(flyctl_log)
    assert [r["argv"][:2] for r in runs] == [
        ["auth", "whoami"],
        ["apps", "create"],
        ["postgres", "create"],
        ["postgres", "attach"],
        ["secrets", "import"],
        ["secrets", "import"],
        ["deploy", "--app"],
    ]
    everything_in_argv = " ".join(" ".join(r["argv"]) for r in runs)
    for secret in (AUTH_TOKEN, "dg-secret-42", "api-secret-7", "pg-pass-123"):
        assert secret not in everything_in_argv
    staged = "".join(r["stdin"] for r in runs if r["stdin"])
    assert "DATABASE_URL=postgresql+asyncpg://frontdesk_test:pg-pass-123@" in staged
    assert "sslmode" not in staged
    assert f"TWILIO_AUTH_TOKEN={AUTH_TOKEN}\n" in staged
    assert "DEEPGRAM_API_KEY=dg-secret-42\n" in staged
    assert "FRONTDESK_API_KEYS=api-secret-7\n" in staged
    assert "PUBLIC_URL=" not in staged  # local only; fly.toml sets the deployed one
    assert "HOST=" not in staged
    fly_toml = (operator.directory / "fly.toml").read_text()
    assert 'app = "frontdesk-test"' in fly_toml
    assert "internal_port = 8000" in fly_toml
    assert "force_https = true" in fly_toml
    assert 'path = "/healthz"' in fly_toml
    assert 'release_command = "frontdesk migrate"' in fly_toml
    # live calls drain on a deploy: Fly waits longer than the server's drain
    assert "kill_timeout = 300" in fly_toml
    assert 'DRAIN_TIMEOUT_S = "290"' in fly_toml
    assert 'PUBLIC_URL = "https://frontdesk-test.fly.dev"' in fly_toml
    saved = operator.state_file.read_text()
    assert json.loads(saved)["fly_app"] == "frontdesk-test"
    for secret in (AUTH_TOKEN, "dg-secret-42", "api-secret-7", "pg-pass-123"):
        assert secret not in saved


def test_a_taken_fly_app_name_is_explained_and_another_name_succeeds(
    operator: Operator,
    twilio: FakeTwilioRest,
    flyctl_log: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = twilio.own("+14155550100")
    fail_flyctl(monkeypatch, "apps create taken", "Error: Name has already been taken")

    code, _, err = operator.setup("--fly-app", "taken")
    assert code == 1
    assert "that Fly app name is already taken" in err
    assert "--fly-app NAME" in err
    assert number.voice_url == ""

    code, _, err = operator.setup("--fly-app", "free-name")
    assert code == 0, err
    assert number.voice_url == "https://free-name.fly.dev/twilio/voice"


def test_a_failed_fly_step_is_explained_and_a_rerun_resumes_after_the_finished_ones(
    operator: Operator,
    twilio: FakeTwilioRest,
    flyctl_log: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twilio.own("+14155550100")
    fail_flyctl(monkeypatch, "postgres create", "Error: we need a credit card on file")

    code, _, err = operator.setup("--fly-app", "frontdesk-test")
    assert code == 1
    assert "needs a payment method" in err
    assert "https://fly.io/dashboard" in err

    monkeypatch.delenv("FAKE_FLYCTL_FAIL")
    flyctl_log.unlink()
    code, _, err = operator.setup()
    assert code == 0, err
    commands = [r["argv"][:2] for r in flyctl_runs(flyctl_log)]
    assert ["apps", "create"] not in commands
    assert ["postgres", "create"] in commands


def test_flyctl_not_logged_in_says_to_log_in(
    operator: Operator,
    twilio: FakeTwilioRest,
    flyctl_log: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twilio.own("+14155550100")
    fail_flyctl(monkeypatch, "auth whoami", "Error: No access token available.")

    code, _, err = operator.setup()

    assert code == 1
    assert "flyctl is not logged in" in err
    assert "flyctl auth login" in err


def test_teardown_destroys_the_fly_app_only_with_confirmation(
    operator: Operator, twilio: FakeTwilioRest, flyctl_log: Path
) -> None:
    number = twilio.own("+14155550100")
    assert operator.setup("--fly-app", "frontdesk-test")[0] == 0
    flyctl_log.unlink()

    code, _, err = operator.setup("--teardown")
    assert code == 0, err
    assert number.voice_url == ""
    assert flyctl_runs(flyctl_log) == []
    assert "left running" in err

    code, _, err = operator.setup("--teardown", "--yes")
    assert code == 0, err
    assert [r["argv"] for r in flyctl_runs(flyctl_log)] == [
        ["apps", "destroy", "frontdesk-test", "--yes"],
        ["apps", "destroy", "frontdesk-test-db", "--yes"],
    ]
    assert (operator.state()["fly_app"], operator.state()["fly_postgres"]) == (None, None)
