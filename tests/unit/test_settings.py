"""Settings: database URLs as hosting providers hand them out."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from entrypoints.settings import Settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db:5432/app", "postgresql+asyncpg://u:p@db:5432/app"),
        ("postgresql://u:p@db/app?sslmode=disable", "postgresql+asyncpg://u:p@db/app?ssl=disable"),
        ("postgresql+asyncpg://u:p@db/app", "postgresql+asyncpg://u:p@db/app"),
        ("sqlite+aiosqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
    ],
)
def test_database_urls_name_the_async_driver(given: str, used: str) -> None:
    assert Settings(database_url=SecretStr(given)).resolved_database_url() == used


def test_secrets_for_the_log_redactor_include_the_database_password() -> None:
    settings = Settings(
        database_url=SecretStr("postgresql+asyncpg://u:hunter2pass@db/app"),
        twilio_auth_token=SecretStr("tw-token"),
        frontdesk_api_keys=[SecretStr("k1"), SecretStr("k2")],
        frontdesk_metrics_token=SecretStr("scrape-token"),
    )
    assert {"hunter2pass", "tw-token", "k1", "k2", "scrape-token"} <= set(settings.secrets)


def test_texts_go_through_whichever_provider_is_fully_configured() -> None:
    assert Settings().text_provider is None
    twilio = Settings(
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=SecretStr("tw-token"),
        twilio_messaging_from="+14155550100",
    )
    assert twilio.text_provider == "twilio"
    telnyx = Settings(telnyx_api_key=SecretStr("KEY-1"), telnyx_messaging_from="+14155550100")
    assert (telnyx.text_provider, telnyx.texts_enabled) == ("telnyx", True)
    assert "KEY-1" in telnyx.secrets
    assert Settings(telnyx_messaging_from="+14155550100").text_provider is None


def test_two_text_senders_are_refused_with_a_sentence_naming_both() -> None:
    with pytest.raises(ValueError, match="TWILIO_MESSAGING_FROM or TELNYX_MESSAGING_FROM"):
        Settings(twilio_messaging_from="+14155550100", telnyx_messaging_from="+14155550101")
