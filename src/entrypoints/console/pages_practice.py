"""The practice as configured (read-only), and whether the phone line is set up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template

from domain.scheduling import Practice, Weekday
from entrypoints.console.rendering import page
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from entrypoints.container import Container


def _hours(hours: Any) -> list[dict[str, str]]:
    return [
        {
            "day": day.name.title(),
            "hours": ", ".join(
                f"{i.opens.strftime('%H:%M')}-{i.closes.strftime('%H:%M')}"
                for i in hours.get(day, ())
            )
            or "closed",
        }
        for day in Weekday
    ]


def practice_context(practice: Practice, settings: Settings) -> dict[str, Any]:
    """Only whether secrets are set, never their values."""
    return {
        "practice": practice,
        "hours": _hours(practice.hours),
        "services": [
            {"name": s.name, "id": s.id, "minutes": int(s.duration.total_seconds() // 60)}
            for s in practice.services.values()
        ],
        "providers": [
            {
                "name": p.name,
                "title": p.title,
                "services": ", ".join(practice.services[s].name for s in sorted(p.service_ids)),
                "hours": _hours(p.hours) if p.hours is not None else None,
            }
            for p in practice.providers.values()
        ],
        "closures": [d.isoformat() for d in sorted(practice.closures)],
        "carriers": [
            ("Twilio", bool(settings.twilio_auth_tokens), "set TWILIO_AUTH_TOKEN"),
            ("Telnyx", settings.telnyx_public_key is not None, "set TELNYX_PUBLIC_KEY"),
        ],
        "public_url": settings.public_base_url,
        "public_url_set": settings.public_url is not None,
        "agent_provider": settings.voice_agent,
        "agent_configured": settings.deepgram_api_key is not None
        and bool(settings.deepgram_api_key.get_secret_value()),
        "agent_model": settings.agent_think_model,
    }


def practice_handlers(container: Container) -> list[HTTPRouteHandler]:
    @get("/practice", sync_to_thread=False)
    def practice_page(request: Request[Any, Any, Any]) -> Template:
        return page(
            request,
            "practice.html",
            **practice_context(container.practice(), container.settings()),
        )

    return [practice_page]
