"""Console sign-in state: the session cookie, the staff-only hook, and CSRF for forms.

The console is cookie-authenticated and nothing else: an API key opens no page, and a
session cookie opens no API route (the API's guard reads only `Authorization`).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.response import Redirect

from application.staff.sessions import ResumeSessionHandler, SessionPolicy
from domain.staff import StaffAccount

PREFIX = "/console"
SESSION_COOKIE = "frontdesk_session"
STAFF_STATE_KEY = "staff"
LOGIN_PATH = f"{PREFIX}/login"
HOME_PATH = f"{PREFIX}/schedule"


def csrf_middleware(secret: str | None, *, secure: bool) -> DefineMiddleware:
    """Litestar's double-submit CSRF check with its default names (cookie `csrftoken`,
    form field `_csrf_token`), mounted on the console's routers only: the REST API and
    the carrier webhooks never see it. Without a configured secret, one per process."""
    config = CSRFConfig(
        secret=secret or secrets.token_hex(32),
        cookie_path=PREFIX,
        cookie_secure=secure,
        cookie_samesite="lax",
        cookie_httponly=True,
    )
    return DefineMiddleware(CSRFMiddleware, config=config)


def session_cookie(token: str, *, secure: bool, policy: SessionPolicy) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=int(policy.lifetime.total_seconds()),
    )


def expired_session_cookie(*, secure: bool) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=0,
    )


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path only (no open redirect)."""
    unsafe = ("//", "\\", "\r", "\n")
    if target and target.startswith(f"{PREFIX}/") and not any(u in target for u in unsafe):
        return target
    return HOME_PATH


Hook = Callable[[Request[Any, Any, Any]], Awaitable[Response[Any] | None]]


def require_staff(resume: Callable[[], ResumeSessionHandler]) -> Hook:
    """A `before_request` hook: no valid session, and the browser goes to the sign-in
    page (with where it was going); otherwise the account is left in `request.state`."""

    async def hook(request: Request[Any, Any, Any]) -> Response[Any] | None:
        token = request.cookies.get(SESSION_COOKIE)
        account = await resume()(token) if token else None
        if account is None:
            target = request.url.path
            if request.url.query:
                target += f"?{request.url.query}"
            return Redirect(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)
        request.state[STAFF_STATE_KEY] = account
        return None

    return hook


def signed_in(request: Request[Any, Any, Any]) -> StaffAccount:
    account = request.state[STAFF_STATE_KEY]
    assert isinstance(account, StaffAccount)
    return account
