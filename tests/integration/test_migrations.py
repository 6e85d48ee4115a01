"""Migrations: the stairway (up, down, up again) and agreement with the adapter's tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from adapters.sql import Database
from adapters.sql.alembic_setup import alembic_config
from adapters.sql.migrate import run_alembic
from adapters.sql.tables import metadata


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
