"""The controller's Postgres adapter (the only place asyncpg is imported)."""

from deis_controller.db.migrate import migrate
from deis_controller.db.pool import Database, DatabaseError, Tx, UniqueViolation

__all__ = ["Database", "DatabaseError", "Tx", "UniqueViolation", "migrate"]
