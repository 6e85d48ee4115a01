"""OpenAPI links of API v1: which response feeds which next request.

Integrators read them in /schema ("book, then cancel with the returned id"); schemathesis'
stateful tests follow them to chain calls. Litestar has no route argument for links, so a
handler declares them through `operation_class=with_links(...)`, which adds them to the
handler's generated response when the schema is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import Link, OpenAPIResponse, Operation

GET_PRACTICE = "getPractice"
LIST_SLOTS = "listSlots"
BOOK_APPOINTMENT = "bookAppointment"
LIST_APPOINTMENTS = "listAppointments"
GET_APPOINTMENT = "getAppointment"
CANCEL_APPOINTMENT = "cancelAppointment"
RESCHEDULE_APPOINTMENT = "rescheduleAppointment"
LIST_CALLS = "listCalls"
GET_CALL = "getCall"


def with_links(status_code: int, links: dict[str, Link]) -> type[Operation]:
    """An Operation class whose `status_code` response carries `links`.

    Fails when the schema is built if the handler documents no such response, so a
    renamed status code cannot silently drop the links.
    """

    @dataclass
    class LinkedOperation(Operation):
        def __post_init__(self) -> None:
            response = (self.responses or {}).get(str(status_code))
            if not isinstance(response, OpenAPIResponse):
                raise ValueError(f"{self.operation_id} has no {status_code} response to link from")
            response.links = {**(response.links or {}), **links}

    return LinkedOperation


def _on_appointment(operation_id: str, id_expression: str, description: str) -> Link:
    return Link(
        operation_id=operation_id,
        parameters={"appointment_id": id_expression},
        description=description,
    )


THIS_ID = "$response.body#/id"

PRACTICE_LINKS = {
    "ListSlots": Link(
        operation_id=LIST_SLOTS,
        parameters={"service": "$response.body#/services/0/id"},
        description="Open slots for one of the practice's services.",
    )
}
SLOT_LINKS = {
    "BookAppointment": Link(
        operation_id=BOOK_APPOINTMENT,
        request_body={
            "slot_id": "$response.body#/items/0/id",
            "service": "$response.body#/items/0/service_id",
        },
        description="Book the earliest slot listed, for its service; add the patient.",
    )
}
BOOKED_LINKS = {
    "GetAppointment": _on_appointment(GET_APPOINTMENT, THIS_ID, "Read it back."),
    "CancelAppointment": _on_appointment(CANCEL_APPOINTMENT, THIS_ID, "Cancel it."),
    "RescheduleAppointment": _on_appointment(
        RESCHEDULE_APPOINTMENT, THIS_ID, "Move it to another slot of its service."
    ),
}
FIRST_LISTED = "$response.body#/items/0/id"
LISTED_APPOINTMENT_LINKS = {
    "GetAppointment": _on_appointment(GET_APPOINTMENT, FIRST_LISTED, "Read the first one listed."),
    "CancelAppointment": _on_appointment(
        CANCEL_APPOINTMENT, FIRST_LISTED, "Cancel the first one listed, e.g. a caller's next visit."
    ),
    "RescheduleAppointment": _on_appointment(
        RESCHEDULE_APPOINTMENT, FIRST_LISTED, "Move the first one listed."
    ),
}
CALL_LINKS = {
    "GetCall": Link(
        operation_id=GET_CALL,
        parameters={"call_ref": "$response.body#/items/0/id"},
        description="The first call listed, with its transcript.",
    )
}
