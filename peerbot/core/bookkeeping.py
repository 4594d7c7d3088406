"""Bookkeeping written after the reply: small inserts queued and written together, one transaction each.

Answering must not wait for the database. Under a burst of /ask, one commit per answer served (and
per question logged as unanswered) before each reply kept members waiting past Discord's 3-second
window, and a database busy with another writer held every answer for SQLite's busy timeout. Rows
queued here are written by one background task, a batch per transaction, shortly after the replies
went out. Readers call :meth:`BackgroundWriter.flush` first, so they see every row queued before them.
:meth:`BackgroundWriter.close` writes what is left: a clean stop loses nothing; a crash loses at most
the rows of the last ``linger`` seconds (counts for editors, never member data).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from peerbot.core.storage import Database

log = logging.getLogger(__name__)

LINGER = 0.05  # seconds a row waits for others before its batch is written
MAX_BATCH = 500  # rows per transaction
MAX_PENDING = 100_000  # a safety valve if the database stays unwritable for a long time
RETRIES = 5  # a batch the database refused (locked, busy disk) is tried again this many times
RETRY_DELAY = 0.5  # seconds before the first retry, doubled each time

Row = tuple[str, tuple[Any, ...]]
Sleep = Callable[[float], Awaitable[None]]


class BackgroundWriter:
    """Queues ``INSERT`` statements and writes them in batches from one background task."""

    def __init__(
        self,
        database: Database,
        *,
        linger: float = LINGER,
        max_batch: int = MAX_BATCH,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._database = database
        self._linger = linger
        self._max_batch = max(1, max_batch)
        self._sleep = sleep
        self._pending: list[Row] = []
        self._lock = asyncio.Lock()  # one batch at a time, in order
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # transactions written (tests and the benchmark read it)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, sql: str, parameters: Sequence[Any]) -> None:
        """Queue one row; returns at once (the write happens after ``linger``, in the background)."""
        if len(self._pending) >= MAX_PENDING:
            log.error("Bookkeeping queue full (%d rows; is the database writable?): dropped", MAX_PENDING)
            return
        self._pending.append((sql, tuple(parameters)))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="peerbot-bookkeeping")

    async def _drain(self) -> None:
        await self._sleep(self._linger)
        # Shielded: a close() arriving mid-write lets the batch commit instead of rolling it back.
        await asyncio.shield(self.flush())

    async def flush(self) -> None:
        """Write every row queued so far (readers call this first, to see their own writes)."""
        async with self._lock:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._write(batch)

    async def _write(self, batch: list[Row]) -> None:
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        for sql, parameters in batch:
            grouped.setdefault(sql, []).append(parameters)
        delay = RETRY_DELAY
        for attempt in range(1, RETRIES + 1):
            try:
                async with self._database.transaction() as connection:
                    for sql, rows in grouped.items():
                        await connection.executemany(sql, rows)
            except sqlite3.Error as exc:
                if attempt == RETRIES:
                    log.error("Dropped %d bookkeeping rows after %d attempts: %s", len(batch), attempt, exc)
                    return
                log.warning("Writing %d bookkeeping rows failed (%s); again in %.1fs", len(batch), exc, delay)
                await self._sleep(delay)
                delay *= 2
            else:
                self.batches += 1
                return

    async def close(self) -> None:
        """Write what is queued; call before closing the database."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()  # only its linger is cut short: a write under way is shielded
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()
