"""Migrations: the stairway (up, down, up again) and agreement with the adapter's tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from adapters.sql import Database, SqlAlchemyUnitOfWork
from adapters.sql.alembic_setup import alembic_config
from adapters.sql.migrate import run_alembic
from adapters.sql.tables import metadata
from application.ports import AppointmentQuery


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def tables(url: str) -> set[str]:
    database = Database.from_url(url)
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(_tables)
    finally:
        await database.dispose()


async def test_every_revision_upgrades_downgrades_and_upgrades_again(
    empty_database_url: str,
) -> None:
    revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions("base", "heads"))
    for revision in reversed(revisions):  # oldest first
        await run_alembic(empty_database_url, "upgrade", revision.revision)
        await run_alembic(empty_database_url, "downgrade", revision.down_revision or "base")
        await run_alembic(empty_database_url, "upgrade", revision.revision)
    assert await tables(empty_database_url) == set(metadata.tables)

    await run_alembic(empty_database_url, "downgrade", "base")
    assert await tables(empty_database_url) == set()


async def test_a_migrated_database_is_at_head(database: Database) -> None:
    assert await database.migrations_at_head()


async def test_an_empty_database_is_not_at_head(empty_database_url: str) -> None:
    database = Database.from_url(empty_database_url)
    try:
        assert not await database.migrations_at_head()
    finally:
        await database.dispose()


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_the_migrations_create_exactly_the_tables_the_adapter_declares(
    database: Database,
) -> None:
    """Autogenerate cannot see the overlap rule (an exclusion constraint or triggers)
    nor CHECK constraints; everything else must match."""
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)

    assert differences == []


async def _execute(url: str, *statements: str) -> list[list[dict[str, object]]]:
    """Run raw SQL (the schema of a past revision has no tables module) and return each
    statement's rows as dicts."""
    database = Database.from_url(url)
    results: list[list[dict[str, object]]] = []
    try:
        async with database.engine.begin() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
                results.append([dict(r._mapping) for r in result] if result.returns_rows else [])
    finally:
        await database.dispose()
    return results


async def test_calls_keep_their_turns_tools_and_bookings_across_the_neutral_call_migration(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await run_alembic(url, "upgrade", "0002_calls")
    await _execute(
        url,
        "INSERT INTO calls (sid, from_number, to_number, started_at, status, next_step, "
        "twilio_status, duration_s) VALUES "
        "('CA1', '+14155550100', '+14155550199', '2026-12-01 10:00:00', 'ended', 'hang_up', "
        "'completed', 42), "
        "('CA2', '+14155550101', '+14155550199', '2026-12-01 11:00:00', 'ringing', 'hang_up', "
        "NULL, NULL)",
        "INSERT INTO call_turns (call_sid, seq, speaker, text, at, interrupted) VALUES "
        "('CA1', 0, 'agent', 'Hello', '2026-12-01 10:00:01', false), "
        "('CA1', 1, 'caller', 'Hi', '2026-12-01 10:00:02', false)",
        "INSERT INTO call_tool_invocations (call_sid, seq, name, arguments, outcome, result, at, "
        "duration_ms) VALUES ('CA1', 0, 'book', '{}', 'ok', '{}', '2026-12-01 10:00:03', 5.0)",
        "INSERT INTO appointments (id, patient_name, patient_phone, provider_id, service_id, "
        "starts_at, ends_at, status, channel, call_sid, created_at, updated_at) VALUES "
        "('5f0c6f1e8a1b4c1e9f3a2d7e4b9c0a11', 'Ada', '+14155550100', 'dr-lee', 'checkup', "
        "'2026-12-10 14:00:00', '2026-12-10 14:30:00', 'booked', 'phone', 'CA1', "
        "'2026-12-01 10:00:03', '2026-12-01 10:00:03'), "
        "('6f0c6f1e8a1b4c1e9f3a2d7e4b9c0a12', 'Bob', '+14155550101', 'dr-lee', 'checkup', "
        "'2026-12-11 14:00:00', '2026-12-11 14:30:00', 'booked', 'api', NULL, "
        "'2026-12-01 10:00:03', '2026-12-01 10:00:03')",
    )

    await run_alembic(url, "upgrade", "head")

    database = Database.from_url(url)
    try:
        async with SqlAlchemyUnitOfWork(database) as uow:
            first = await uow.calls.get_by_carrier("twilio", "CA1")
            second = await uow.calls.get_by_carrier("twilio", "CA2")
            assert first is not None
            assert second is not None
            booked = await uow.appointments.find(AppointmentQuery(limit=10))
    finally:
        await database.dispose()
    assert first.id != second.id
    assert (first.carrier_status, first.duration_s) == ("completed", 42)
    assert [t.text for t in first.turns] == ["Hello", "Hi"]
    assert [t.name for t in first.tool_invocations] == ["book"]
    by_patient = {a.patient.name: a.call_id for a in booked.items}
    assert by_patient == {"Ada": first.id, "Bob": None}

    await run_alembic(url, "downgrade", "0002_calls")

    calls, turns, tools, bookings = await _execute(
        url,
        "SELECT sid, twilio_status FROM calls ORDER BY sid",
        "SELECT call_sid, seq FROM call_turns ORDER BY seq",
        "SELECT call_sid FROM call_tool_invocations",
        "SELECT patient_name, call_sid FROM appointments ORDER BY patient_name",
    )
    assert calls == [
        {"sid": "CA1", "twilio_status": "completed"},
        {"sid": "CA2", "twilio_status": None},
    ]
    assert turns == [{"call_sid": "CA1", "seq": 0}, {"call_sid": "CA1", "seq": 1}]
    assert tools == [{"call_sid": "CA1"}]
    assert bookings == [
        {"patient_name": "Ada", "call_sid": "CA1"},
        {"patient_name": "Bob", "call_sid": None},
    ]


async def test_the_schema_status_is_missing_behind_ok_or_ahead(empty_database_url: str) -> None:
    database = Database.from_url(empty_database_url)
    try:
        assert await database.schema_status() == "missing"
        await run_alembic(empty_database_url, "upgrade", "0001_scheduling")
        assert await database.schema_status() == "behind"
        await run_alembic(empty_database_url, "upgrade", "head")
        assert await database.schema_status() == "ok"
        async with database.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999_later'"))
        assert await database.schema_status() == "ahead"
    finally:
        await database.dispose()
