"""Persistence plumbing: engine and sessions, the declarative Base, Alembic migrations."""

from telbill.db.base import Base, MoneyAmount, UTCDateTime, id_column
from telbill.db.engine import create_db_engine, make_sessionmaker, session_scope
from telbill.db.migrate import upgrade

__all__ = [
    "Base",
    "MoneyAmount",
    "UTCDateTime",
    "create_db_engine",
    "id_column",
    "make_sessionmaker",
    "session_scope",
    "upgrade",
]
