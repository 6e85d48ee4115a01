"""Process settings, from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PRACTICE_FILE = Path(__file__).parent / "practices" / "dental_office.toml"
SCENARIOS_DIR = Path(__file__).parent / "scenarios"
"""The shipped scenarios for the sample practice (`frontdesk eval`'s default)."""
DEFAULT_AGENT_SCRIPT = SCENARIOS_DIR / "book_checkup.toml"


class Settings(BaseSettings):
    """Everything an operator sets. Secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy async URL, e.g. postgresql+asyncpg://u:p@host/db. "
        "Unset: an embedded SQLite file under FRONTDESK_DATA_DIR.",
    )
    database_pool_size: int = Field(
        default=10,  # adapters.sql's default too; not imported: it would load SQLAlchemy
        ge=1,
        le=200,
        description="Postgres connections each instance keeps open (opened at start-up); "
        "as many more are opened for a burst.",
    )
    frontdesk_data_dir: Path = Field(default=Path(".frontdesk"))
    practice_file: Path = Field(default=DEFAULT_PRACTICE_FILE)
    frontdesk_api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    api_rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Requests a minute per API key, per instance."
    )
    api_auth_failure_limit: int = Field(
        default=10,
        ge=1,
        description="Invalid API keys one client address may present within "
        "API_AUTH_FAILURE_WINDOW_S before its requests are refused with 429.",
    )
    api_auth_failure_window_s: float = Field(
        default=300.0, gt=0, description="The sliding window those failures are counted in."
    )
    frontdesk_metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token /metrics requires. Unset: /metrics answers loopback only.",
    )
    default_region: str | None = Field(
        default=None, description="Overrides the practice file's region for national numbers."
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL Twilio reaches this server at (https://...). Signatures are "
        "checked against it, never against the Host header. Default: http://HOST:PORT.",
    )
    console_secret: SecretStr | None = Field(
        default=None,
        description="Signs the console's CSRF tokens. Unset: a random secret per process "
        "(set one when several instances serve the console).",
    )
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_auth_token_secondary: SecretStr | None = None
    telnyx_public_key: str | None = None
    """The Telnyx account's Ed25519 public key (base64); Telnyx is enabled only with it."""
    voice_agent: Literal["deepgram", "scripted"] = "deepgram"
    """Which voice agent takes the calls: Deepgram's, or the bundled scripted one."""
    agent_script: Path = Field(
        default=DEFAULT_AGENT_SCRIPT,
        description="With VOICE_AGENT=scripted: the conversation script (TOML) it plays.",
    )
    agent_script_pause_s: float = Field(
        default=0.6,
        ge=0,
        le=10,
        description="With VOICE_AGENT=scripted: the pause after each of its lines.",
    )
    twilio_api_base_url: str = Field(
        default="https://api.twilio.com",  # adapters.twilio_rest's; not imported (start-up time)
        description="Twilio's REST API host; another value points setup and texts at a "
        "proxy or a stand-in server.",
    )
    twilio_messaging_from: str | None = Field(
        default=None,
        description="The number (E.164) confirmation texts are sent from. Texts are sent "
        "only when it, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are all set.",
    )
    telnyx_api_key: SecretStr | None = Field(
        default=None, description="A Telnyx API key (v2), for texts sent through Telnyx."
    )
    telnyx_messaging_from: str | None = Field(
        default=None,
        description="The Telnyx number (E.164, on a messaging profile) texts are sent from. "
        "Texts go through Telnyx when it and TELNYX_API_KEY are set; not with "
        "TWILIO_MESSAGING_FROM as well.",
    )
    telnyx_api_base_url: str = Field(
        default="https://api.telnyx.com",
        description="Telnyx's REST API host (a proxy, or the tests' stand-in).",
    )
    deepgram_api_key: SecretStr | None = None
    deepgram_agent_url: str = "wss://agent.deepgram.com/v1/agent/converse"
    deepgram_connect_timeout_s: float = 5.0
    deepgram_speak_url: str = Field(
        default="https://api.deepgram.com/v1/speak",  # adapters.deepgram.speak's; not imported
        description="Deepgram's text-to-speech endpoint, for the greeting made ahead of calls.",
    )
    agent_preconnect: bool = Field(
        default=True,
        description="Open the voice agent's conversation when the webhook admits a call, "
        "before its media stream arrives (the first word comes sooner).",
    )
    agent_preconnect_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="A conversation opened ahead that no media stream takes is closed after this.",
    )
    greeting_audio: bool = Field(
        default=True,
        description="Synthesise the greeting once (kept under FRONTDESK_DATA_DIR) and play it "
        "as the stream starts; off, or when synthesis fails, the agent says it.",
    )
    agent_listen_model: str = "flux-general-en"
    agent_think_provider: str = "open_ai"
    agent_think_model: str = "gpt-4o-mini"
    agent_speak_model: str = "aura-2-thalia-en"
    goodbye_timeout_s: float = 8.0
    goodbye_grace_s: float = Field(
        default=2.0,
        ge=0,
        description="After an end_call or transfer whose goodbye already played: how long "
        "the agent has to start saying more before the call ends.",
    )
    tool_timeout_s: float = 10.0
    max_call_duration_s: float = 30 * 60
    agent_reconnect_attempts: int = Field(
        default=3, ge=0, description="Tries to re-open a voice agent connection lost mid-call."
    )
    agent_reconnect_budget_s: float = Field(
        default=10.0, gt=0, description="Time from the failure within which those tries happen."
    )
    agent_silence_timeout_s: float = Field(
        default=8.0, gt=0, description="An agent silent this long after the caller spoke failed."
    )
    max_concurrent_calls: int = Field(
        default=50,
        ge=1,
        description="Calls one instance (all its workers together) carries; more hear a "
        "busy message.",
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        description="Server processes sharing the port (default: one per core on Postgres; "
        "always one on SQLite).",
    )
    media_idle_timeout_s: float = Field(
        default=10.0, gt=0, description="A media stream silent this long is a hang-up."
    )
    media_start_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A media stream that has sent no `start` this long after connecting is "
        "closed (Twilio sends it at once).",
    )
    drain_timeout_s: float = Field(
        default=300.0, ge=0, description="On SIGTERM, how long live calls may go on."
    )
    dev: bool = Field(
        default=False,
        description="Accept unsigned Twilio requests from loopback when no auth token is set.",
    )
    frontdesk_webhook_allow_private_urls: bool = Field(
        default=False,
        description="Allow webhook URLs that are http, or private, loopback or link-local "
        "(development and tests only: it opens the door to SSRF).",
    )
    webhook_first_retry_s: float = Field(
        default=5.0, gt=0, description="Wait before the first retry of a failed delivery."
    )
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, le=30, description="Longest a webhook receiver may take to answer."
    )
    webhook_poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="How often the dispatcher looks for events other processes committed.",
    )
    webhook_dispatcher: bool = Field(
        default=True,
        description="Run the outbox dispatchers (webhooks, texts) in this process.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: JSON lines unless stderr is a terminal."
    )

    @field_validator("frontdesk_api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @model_validator(mode="after")
    def _one_text_sender(self) -> Settings:
        if self.twilio_messaging_from and self.telnyx_messaging_from:
            raise ValueError(
                "set TWILIO_MESSAGING_FROM or TELNYX_MESSAGING_FROM, not both: texts go "
                "through one provider"
            )
        return self

    @property
    def text_provider(self) -> Literal["twilio", "telnyx"] | None:
        """Which provider sends texts, or None: texting is not (fully) configured."""
        if self.twilio_messaging_from and self.twilio_account_sid and self.twilio_auth_token:
            return "twilio"
        if self.telnyx_messaging_from and self.telnyx_api_key:
            return "telnyx"
        return None

    @property
    def texts_enabled(self) -> bool:
        return self.text_provider is not None

    @property
    def twilio_auth_tokens(self) -> list[str]:
        return [
            t.get_secret_value()
            for t in (self.twilio_auth_token, self.twilio_auth_token_secondary)
            if t is not None and t.get_secret_value()
        ]

    @property
    def secrets(self) -> list[str]:
        """Every secret value configured, for the log redactor."""
        values = [
            *self.twilio_auth_tokens,
            *(k.get_secret_value() for k in self.frontdesk_api_keys),
        ]
        if self.frontdesk_metrics_token is not None:
            values.append(self.frontdesk_metrics_token.get_secret_value())
        if self.deepgram_api_key is not None:
            values.append(self.deepgram_api_key.get_secret_value())
        if self.telnyx_api_key is not None:
            values.append(self.telnyx_api_key.get_secret_value())
        if self.console_secret is not None:
            values.append(self.console_secret.get_secret_value())
        if self.database_url is not None:
            password = urlsplit(self.database_url.get_secret_value()).password
            if password:
                values.append(password)
        return values

    @property
    def public_base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def resolved_database_url(self) -> str:
        if self.database_url is not None:
            return _async_driver(self.database_url.get_secret_value())
        path = (self.frontdesk_data_dir / "frontdesk.sqlite3").resolve()
        return f"sqlite+aiosqlite:///{path}"


def _async_driver(url: str) -> str:
    """Accept the URLs hosting providers hand out (`postgres://`, `postgresql://`,
    `?sslmode=`) and plain `sqlite://` by naming the async driver and asyncpg's spelling
    of the TLS option."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("postgresql+asyncpg://"):
        url = url.replace("sslmode=", "ssl=")
    return url
