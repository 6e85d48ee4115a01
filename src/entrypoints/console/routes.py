"""The console's routers: public (sign-in, static files) and staff-only (everything else)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from litestar import Router
from litestar.datastructures import ResponseHeader
from litestar.handlers import HTTPRouteHandler
from litestar.static_files import create_static_files_router

from entrypoints.console.pages_auth import sign_in_handlers, sign_out_handlers
from entrypoints.console.pages_calls import calls_handlers
from entrypoints.console.pages_practice import practice_handlers
from entrypoints.console.pages_schedule import schedule_handlers
from entrypoints.console.rendering import EXCEPTION_HANDLERS
from entrypoints.console.security import PREFIX, Hook, csrf_middleware, require_staff
from entrypoints.console.softphone import try_it_handlers

if TYPE_CHECKING:
    from entrypoints.container import Container
    from entrypoints.http.telephony import CallGateway

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

SECURITY_HEADERS = [
    # Every asset is ours: no CDN, no inline script.
    ResponseHeader(
        name="Content-Security-Policy",
        value="default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(name="Cache-Control", value="no-store"),
]


def console_routers(container: Container, gateway: CallGateway) -> list[Router]:
    """Mounted by `create_app`; left out of the OpenAPI document."""
    settings = container.settings()
    secure = settings.public_base_url.startswith("https://")
    secret = settings.console_secret.get_secret_value() if settings.console_secret else None
    csrf = csrf_middleware(secret, secure=secure)

    def router(handlers: list[HTTPRouteHandler], before: Hook | None = None) -> Router:
        return Router(
            path=PREFIX,
            route_handlers=handlers,
            include_in_schema=False,
            middleware=[csrf],
            exception_handlers=dict(EXCEPTION_HANDLERS),
            response_headers=SECURITY_HEADERS,
            before_request=before,
        )

    public = router(sign_in_handlers(container, secure=secure))
    staff_only = router(
        [
            *sign_out_handlers(container, secure=secure),
            *schedule_handlers(container),
            *calls_handlers(container),
            *practice_handlers(container),
            *try_it_handlers(container, gateway),
        ],
        before=require_staff(container.resume_session),
    )
    static = create_static_files_router(
        path=f"{PREFIX}/static", directories=[STATIC_DIR], include_in_schema=False
    )
    return [public, staff_only, static]
