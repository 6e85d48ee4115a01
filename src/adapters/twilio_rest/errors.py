"""Twilio failures in plain words: what went wrong and what the operator should do."""

from __future__ import annotations

import json
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.response import Response

CREDENTIALS_HELP = (
    "check TWILIO_ACCOUNT_SID (starts with AC) and TWILIO_AUTH_TOKEN in .env or the "
    "environment; both are on the Twilio console's home page (Account Info)"
)


class TwilioSetupError(Exception):
    """A Twilio failure an operator can act on. Never carries a credential."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem}; {remedy}")
        self.problem, self.remedy = problem, remedy


def no_numbers_available(area_code: str) -> TwilioSetupError:
    return TwilioSetupError(
        f"Twilio has no local numbers available in area code {area_code}",
        "try a nearby area code (--area-code), or buy one in the Twilio console and run "
        "`frontdesk setup` again to pick it",
    )


def translate(error: Exception, *, doing: str, base_url: str) -> TwilioSetupError:
    """Map a Twilio library or network error to plain words; `doing` says what we tried."""
    if isinstance(error, TwilioServiceException | TwilioRestException):
        return _from_code(error.status, error.code, _message(error), doing=doing)
    response = error.args[1] if len(error.args) > 1 else None
    if isinstance(error, TwilioException) and isinstance(response, Response):
        # a list page that failed: the package raises a bare TwilioException around it
        return _from_response(response, doing=doing)
    return TwilioSetupError(
        f"could not reach Twilio at {base_url} while {doing} ({type(error).__name__})",
        "check the network connection (and TWILIO_API_BASE_URL, if you set it), then run "
        "the command again",
    )


def _from_response(response: Response, *, doing: str) -> TwilioSetupError:
    status = int(response.status_code)
    try:
        body: Any = json.loads(response.text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _from_code(status, None, f"HTTP {status}", doing=doing)
    code = body.get("code")
    return _from_code(
        status,
        code if isinstance(code, int) else None,
        str(body.get("message") or f"HTTP {status}"),
        doing=doing,
    )


def _message(error: TwilioRestException | TwilioServiceException) -> str:
    if isinstance(error, TwilioServiceException):
        return str(error.detail or error.title)
    return str(error.msg)


def _from_code(status: int, code: int | None, message: str, *, doing: str) -> TwilioSetupError:
    if status == 401 or code == 20003:
        return TwilioSetupError(
            f"Twilio refused the account SID and auth token while {doing} (error 20003)",
            CREDENTIALS_HELP + "; a rotated token must be updated in TWILIO_AUTH_TOKEN",
        )
    if code == 21452:
        return TwilioSetupError(
            f"Twilio has no numbers available matching the search while {doing}",
            "try another area code (--area-code)",
        )
    if code == 21422:
        return TwilioSetupError(
            f"the number is no longer available to buy (error 21422) while {doing}",
            "someone else took it; run the command again to search for another",
        )
    if code == 21404:
        return TwilioSetupError(
            "a trial Twilio account may hold only one number (error 21404)",
            "use the number the account already has (run without --buy), or upgrade the "
            "account in the Twilio console",
        )
    if code in (21402, 21502, 21609):
        return TwilioSetupError(
            f"Twilio rejected the webhook URL while {doing} (error {code}: {message})",
            "PUBLIC_URL (or --update-url) must be a full public https:// URL",
        )
    if status == 404 or code == 20404:
        return TwilioSetupError(
            f"Twilio has no such number on this account while {doing} (error 20404)",
            "it may have been released or belong to another account; run `frontdesk setup` "
            "to pick a number again",
        )
    if status == 429 or code == 20429:
        return TwilioSetupError(
            f"Twilio is rate-limiting this account while {doing}",
            "wait a minute and run the command again",
        )
    if status >= 500:
        return TwilioSetupError(
            f"Twilio had an internal error while {doing} (HTTP {status})",
            "run the command again in a few minutes; https://status.twilio.com shows outages",
        )
    reference = f" (error {code})" if code else f" (HTTP {status})"
    more = f"https://www.twilio.com/docs/errors/{code}" if code else "the Twilio console"
    return TwilioSetupError(
        f"Twilio refused {doing}{reference}: {message}", f"see {more} for what it means"
    )
