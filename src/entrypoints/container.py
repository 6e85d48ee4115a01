"""The composition root: the only module that decides which adapter serves which port."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.practice_file import load_practice
from adapters.sql import Database, SqlAlchemyUnitOfWork
from adapters.system_clock import SystemClock
from application.scheduling import (
    BookAppointmentHandler,
    CancelAppointmentHandler,
    FindAppointmentsHandler,
    FindOpenSlotsHandler,
    GetAppointmentHandler,
    RescheduleAppointmentHandler,
)
from entrypoints.settings import Settings


class Container(containers.DeclarativeContainer):
    """Singletons for what lives as long as the process, Factories for per-request work.

    Tests override `settings`, `clock` or `database` rather than patching modules.
    """

    settings = providers.Singleton(Settings)

    practice = providers.Singleton(
        load_practice,
        path=settings.provided.practice_file,
        default_region=settings.provided.default_region,
    )
    clock = providers.Singleton(SystemClock)
    database = providers.Singleton(
        Database.from_url, url=settings.provided.resolved_database_url.call()
    )
    unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, database=database)

    find_open_slots = providers.Factory(
        FindOpenSlotsHandler, practice=practice, uow=unit_of_work.provider, clock=clock
    )
    book_appointment = providers.Factory(
        BookAppointmentHandler, practice=practice, uow=unit_of_work.provider, clock=clock
    )
    find_appointments = providers.Factory(
        FindAppointmentsHandler, practice=practice, uow=unit_of_work.provider
    )
    get_appointment = providers.Factory(GetAppointmentHandler, uow=unit_of_work.provider)
    cancel_appointment = providers.Factory(
        CancelAppointmentHandler, uow=unit_of_work.provider, clock=clock
    )
    reschedule_appointment = providers.Factory(
        RescheduleAppointmentHandler, practice=practice, uow=unit_of_work.provider, clock=clock
    )
