"""The schedule: a day per provider, an appointment, and cancelling or moving it through
the same use cases as the REST API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from application.scheduling import CancelAppointment, FindOpenSlots, RescheduleAppointment
from domain.scheduling import Appointment, SchedulingError
from domain.webhooks import EventSource
from entrypoints.console.outbound_views import outbound_views
from entrypoints.console.rendering import page, parse_day
from entrypoints.console.views import AppointmentView, SlotView, local_time, long_date

if TYPE_CHECKING:
    from entrypoints.container import Container

MAX_SLOTS_SHOWN = 200

_DONE = {
    "cancelled": "The appointment is cancelled; its time is free again.",
    "rescheduled": "The appointment has moved.",
}


def schedule_handlers(container: Container) -> list[HTTPRouteHandler]:
    def day_bounds(day: date) -> tuple[datetime, datetime]:
        zone = container.practice().time_zone
        start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
        return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(
            UTC
        )

    @get("/schedule")
    async def schedule(
        request: Request[Any, Any, Any], date: FromQuery[str | None] = None
    ) -> Template:
        handler = container.day_schedule()
        day = parse_day(date, default=handler.today())
        plan = await handler(day)
        practice, now = container.practice(), container.clock().now()
        providers = [
            {
                "name": p.provider.name,
                "title": p.provider.title,
                "appointments": [AppointmentView.of(a, practice, now) for a in p.appointments],
                "free": [local_time(s.start, practice.time_zone) for s in p.free],
            }
            for p in plan.providers
        ]
        return page(
            request,
            "schedule.html",
            day=day.isoformat(),
            day_text=long_date(day),
            previous=(day - timedelta(days=1)).isoformat(),
            next=(day + timedelta(days=1)).isoformat(),
            today=handler.today().isoformat(),
            providers=providers,
        )

    async def appointment_page(
        request: Request[Any, Any, Any],
        appointment: Appointment,
        move_day: date | None,
        *,
        status_code: int = 200,
        error: str | None = None,
        notice: str | None = None,
    ) -> Template:
        practice, now = container.practice(), container.clock().now()
        view = AppointmentView.of(appointment, practice, now)
        day = move_day or appointment.slot.start.astimezone(practice.time_zone).date()
        slots: list[SlotView] = []
        if view.changeable:
            start, end = day_bounds(day)
            found = await container.find_open_slots()(
                FindOpenSlots(
                    service_id=appointment.slot.service_id,
                    starts_from=start,
                    starts_before=end,
                    limit=MAX_SLOTS_SHOWN,
                )
            )
            slots = [SlotView.of(s, practice) for s in found]
        history = await container.outbound_history()(
            subjects=[appointment.id], appointments=[appointment.id]
        )
        return page(
            request,
            "appointment.html",
            status_code=status_code,
            appointment=view,
            move_day=day.isoformat(),
            move_day_text=long_date(day),
            schedule_day=appointment.slot.start.astimezone(practice.time_zone).date().isoformat(),
            slots=slots,
            error=error,
            notice=notice,
            outbound=outbound_views(history, practice.time_zone),
        )

    @get("/appointments/{appointment_id:uuid}")
    async def appointment(
        request: Request[Any, Any, Any],
        appointment_id: FromPath[UUID],
        date: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Template:
        found = await container.get_appointment()(appointment_id)
        move_day = parse_day(date, default=container.day_schedule().today()) if date else None
        return await appointment_page(request, found, move_day, notice=_DONE.get(done or ""))

    @post("/appointments/{appointment_id:uuid}/cancel", status_code=303)
    async def cancel(
        request: Request[Any, Any, Any], appointment_id: FromPath[UUID]
    ) -> Response[Any]:
        try:
            await container.cancel_appointment()(
                CancelAppointment(appointment_id=appointment_id, source=EventSource.CONSOLE)
            )
        except SchedulingError as refused:
            found = await container.get_appointment()(appointment_id)
            return await appointment_page(
                request, found, None, status_code=409, error=refused.message
            )
        return Redirect(f"/console/appointments/{appointment_id}?done=cancelled", status_code=303)

    @post("/appointments/{appointment_id:uuid}/reschedule", status_code=303)
    async def reschedule(
        request: Request[Any, Any, Any], appointment_id: FromPath[UUID]
    ) -> Response[Any]:
        form = await request.form()
        slot_id = form.get("slot_id")
        try:
            if not isinstance(slot_id, str) or not slot_id:
                raise _NoSlotChosen("Choose a new time first.")
            await container.reschedule_appointment()(
                RescheduleAppointment(
                    appointment_id=appointment_id,
                    slot_id=slot_id[:100],
                    source=EventSource.CONSOLE,
                )
            )
        except SchedulingError as refused:
            found = await container.get_appointment()(appointment_id)
            status = 409 if refused.code in {"slot_taken", "appointment_not_changeable"} else 422
            message = refused.message
            if refused.code == "slot_taken":
                message = "Sorry, that time has just been taken. Choose another time."
            return await appointment_page(request, found, None, status_code=status, error=message)
        return Redirect(f"/console/appointments/{appointment_id}?done=rescheduled", status_code=303)

    return [schedule, appointment, cancel, reschedule]


class _NoSlotChosen(SchedulingError):
    code = "no_slot_chosen"
