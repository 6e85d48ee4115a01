"""Builds the Litestar app from the container; nothing here runs at import time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar import Litestar, Response, Router, get
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from entrypoints.http.api_docs import LocalScalarRenderPlugin, docs_assets_router
from entrypoints.http.auth import bearer_guard
from entrypoints.http.auth_throttle import AuthFailureThrottle
from entrypoints.http.call_events import call_events_handler
from entrypoints.http.health import healthz, readyz
from entrypoints.http.media_stream import ASGIApp, with_media_streams
from entrypoints.http.metrics_access import metrics_guard
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.query import known_query_parameters
from entrypoints.http.rate_limit import RateLimiter
from entrypoints.http.security_headers import with_security_headers
from entrypoints.http.telephony import CallGateway, warm_greeting_audio
from entrypoints.http.telnyx_messages import telnyx_messages_router
from entrypoints.http.telnyx_webhooks import MEDIA_PATH as TELNYX_MEDIA_PATH
from entrypoints.http.telnyx_webhooks import (
    telnyx_media_handler,
    telnyx_router,
    telnyx_verifier,
)
from entrypoints.http.twilio_media import twilio_media_handler
from entrypoints.http.twilio_messages import twilio_messages_router
from entrypoints.http.twilio_webhooks import MEDIA_PATH as TWILIO_MEDIA_PATH
from entrypoints.http.twilio_webhooks import twilio_router
from entrypoints.http.v1 import (
    AppointmentsController,
    CallsController,
    WebhooksController,
    get_practice,
    list_slots,
)
from entrypoints.observability.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

if TYPE_CHECKING:
    from pydantic import SecretStr

    from entrypoints.container import Container

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 1024
BEARER = "bearerAuth"


def create_app(
    container: Container, *, auth_clock: Callable[[], float] = time.monotonic
) -> ASGIApp:
    """The HTTP app: REST API v1 under /api/v1 (bearer keys), open /healthz, /readyz, /schema;
    the Twilio webhooks; the staff console under /console (session cookies, CSRF); and
    the media stream on bare ASGI in front of Litestar.

    Use cases come fresh from the container per request; `container.database()` is
    disposed on shutdown. `auth_clock` (monotonic seconds) times the failed-key throttle.
    """
    settings = container.settings()

    # Here, not at the top: the console pages import this package's events broker.
    from entrypoints.console.routes import TEMPLATES_DIR, console_routers
    from entrypoints.console.softphone import MEDIA_PATH as SOFTPHONE_MEDIA_PATH
    from entrypoints.console.softphone import softphone_media_handler

    def provide(provider: Callable[[], Any]) -> Provide:
        """A fresh object from a container provider, per request (providers decide scope)."""

        def dependency() -> Any:
            return provider()

        return Provide(dependency, sync_to_thread=False)

    def api_keys() -> list[SecretStr]:
        return list(container.settings().frontdesk_api_keys)

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            get_practice,
            list_slots,
            AppointmentsController,
            CallsController,
            WebhooksController,
            call_events_handler(container),
        ],
        guards=[
            bearer_guard(
                api_keys,
                RateLimiter(settings.api_rate_limit_per_minute),
                AuthFailureThrottle(
                    settings.api_auth_failure_limit,
                    settings.api_auth_failure_window_s,
                    clock=auth_clock,
                ),
                container.metrics(),
            ),
            known_query_parameters(),
        ],
        security=[{BEARER: []}],
        dependencies={
            "practice": provide(container.practice),
            "find_open_slots": provide(container.find_open_slots),
            "book_appointment": provide(container.book_appointment),
            "find_appointments": provide(container.find_appointments),
            "get_appointment": provide(container.get_appointment),
            "cancel_appointment": provide(container.cancel_appointment),
            "reschedule_appointment": provide(container.reschedule_appointment),
            "list_calls": provide(container.list_calls),
            "get_call": provide(container.get_call),
            "call_references": provide(container.carrier_references),
            "subscribe_webhook": provide(container.subscribe_webhook),
            "list_webhooks": provide(container.list_webhooks),
            "get_webhook": provide(container.get_webhook),
            "delete_webhook": provide(container.delete_webhook),
            "rotate_webhook_secret": provide(container.rotate_webhook_secret),
            "list_webhook_deliveries": provide(container.list_webhook_deliveries),
            "redeliver_webhook": provide(container.redeliver_webhook),
        },
    )

    gateway = CallGateway(container)
    telnyx = telnyx_verifier(container)
    carriers = [twilio_router(container, gateway), twilio_messages_router(container)]
    if telnyx is not None:
        carriers.append(telnyx_router(container, gateway, telnyx))
        carriers.append(telnyx_messages_router(container, telnyx))
    warming: set[asyncio.Task[Any]] = set()  # the loop keeps only weak references

    async def warm_database() -> None:
        # In the background: start-up must not wait for a database that is down.
        task = asyncio.create_task(container.database().warm_up(), name="warm-database-pool")
        warming.add(task)
        task.add_done_callback(warming.discard)

    async def warm_greeting() -> None:
        # The greeting's audio made (or read from disk) before the first call wants it.
        if not container.agent_configured():
            return
        task = asyncio.create_task(warm_greeting_audio(container), name="warm-greeting")
        warming.add(task)
        task.add_done_callback(warming.discard)

    dispatching: set[asyncio.Task[None]] = set()

    async def start_dispatcher() -> None:
        # Delivery runs beside requests and calls, never inside them.
        settings = container.settings()
        if not settings.webhook_dispatcher:
            return
        dispatching.add(asyncio.create_task(container.webhook_dispatcher().run(), name="webhooks"))
        if settings.texts_enabled:
            dispatching.add(asyncio.create_task(container.text_dispatcher().run(), name="texts"))

    relaying: set[asyncio.Task[None]] = set()

    async def start_relay() -> None:
        relay = container.event_relay()
        if relay is not None:
            relaying.add(asyncio.create_task(relay.run(), name="call-events-relay"))

    async def stop_relay() -> None:
        for task in relaying:
            task.cancel()
        await asyncio.gather(*relaying, return_exceptions=True)
        relaying.clear()

    async def stop_dispatcher() -> None:
        for task in dispatching:
            task.cancel()
        await asyncio.gather(*dispatching, return_exceptions=True)
        dispatching.clear()
        try:
            await container.webhook_sender().aclose()
            if container.settings().texts_enabled:
                await container.text_notifier().aclose()
        except Exception:
            logger.exception("closing the webhook sender or the text notifier failed")

    async def close_prepared_agents() -> None:
        warm = container.warm_agents()
        if warm is not None:
            await warm.aclose()

    async def dispose_database() -> None:
        for task in warming:
            task.cancel()
        await asyncio.gather(*warming, return_exceptions=True)
        # dependency-injector cannot tell whether a Singleton was built; building the
        # engine here is cheap and lazy (no connection), so dispose unconditionally.
        try:
            await container.database().dispose()
        except Exception:
            logger.exception("disposing of the database engine failed")

    @get(
        "/metrics",
        include_in_schema=False,
        media_type=METRICS_CONTENT_TYPE,
        guards=[metrics_guard(settings.frontdesk_metrics_token)],
    )
    async def metrics() -> Response[bytes]:
        return Response(container.metrics().render(), media_type=METRICS_CONTENT_TYPE)

    litestar = Litestar(
        route_handlers=[
            healthz,
            readyz,
            metrics,
            api,
            *carriers,
            docs_assets_router(),
            *console_routers(container, gateway),
        ],
        template_config=TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine),
        dependencies={
            "database": provide(container.database),
            "capacity": provide(container.call_capacity),
            "event_relay": provide(container.event_relay),
        },
        exception_handlers=dict(EXCEPTION_HANDLERS),
        on_startup=[warm_database, warm_greeting, start_dispatcher, start_relay],
        on_shutdown=[stop_relay, stop_dispatcher, close_prepared_agents, dispose_database],
        logging_config=None,  # keep ours: Litestar's default would replace it at start-up
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="frontdesk",
            version="1.0.0",
            description=(
                "Appointments of one practice, the same ones its phone receptionist books. "
                "Errors are RFC 9457 problem+json with a stable `code`."
            ),
            path="/schema",
            components=Components(
                security_schemes={
                    BEARER: SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="One of the server's FRONTDESK_API_KEYS.",
                    )
                }
            ),
            render_plugins=[LocalScalarRenderPlugin()],
        ),
    )
    media_streams = {
        TWILIO_MEDIA_PATH: twilio_media_handler(container, gateway),
        SOFTPHONE_MEDIA_PATH: softphone_media_handler(container, gateway),
    }
    if telnyx is not None:
        media_streams[TELNYX_MEDIA_PATH] = telnyx_media_handler(container, gateway)
    served = with_media_streams(litestar, media_streams)
    return with_security_headers(
        served, https=settings.public_base_url.lower().startswith("https://")
    )
