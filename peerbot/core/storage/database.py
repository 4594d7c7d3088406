"""The aiosqlite connection: WAL, foreign keys, and migrations at start.

A file that cannot be opened as a PeerBot database (corrupt, read-only, a directory) stops the bot
with :class:`DatabaseError`; it is never overwritten or recreated.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from peerbot.core.storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is one line for the operator."""


class Database:
    """One SQLite file shared by every feature; use :meth:`open` to get one."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self.path = path
        # One connection is shared by all coroutines: transactions take turns instead of interleaving.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, migrations: tuple[str, ...] = MIGRATIONS) -> Database:
        """Open (creating if absent) and migrate the database at ``path``."""
        if path.exists() and not path.is_file():  # noqa: ASYNC240 - once, at start
            raise DatabaseError(f"cannot open the database: {path} is not a file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the data directory {path.parent}: {exc.strerror}") from exc
        try:
            connection = await aiosqlite.connect(path)
            connection.row_factory = sqlite3.Row
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(f"cannot open the database {path}: {exc}") from exc
        database = cls(connection, path)
        try:
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA busy_timeout = 5000")
            await database._migrate(migrations)
        except sqlite3.Error as exc:
            await connection.close()
            raise DatabaseError(f"cannot use the database {path}: {exc}") from exc
        except BaseException:
            await connection.close()
            raise
        return database

    async def _migrate(self, migrations: tuple[str, ...]) -> None:
        async with self._connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > len(migrations):
            raise DatabaseError(
                f"the database {self.path} has schema version {version}, newer than this PeerBot "
                f"({len(migrations)}); upgrade PeerBot instead of downgrading the data"
            )
        for number, script in enumerate(migrations[version:], start=version + 1):
            log.info("Migrating %s to schema version %d", self.path, number)
            # One transaction per migration, so a failure leaves the previous version intact.
            await self._connection.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def close(self) -> None:
        await self._connection.close()

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> int:
        """Run one statement in its own transaction; returns the last row id."""
        async with self.transaction() as connection:
            cursor = await connection.execute(sql, tuple(parameters))
            return cursor.lastrowid or 0

    async def fetch_all(self, sql: str, parameters: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._connection.execute(sql, tuple(parameters)) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, parameters: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self._connection.execute(sql, tuple(parameters)) as cursor:
            return await cursor.fetchone()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Commit on success, roll back on any error: a failed write changes nothing."""
        async with self._lock:
            try:
                yield self._connection
            except BaseException:
                await self._connection.rollback()
                raise
            else:
                await self._connection.commit()

    async def schema_version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row[0]) if row else 0
