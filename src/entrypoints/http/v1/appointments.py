"""/api/v1/appointments: book, list, read, cancel and reschedule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, HeaderParameter, QueryParameter

from application.calls.records import CarrierReferencesHandler
from application.scheduling import (
    BookAppointment,
    BookAppointmentHandler,
    CancelAppointment,
    CancelAppointmentHandler,
    FindAppointments,
    FindAppointmentsHandler,
    GetAppointmentHandler,
    Idempotency,
    RescheduleAppointment,
    RescheduleAppointmentHandler,
)
from domain.scheduling import Appointment, AppointmentStatus, Channel, InvalidInput, Practice
from domain.webhooks import EventSource
from entrypoints.http.auth import SCOPE_STATE_KEY
from entrypoints.http.links import (
    BOOK_APPOINTMENT,
    BOOKED_LINKS,
    CANCEL_APPOINTMENT,
    GET_APPOINTMENT,
    LIST_APPOINTMENTS,
    LISTED_APPOINTMENT_LINKS,
    RESCHEDULE_APPOINTMENT,
    with_links,
)
from entrypoints.http.params import parse_instant
from entrypoints.http.problems import (
    CONFLICT,
    NOT_FOUND,
    UNAUTHORIZED,
    UNAVAILABLE,
    UNPROCESSABLE,
)
from entrypoints.http.schemas import (
    SLOT_ID_EXAMPLE,
    AppointmentOut,
    AppointmentPage,
    BookAppointmentBody,
    RescheduleBody,
)

_BOOK_EXAMPLE = Example(
    summary="Book a cleaning",
    value={
        "slot_id": SLOT_ID_EXAMPLE,
        "service": "cleaning",
        "patient_name": "Ada Lovelace",
        "patient_phone": "+14155550123",
    },
)
_RESCHEDULE_EXAMPLE = Example(summary="Move to another slot", value={"slot_id": SLOT_ID_EXAMPLE})
_CLOSED = {"additional_properties": False}
"""The bodies forbid unknown fields (msgspec `forbid_unknown_fields`); Litestar does not say so."""
_WINDOW = "ISO 8601 date-time or date; without an offset it is read in the practice's time zone."
_DOMAIN_FIELDS = {"phone": "patient_phone", "slot_id": "slot_id", "patient_name": "patient_name"}
"""Domain field names as this API's booking body spells them."""


