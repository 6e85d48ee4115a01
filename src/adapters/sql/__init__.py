"""SQL storage (SQLAlchemy async): Postgres through asyncpg, or an embedded SQLite file."""

from adapters.sql.database import Database, SchemaStatus
from adapters.sql.diagnosis import describe_database_failure
from adapters.sql.migrate import schema_status_at, upgrade_to_head, upgrade_to_head_async
from adapters.sql.unit_of_work import SqlAlchemyUnitOfWork

__all__ = [
    "Database",
    "SchemaStatus",
    "SqlAlchemyUnitOfWork",
    "describe_database_failure",
    "schema_status_at",
    "upgrade_to_head",
    "upgrade_to_head_async",
]
