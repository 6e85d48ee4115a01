"""The Fly.io half of setup: fly.toml, app, Postgres, secrets, deploy. Resumable: each
finished step is saved in the state file, so a failed run picks up where it stopped."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dotenv import dotenv_values

from adapters.fly import GENERATED_MARK, Flyctl, render_fly_toml
from entrypoints.setup.console import Console, SetupFailed
from entrypoints.setup.settings import SetupSettings
from entrypoints.setup.state import SetupState, utc_now

SECRET_NAMES = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_AUTH_TOKEN_SECONDARY",
    "DEEPGRAM_API_KEY",
    "FRONTDESK_API_KEYS",
)
# Meaningful on this machine only; the deployed app gets its own (fly.toml, attach).
LOCAL_ONLY = {
    "DATABASE_URL", "PUBLIC_URL", "HOST", "PORT", "FRONTDESK_DATA_DIR", "PRACTICE_FILE",
    "TWILIO_API_BASE_URL", "LOG_FORMAT", "FLY_ORG", "FLY_REGION", "DEV",
}  # fmt: skip
_APP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def fly_public_url(app: str) -> str:
    return f"https://{app}.fly.dev"


def asyncpg_url(url: str) -> str:
    """flyctl reports `postgres://...?sslmode=disable`; the server needs SQLAlchemy's
    `postgresql+asyncpg://` and asyncpg takes no `sslmode` parameter."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "sslmode"])
    return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, query, ""))


def secrets_for_fly(
    env_file: Path, environ: Mapping[str, str], *, account_sid: str, auth_token: str
) -> dict[str, str]:
    """Every `.env` entry but the machine-local ones, plus the known secrets set only in
    the environment, plus the Twilio credentials setup itself used."""
    found = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    chosen = {k: v for k, v in found.items() if k.upper() not in LOCAL_ONLY and v != ""}
    for name in SECRET_NAMES:
        if name not in chosen and environ.get(name):
            chosen[name] = environ[name]
    chosen["TWILIO_ACCOUNT_SID"], chosen["TWILIO_AUTH_TOKEN"] = account_sid, auth_token
    return chosen


def _app_name(requested: str | None, state: SetupState) -> str:
    name = requested or state.fly_app or f"frontdesk-{secrets.token_hex(3)}"
    if not _APP_NAME.match(name):
        raise SetupFailed(
            f"{name!r} is not a valid Fly app name",
            "use 3-63 lowercase letters, digits and hyphens (--fly-app NAME)",
        )
    if state.fly_app_created and state.fly_app and name != state.fly_app:
        raise SetupFailed(
            f"this directory is already set up with the Fly app {state.fly_app}",
            "run `frontdesk setup --teardown` first, or drop --fly-app",
        )
    return name


def _write_fly_toml(path: Path, app: str, region: str, console: Console) -> None:
    if path.exists() and GENERATED_MARK not in path.read_text(encoding="utf-8"):
        console.warn(f"{path} was edited by hand: deploying with it as it is")
        return
    path.write_text(render_fly_toml(app=app, region=region), encoding="utf-8")


def deploy_to_fly(
    flyctl: Flyctl,
    *,
    settings: SetupSettings,
    state: SetupState,
    console: Console,
    fly_app: str | None,
    credentials: tuple[str, str],
    save: Callable[[], None],
) -> str:
    """Creates (or reuses) the app and its Postgres, stages the secrets, deploys, and
    returns the app's public https URL."""
    app = _app_name(fly_app, state)
    console.say(f"Fly.io: logged in as {flyctl.whoami() or 'an unnamed user'}")
    _write_fly_toml(Path("fly.toml"), app, settings.fly_region, console)
    state.fly_app = app
    save()
    if not state.fly_app_created:
        console.say(f"Fly.io: creating the app {app}")
        flyctl.create_app(app, org=settings.fly_org)
        state.fly_app_created = True
        save()
    cluster = state.fly_postgres or f"{app}-db"
    if state.fly_postgres is None:
        console.say(f"Fly.io: creating the Postgres cluster {cluster} (takes a minute or two)")
        flyctl.create_postgres(cluster, org=settings.fly_org, region=settings.fly_region)
        state.fly_postgres = cluster
        save()
    if not state.fly_postgres_attached:
        url = flyctl.attach_postgres(cluster, app=app)
        if url:
            flyctl.import_secrets(app, {"DATABASE_URL": asyncpg_url(url)})
        else:
            console.warn(
                "flyctl did not show the DATABASE_URL it set; if the app cannot reach its "
                "database, set DATABASE_URL=postgresql+asyncpg://... with `flyctl secrets set`"
            )
        state.fly_postgres_attached = True
        save()
    values = secrets_for_fly(
        Path(".env"), os.environ, account_sid=credentials[0], auth_token=credentials[1]
    )
    if "DEEPGRAM_API_KEY" not in values:
        console.warn("DEEPGRAM_API_KEY is not set: calls will hear an apology until it is")
    console.say(f"Fly.io: setting {len(values)} secrets ({', '.join(sorted(values))})")
    flyctl.import_secrets(app, values)
    console.say(f"Fly.io: deploying {app} (builds the image remotely; several minutes)")
    flyctl.deploy(app, config=Path("fly.toml"))
    state.fly_deployed_at = utc_now()
    save()
    return fly_public_url(app)
