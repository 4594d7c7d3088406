"""SQLite storage: one database file, versioned schema."""

from peerbot.core.storage.database import DATABASE_TROUBLE, Database, DatabaseError

__all__ = ["DATABASE_TROUBLE", "Database", "DatabaseError"]
