"""Signing in and out of the console."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from application.staff.sign_in import SignIn, SignInRefused, SignInThrottled
from entrypoints.console.rendering import page
from entrypoints.console.security import (
    HOME_PATH,
    LOGIN_PATH,
    SESSION_COOKIE,
    expired_session_cookie,
    safe_next,
    session_cookie,
)

if TYPE_CHECKING:
    from entrypoints.container import Container


def _field(form: Any, name: str, limit: int = 1024) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def sign_in_handlers(container: Container, *, secure: bool) -> list[HTTPRouteHandler]:
    """The sign-in form (public) and its POST."""

    @get("/login", sync_to_thread=False)
    def login_form(
        request: Request[Any, Any, Any],
        next_path: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
    ) -> Template:
        return page(request, "login.html", next_path=safe_next(next_path), email="", error=None)

    @post("/login", status_code=303)
    async def log_in(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        email, password = _field(form, "email", 254), _field(form, "password")
        target = safe_next(_field(form, "next"))
        client = request.client.host if request.client else "unknown"
        try:
            signed = await container.sign_in()(
                SignIn(email=email, password=password, client_address=client)
            )
        except SignInThrottled as refused:
            seconds = str(int(refused.retry_after.total_seconds()) + 1)
            return page(
                request,
                "login.html",
                status_code=429,
                headers={"Retry-After": seconds},
                next_path=target,
                email=email,
                error=refused.message,
            )
        except SignInRefused as refused:
            return page(
                request,
                "login.html",
                status_code=401,
                next_path=target,
                email=email,
                error=refused.message,
            )
        cookie = session_cookie(signed.token, secure=secure, policy=container.session_policy())
        return Redirect(target, status_code=303, cookies=[cookie])

    return [login_form, log_in]


def sign_out_handlers(container: Container, *, secure: bool) -> list[HTTPRouteHandler]:
    """Signing out (staff only) and the bare /console address."""

    @post("/logout", status_code=303)
    async def log_out(request: Request[Any, Any, Any]) -> Redirect:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await container.sign_out()(token)
        return Redirect(
            f"{LOGIN_PATH}?signed_out=1",
            status_code=303,
            cookies=[expired_session_cookie(secure=secure)],
        )

    @get("/", sync_to_thread=False)
    def home() -> Redirect:
        return Redirect(HOME_PATH, status_code=303)

    return [log_out, home]
