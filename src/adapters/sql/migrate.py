"""Run the alembic migrations programmatically, for the CLI and the tests."""

from __future__ import annotations

import asyncio
from functools import partial

from alembic import command
from sqlalchemy import Connection

from adapters.sql.alembic_setup import alembic_config
from adapters.sql.database import Database, SchemaStatus


def upgrade_to_head(url: str) -> None:
    """Migrate the database at `url` to the newest revision. Call it with no event loop
    running (the CLI); inside one, await `upgrade_to_head_async` instead."""
    asyncio.run(upgrade_to_head_async(url))


async def upgrade_to_head_async(url: str) -> None:
    await run_alembic(url, "upgrade", "head")


async def run_alembic(url: str, verb: str, revision: str) -> None:
    """`alembic upgrade|downgrade <revision>` on `url`, in one transaction where the
    engine allows it (Postgres and, through `BEGIN IMMEDIATE`, SQLite)."""
    operation = {"upgrade": command.upgrade, "downgrade": command.downgrade}[verb]
    database = Database.from_url(url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(partial(_run, operation, url, revision))
    finally:
        await database.dispose()


def _run(operation: object, url: str, revision: str, connection: Connection) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    assert callable(operation)
    operation(config, revision)


def schema_status_at(url: str) -> SchemaStatus:
    """Where the schema of the database at `url` stands (see `Database.schema_status`),
    over one short-lived connection; with no event loop running. Connection failures
    propagate (`describe_database_failure` words them)."""
    return asyncio.run(_schema_status_at(url))


async def _schema_status_at(url: str) -> SchemaStatus:
    database = Database.from_url(url, pool_size=1)
    try:
        return await database.schema_status()
    finally:
        await database.dispose()
