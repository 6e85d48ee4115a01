"""SQL storage (SQLAlchemy async): Postgres through asyncpg, or an embedded SQLite file."""

from adapters.sql.database import Database
from adapters.sql.migrate import upgrade_to_head, upgrade_to_head_async
from adapters.sql.unit_of_work import SqlAlchemyUnitOfWork

__all__ = ["Database", "SqlAlchemyUnitOfWork", "upgrade_to_head", "upgrade_to_head_async"]
