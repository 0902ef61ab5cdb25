"""Parse results kept in SQLite (default) or PostgreSQL; schema by Alembic migrations."""

from .store import DEFAULT_URL, Store, StoreLedger

__all__ = ["DEFAULT_URL", "Store", "StoreLedger"]