class AppointmentsController(Controller):
    path = "/appointments"
    tags = ["appointments"]

    @post(
        "/",
        status_code=201,
        operation_id=BOOK_APPOINTMENT,
        operation_class=with_links(201, BOOKED_LINKS),
        summary="Book a slot",
        description=(
            "With an `Idempotency-Key`, a repeat of the same request returns the first "
            "booking (201, `Idempotent-Replayed: true`); the same key with a different "
            "body is a 409 `idempotency_conflict`. Keys are scoped per API key."
        ),
        response_headers=[
            ResponseHeader(
                name="Location", description="URL of the appointment", documentation_only=True
            ),
            ResponseHeader(
                name="Idempotent-Replayed",
                description="`true` when this is a replay of an earlier booking",
                required=False,
                documentation_only=True,
            ),
        ],
        responses={**UNAUTHORIZED, **CONFLICT, **UNPROCESSABLE, **UNAVAILABLE},
    )
    async def book(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[BookAppointmentBody, Body(examples=[_BOOK_EXAMPLE], schema_extra=_CLOSED)],
        book_appointment: NamedDependency[BookAppointmentHandler],
        practice: NamedDependency[Practice],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", min_length=1, max_length=200)
        ] = None,
    ) -> Response[AppointmentOut]:
        command = BookAppointment(
            slot_id=data.slot_id,
            service_id=data.service,
            patient_name=data.patient_name,
            patient_phone=data.patient_phone,
            channel=Channel.API,
            idempotency=(
                Idempotency(scope=request.state[SCOPE_STATE_KEY], key=idempotency_key)
                if idempotency_key is not None
                else None
            ),
        )
        try:
            booked = await book_appointment(command)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=_DOMAIN_FIELDS.get(exc.field, exc.field)) from exc
        appointment = booked.appointment
        headers = {"Location": f"/api/v1/appointments/{appointment.id}"}
        if booked.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(
            AppointmentOut.of(appointment, practice.time_zone), status_code=201, headers=headers
        )

    @get(
        "/",
        operation_id=LIST_APPOINTMENTS,
        operation_class=with_links(200, LISTED_APPOINTMENT_LINKS),
        summary="List appointments, by start time",
        description=(
            "Filters combine with AND. An unknown provider or service is a 422; a query "
            "parameter not listed here is a 400 `unknown_query_parameter`."
        ),
        responses={**UNAUTHORIZED, **UNPROCESSABLE, **UNAVAILABLE},
    )
    async def list_appointments(
        self,
        practice: NamedDependency[Practice],
        find_appointments: NamedDependency[FindAppointmentsHandler],
        call_references: NamedDependency[CarrierReferencesHandler],
        phone: Annotated[
            str | None,
            QueryParameter(
                min_length=1, max_length=32, description="Patient phone, any common format"
            ),
        ] = None,
        status: FromQuery[AppointmentStatus | None] = None,
        provider: Annotated[
            str | None, QueryParameter(min_length=1, max_length=64, description="A provider id")
        ] = None,
        service: Annotated[
            str | None, QueryParameter(min_length=1, max_length=64, description="A service id")
        ] = None,
        starts_from: Annotated[
            str | None,
            QueryParameter(name="from", max_length=40, description=f"Start, inclusive. {_WINDOW}"),
        ] = None,
        starts_before: Annotated[
            str | None,
            QueryParameter(
                name="to",
                max_length=40,
                description=f"Start, exclusive; a date means its end. {_WINDOW}",
            ),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> AppointmentPage:
        zone = practice.time_zone
        page = await find_appointments(
            FindAppointments(
                phone=phone,
                status=status,
                provider_id=provider,
                service_id=service,
                starts_from=parse_instant(starts_from, field="from", zone=zone, end=False),
                starts_before=parse_instant(starts_before, field="to", zone=zone, end=True),
                limit=limit,
                offset=offset,
            )
        )
        return AppointmentPage(
            items=await rendered(page.items, zone, call_references),
            total=page.total,
            limit=limit,
            offset=offset,
        )

    @get(
        "/{appointment_id:uuid}",
        operation_id=GET_APPOINTMENT,
        summary="One appointment",
        description="An id that is not a UUID matches no route: 404.",
        responses={**UNAUTHORIZED, **NOT_FOUND, **UNAVAILABLE},
    )
    async def get_appointment(
        self,
        appointment_id: FromPath[UUID],
        practice: NamedDependency[Practice],
        get_appointment: NamedDependency[GetAppointmentHandler],
        call_references: NamedDependency[CarrierReferencesHandler],
    ) -> AppointmentOut:
        appointment = await get_appointment(appointment_id)
        return (await rendered([appointment], practice.time_zone, call_references))[0]

    @post(
        "/{appointment_id:uuid}/cancel",
        status_code=200,
        operation_id=CANCEL_APPOINTMENT,
        summary="Cancel a booked appointment that has not started",
        responses={**UNAUTHORIZED, **NOT_FOUND, **CONFLICT, **UNAVAILABLE},
    )
    async def cancel(
        self,
        appointment_id: FromPath[UUID],
        practice: NamedDependency[Practice],
        cancel_appointment: NamedDependency[CancelAppointmentHandler],
        call_references: NamedDependency[CarrierReferencesHandler],
    ) -> AppointmentOut:
        appointment = await cancel_appointment(
            CancelAppointment(appointment_id=appointment_id, source=EventSource.API)
        )
        return (await rendered([appointment], practice.time_zone, call_references))[0]

    @post(
        "/{appointment_id:uuid}/reschedule",
        status_code=200,
        operation_id=RESCHEDULE_APPOINTMENT,
        summary="Move a booked appointment to another slot of the same service",
        responses={**UNAUTHORIZED, **NOT_FOUND, **CONFLICT, **UNPROCESSABLE, **UNAVAILABLE},
    )
    async def reschedule(
        self,
        appointment_id: FromPath[UUID],
        data: Annotated[RescheduleBody, Body(examples=[_RESCHEDULE_EXAMPLE], schema_extra=_CLOSED)],
        practice: NamedDependency[Practice],
        reschedule_appointment: NamedDependency[RescheduleAppointmentHandler],
        call_references: NamedDependency[CarrierReferencesHandler],
    ) -> AppointmentOut:
        appointment = await reschedule_appointment(
            RescheduleAppointment(
                appointment_id=appointment_id, slot_id=data.slot_id, source=EventSource.API
            )
        )
        return (await rendered([appointment], practice.time_zone, call_references))[0]


async def rendered(
    appointments: Sequence[Appointment], zone: ZoneInfo, call_references: CarrierReferencesHandler
) -> list[AppointmentOut]:
    """The appointments as the API shows them, each with its call's carrier reference
    (the deprecated `call_sid`) looked up in one query."""
    ids = {a.call_id for a in appointments if a.call_id is not None}
    references = await call_references(ids)
    return [
        AppointmentOut.of(
            a, zone, call_sid=references.get(a.call_id) if a.call_id is not None else None
        )
        for a in appointments
    ]
