"""HTTPS probes of the providers' APIs (Twilio, Deepgram) for `frontdesk doctor --online`:
is the API reachable from here, and does it accept our credentials."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

PROBE_TIMEOUT_S = 5.0
TWILIO_API = "https://api.twilio.com"
DEEPGRAM_API = "https://api.deepgram.com"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """`reached`: an HTTP answer came back. `accepted`: the credentials were taken (None
    when none were sent). `detail`: what happened, in a few words, with no secret."""

    reached: bool
    accepted: bool | None
    detail: str


def probe_twilio(base_url: str, account_sid: str | None, auth_token: str | None) -> ProbeResult:
    """With an account SID and token, fetch the account (200: accepted, 401: refused);
    otherwise just reach the API."""
    if account_sid and auth_token:
        url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}.json"
        return _probe("GET", url, auth=(account_sid, auth_token))
    return _probe("HEAD", base_url)


def probe_deepgram(base_url: str, api_key: str | None) -> ProbeResult:
    """With a key, list its projects (200: accepted, 401/403: refused); otherwise just
    reach the API."""
    if api_key:
        url = f"{base_url.rstrip('/')}/v1/projects"
        return _probe("GET", url, headers={"Authorization": f"Token {api_key}"})
    return _probe("HEAD", base_url)


def _probe(
    method: str,
    url: str,
    *,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> ProbeResult:
    credentials = auth is not None or headers is not None
    try:
        response = httpx.request(method, url, auth=auth, headers=headers, timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as error:
        return ProbeResult(False, None, f"unreachable ({type(error).__name__})")
    status = response.status_code
    if not credentials:
        return ProbeResult(True, None, f"reachable (HTTP {status})")
    if status in {401, 403}:
        return ProbeResult(True, False, f"reachable, credentials refused (HTTP {status})")
    if response.is_success:
        return ProbeResult(True, True, "reachable, credentials accepted")
    return ProbeResult(True, None, f"reachable, unexpected HTTP {status}")
