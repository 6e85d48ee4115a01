"""The four things `frontdesk setup` does: set up (guided), show, re-point, tear down."""

from __future__ import annotations

import argparse
import ipaddress
from urllib.parse import urlsplit

from adapters.fly import Flyctl
from adapters.twilio_rest import AvailableNumber, OwnedNumber, TwilioNumbers
from entrypoints.http.twilio_webhooks import STATUS_PATH, VOICE_PATH
from entrypoints.setup.console import Console, SetupFailed
from entrypoints.setup.fly_deploy import deploy_to_fly
from entrypoints.setup.settings import SetupSettings
from entrypoints.setup.state import SetupState


class Setup:
    """One run of the command: settings, saved state, the operator, and Twilio."""

    def __init__(self, settings: SetupSettings, console: Console) -> None:
        self.settings, self.console = settings, console
        try:
            self.state = SetupState.load(settings.state_file)
        except (ValueError, TypeError):
            raise SetupFailed(
                f"{settings.state_file} is damaged",
                "delete it and run `frontdesk setup` again (the number keeps its webhooks)",
            ) from None
        self.account_sid, self.auth_token, self.token_prompted = self._credentials()
        self.twilio = TwilioNumbers(
            self.account_sid, self.auth_token, base_url=settings.twilio_api_base_url
        )

    def save(self) -> None:
        self.state.save(self.settings.state_file)

    def _credentials(self) -> tuple[str, str, bool]:
        sid = self.settings.twilio_account_sid or self.console.ask(
            "Twilio account SID (AC...)",
            missing=SetupFailed(
                "TWILIO_ACCOUNT_SID is not set",
                "put it in .env or the environment; it is on the Twilio console's home page",
            ),
        )
        if not sid.startswith("AC"):
            raise SetupFailed(
                "TWILIO_ACCOUNT_SID should start with AC",
                "copy the Account SID from the Twilio console's home page (not an API key SID)",
            )
        token = self.settings.twilio_auth_token
        if token is not None and token.get_secret_value():
            return sid, token.get_secret_value(), False
        prompted = self.console.ask_secret(
            "Twilio auth token",
            missing=SetupFailed(
                "TWILIO_AUTH_TOKEN is not set",
                "put it in .env or the environment; it is next to the Account SID on the "
                "Twilio console's home page",
            ),
        )
        return sid, prompted, True

    def _saved_number(self) -> str:
        if self.state.number_sid is None:
            raise SetupFailed(
                f"no number is set up yet ({self.settings.state_file} has none)",
                "run `frontdesk setup` first",
            )
        return self.state.number_sid

    # -- the guided set-up ------------------------------------------------------------

    def guided(self, args: argparse.Namespace) -> int:
        number = self._buy(args) if args.buy else self._pick(args.number)
        self.state.number_sid, self.state.phone_number = number.sid, number.phone_number
        self.save()
        flyctl = None if args.twilio_only else Flyctl.find()
        if flyctl is not None:
            base = deploy_to_fly(
                flyctl,
                settings=self.settings,
                state=self.state,
                console=self.console,
                fly_app=args.fly_app,
                credentials=(self.account_sid, self.auth_token),
                save=self.save,
            )
        else:
            if not args.twilio_only:
                self.console.warn(
                    "flyctl is not installed: skipping the Fly.io deploy and pointing the "
                    "number at PUBLIC_URL (install flyctl from "
                    "https://fly.io/docs/flyctl/install/ to deploy)"
                )
            base = self._public_url()
        self._point(number, base)
        if self.token_prompted and flyctl is None:
            self.console.warn(
                "the server checks Twilio's signatures with TWILIO_AUTH_TOKEN: put it in .env"
            )
        self.console.say(f"Call {number.phone_number} to talk to the receptionist.")
        return 0

    def _pick(self, wanted: str | None) -> OwnedNumber:
        owned = self.twilio.list_owned()
        if wanted:
            digits = "".join(c for c in wanted if c.isdigit())
            for number in owned:
                if wanted == number.sid or digits == number.phone_number.lstrip("+"):
                    return number
            raise SetupFailed(
                f"the Twilio account has no number {wanted}",
                "run `frontdesk setup` without --number to choose from the account's numbers",
            )
        saved = [n for n in owned if n.sid == self.state.number_sid]
        if saved:
            self.console.say(f"Using the saved number {saved[0].phone_number}")
            return saved[0]
        if not owned:
            raise SetupFailed(
                "the Twilio account has no phone numbers yet",
                "buy one with `frontdesk setup --buy --area-code 415` (add --yes to confirm "
                "without a prompt)",
            )
        return self.console.choose(
            "Which number should the receptionist answer?",
            owned,
            lambda n: f"{n.phone_number} {n.friendly_name} (now: {n.voice_url or 'no webhook'})",
            missing=SetupFailed(
                f"the account has {len(owned)} numbers and there is no terminal to ask which",
                "choose one with --number +1NXXNXXXXXX",
            ),
        )

    def _buy(self, args: argparse.Namespace) -> OwnedNumber:
        area = args.area_code or self.console.ask(
            "Area code to buy a number in",
            missing=SetupFailed("--buy needs an area code", "add --area-code 415 (for example)"),
        )
        found = self.twilio.search_local(area)
        choice: AvailableNumber = (
            self.console.choose(
                "Which number should be bought?",
                found,
                lambda n: f"{n.friendly_name} {n.locality} {n.region}".strip(),
                missing=SetupFailed("no terminal to choose a number", "add --yes"),
            )
            if self.console.interactive
            else found[0]
        )
        agreed = self.console.confirm(
            f"Buy {choice.phone_number} on the Twilio account? Twilio bills it monthly",
            refused=SetupFailed(
                f"buying {choice.phone_number} costs money and needs a confirmation",
                "add --yes to buy without a prompt",
            ),
        )
        if not agreed:
            raise SetupFailed("no number was bought", "run again and answer y, or drop --buy")
        number = self.twilio.buy(choice.phone_number)
        self.state.number_bought = True
        self.console.say(f"Bought {number.phone_number} ({number.sid})")
        return number

    def _public_url(self) -> str:
        if not self.settings.public_url:
            raise SetupFailed(
                "PUBLIC_URL is not set, so there is nothing to point the number at",
                "set PUBLIC_URL to the https:// address Twilio reaches this server at (e.g. "
                "a tunnel to port 8000), or install flyctl to deploy to Fly.io",
            )
        return checked_public_url(self.settings.public_url, self.console)

    def _point(self, number: OwnedNumber, base: str) -> None:
        voice, status = base + VOICE_PATH, base + STATUS_PATH
        self.twilio.point(number.sid, voice_url=voice, status_callback=status)
        self.state.public_url = base
        self.save()
        self.console.say(f"{number.phone_number} now sends calls to {voice}")
        self.console.say(f"  and call status changes to {status}")
        self.console.say(f"Saved to {self.settings.state_file}")

    # -- show, re-point, tear down ----------------------------------------------------

    def status(self) -> int:
        number = self.twilio.fetch(self._saved_number())
        expected = (self.state.public_url or "") + VOICE_PATH
        self.console.say(f"number:          {number.phone_number} ({number.sid})")
        self.console.say(f"voice URL:       {number.voice_url or '(none)'}")
        self.console.say(f"status callback: {number.status_callback or '(none)'}")
        self.console.say(f"saved public URL: {self.state.public_url or '(none)'}")
        if self.state.fly_app:
            self.console.say(f"Fly.io app:      {self.state.fly_app}")
        if self.state.public_url and number.voice_url != expected:
            self.console.warn(
                f"the number no longer points at {expected}: "
                "run `frontdesk setup --update-url URL` to point it again"
            )
        return 0

    def update_url(self, url: str) -> int:
        number = self.twilio.fetch(self._saved_number())
        self._point(number, checked_public_url(url, self.console))
        return 0

    def teardown(self, args: argparse.Namespace) -> int:
        if self.state.number_sid is not None:
            number = self.twilio.unpoint(self.state.number_sid)
            self.console.say(f"{number.phone_number} no longer sends calls to frontdesk")
            self.state.public_url = None
            if args.release_number and self._confirm_release(number):
                self.twilio.release(number.sid)
                self.console.say(f"Released {number.phone_number} back to Twilio")
                self.state.number_sid = self.state.phone_number = None
                self.state.number_bought = False
            self.save()
        if self.state.fly_app and not args.twilio_only:
            self._destroy_fly_app(self.state.fly_app)
        self.save()
        return 0

    def _confirm_release(self, number: OwnedNumber) -> bool:
        return self.console.confirm(
            f"Release {number.phone_number}? It goes back to Twilio and may not be available again",
            refused=SetupFailed(
                f"releasing {number.phone_number} is permanent and needs a confirmation",
                "add --yes to --teardown --release-number",
            ),
        )

    def _destroy_fly_app(self, app: str) -> None:
        flyctl = Flyctl.find()
        if flyctl is None:
            self.console.warn(f"flyctl is not installed: the Fly app {app} is left running")
            return
        cluster = self.state.fly_postgres
        doomed = f"{app} and its database {cluster}" if cluster else app
        if not self.console.confirm(f"Destroy the Fly app {doomed}? Its data is lost"):
            self.console.warn(
                f"the Fly app {app} is left running: destroy it with "
                "`frontdesk setup --teardown --yes` or `flyctl apps destroy`"
            )
            return
        flyctl.destroy_app(app)
        self.state.fly_app, self.state.fly_app_created = None, False
        self.state.fly_deployed_at = None
        self.save()
        self.console.say(f"Destroyed the Fly app {app}")
        if cluster:
            flyctl.destroy_app(cluster)
            self.state.fly_postgres, self.state.fly_postgres_attached = None, False
            self.console.say(f"Destroyed the Fly Postgres app {cluster}")


def checked_public_url(url: str, console: Console) -> str:
    """The base URL without a trailing slash; refuses what Twilio could never reach."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host:
        raise SetupFailed(f"{url!r} is not a web address", "give a full https:// URL")
    try:
        private = not ipaddress.ip_address(host).is_global
    except ValueError:
        private = host == "localhost" or host.endswith(".local")
    if private:
        raise SetupFailed(
            f"Twilio cannot reach {host}: it is not a public address",
            "expose the server (a tunnel, or Fly.io) and use its public https:// URL",
        )
    if parts.scheme != "https":
        console.warn(f"{url} is not https: Twilio's requests would travel unencrypted")
    return url.strip().rstrip("/")
