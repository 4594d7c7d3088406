"""The aiosqlite connection: WAL, foreign keys, and migrations at start.

A file that cannot be opened as a PeerBot database (corrupt, damaged inside, a newer schema,
read-only, a directory) stops the bot with :class:`DatabaseError`; it is never overwritten or
recreated. An existing file is first opened read-only, its schema version and integrity checked
(``PRAGMA quick_check``), and only then opened for writing: a file PeerBot refuses is left byte for
byte as it was, not even switched to WAL.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import aiosqlite

from peerbot.core.storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is one line for the operator."""


# What a member is told when the database fails inside a command (damaged page, locked, disk error),
# the same in Discord and the terminal: never silence, and never the generic "something went wrong".
DATABASE_TROUBLE = (
    "Sorry, the database could not be read, so I couldn't do that. Please try again later; if it "
    "keeps happening, tell the person who runs PeerBot (the details are in its log)."
)


def _newer(path: Path, version: int, known: int) -> DatabaseError:
    return DatabaseError(
        f"the database {path} has schema version {version}, newer than this PeerBot "
        f"({known}); upgrade PeerBot instead of downgrading the data"
    )


def check_existing(path: Path, known_version: int) -> None:
    """Refuse a file PeerBot cannot use, reading it only: a newer schema, or damage anywhere in it.

    Damage inside a page is otherwise found only when that page is read, deep inside some command.
    """
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as connection:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            if version > known_version:
                raise _newer(path, version, known_version)
            problems = [str(row[0]) for row in connection.execute("PRAGMA quick_check(1)")]
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot use the database {path}: {exc}") from exc
    if problems != ["ok"]:
        detail = " ".join(problems[0].replace("*** in database main ***", "").split()) if problems else "?"
        raise DatabaseError(
            f"the database {path} is damaged ({detail}); restore it from a backup, "
            "or move it away to start with a fresh one"
        )


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
        if path.is_file():  # noqa: ASYNC240 - once, at start
            if path.stat().st_size == 0:  # noqa: ASYNC240
                # SQLite treats it as a new database; say so, in case a backup was meant to be there.
                log.warning("The database file %s is empty (0 bytes): starting a fresh database in it", path)
            else:
                await asyncio.to_thread(check_existing, path, len(migrations))
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
        if version > len(migrations):  # checked read-only at open; repeated in case it changed since
            raise _newer(self.path, version, len(migrations))
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
