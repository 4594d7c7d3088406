"""SQLite storage: one database file, versioned schema."""

from peerbot.core.storage.database import Database, DatabaseError

__all__ = ["Database", "DatabaseError"]
