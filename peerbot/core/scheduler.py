"""The one task that delivers event announcements, reminders and "starting now" posts on time.

RoboDanny's reminder pattern, hardened: every delivery is a database row; one task sleeps until the
soonest row is due and wakes early when the schedule changes (no polling, no task per event). A row
is marked in flight before sending and sent only after the front-end confirms; a failed send is retried
with exponential backoff; a crash between Discord's confirmation and the database write is caught by
looking for the job's marker in the channel before sending again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from peerbot.core.clock import Clock, utc_now
from peerbot.core.events import EventStore, Job, JobKind, JobState

log = logging.getLogger(__name__)

BACKOFF_BASE = 1.0  # seconds before the first retry; doubled at each attempt
BACKOFF_MAX = 300.0


class TransientDeliveryError(RuntimeError):
    """Worth retrying: rate limited, a 5xx from Discord, a network failure."""


class PermanentDeliveryError(RuntimeError):
    """Retrying cannot help: the channel is gone, the bot may not post there, the member blocks DMs."""


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """What the front-end confirms: where the message went (None in the terminal)."""

    message_id: int | None = None
    channel_id: int | None = None


class Sender(Protocol):
    """A front-end that posts jobs: the Discord cog, or the terminal chat."""

    async def deliver(self, job: Job) -> DeliveryReceipt:
        """Post the job's message, with ``job.marker`` in it; raise the delivery errors above."""
        ...

    async def find_delivered(self, job: Job) -> DeliveryReceipt | None:
        """The message of an earlier attempt, if it reached the channel (looked up by marker)."""
        ...


Sleep = Callable[[float], Awaitable[None]]


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: 1, 2, 4, ... up to 5 minutes."""
    return min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1))


class AnnouncementScheduler:
    """Delivers the event store's jobs through a :class:`Sender`, exactly once, while it runs."""

    def __init__(
        self,
        store: EventStore,
        sender: Sender,
        *,
        grace: timedelta | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        only_guild: int | None = None,
        except_guild: int | None = None,
    ) -> None:
        self._store = store
        self._sender = sender
        self.grace = grace if grace is not None else store.settings.grace
        self._clock = clock
        self._sleep = sleep
        self._only_guild = only_guild
        self._except_guild = except_guild
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()  # set while nothing is due (tests wait on it)

    def wake(self) -> None:
        """The schedule changed: look again for the soonest job."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._store.subscribe(self.wake)
            self._task = asyncio.create_task(self._run(), name="peerbot-event-scheduler")

    async def stop(self) -> None:
        self._store.unsubscribe(self.wake)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        log.info("Event scheduler started (grace %s)", self.grace)
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database hiccuped: never let the one scheduler task die
                log.exception("Event scheduler step failed; trying again in 5 s")
                await self._wait(5.0)

    async def run_once(self) -> None:
        """Handle the soonest job if it is due, else sleep until it is (or until woken)."""
        self._wake.clear()  # cleared before reading, so a change made meanwhile is not lost
        job = await self._store.next_job(only_guild=self._only_guild, except_guild=self._except_guild)
        if job is None:
            self.idle.set()
            await self._wake.wait()
            return
        delay = (job.next_attempt_at - self._clock()).total_seconds()
        if delay > 0:
            self.idle.set()
            await self._wait(delay)
            return
        self.idle.clear()
        await self.handle(job)

    async def _wait(self, seconds: float) -> None:
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (sleeper, waker):
                waiting.cancel()

    def _too_late(self, job: Job, now: datetime) -> str | None:
        """Why sending now would be wrong, or None."""
        if now - job.due_at > self.grace:
            return f"due {job.due_at:%Y-%m-%d %H:%M:%S} UTC, more than {self.grace} ago"
        if job.kind in (JobKind.REMINDER, JobKind.REMINDER_DM) and now >= job.occurrence.start:
            return "the occurrence has already started"
        if job.kind in (JobKind.ANNOUNCE, JobKind.STARTING) and now >= job.occurrence.end:
            return "the occurrence is already over"
        return None

    async def handle(self, job: Job) -> None:
        """One job, now: check an earlier attempt, send, and record the outcome."""
        now = self._clock()
        if job.attempts > 0 or job.state is JobState.IN_FLIGHT:
            try:
                found = await self._sender.find_delivered(job)
            except TransientDeliveryError as exc:
                await self._retry(job, f"checking an earlier attempt: {exc}", now)
                return
            except PermanentDeliveryError as exc:
                found = None
                log.info("Job %s: cannot check an earlier attempt (%s)", job.id, exc)
            if found is not None:
                log.info(
                    "Job %s (%s) was already delivered before a restart; not sending again",
                    job.id,
                    job.marker,
                )
                await self._store.mark_sent(job, found.message_id, found.channel_id, self._clock())
                return
        reason = self._too_late(job, now)
        if reason is not None:
            log.warning("Missed %s: %s", job.marker, reason)
            await self._store.mark_final(job, JobState.MISSED, reason, now)
            return
        job = await self._store.mark_in_flight(job, now)
        try:
            receipt = await self._sender.deliver(job)
        except TransientDeliveryError as exc:
            await self._retry(job, str(exc), self._clock())
            return
        except PermanentDeliveryError as exc:
            log.error("Could not deliver %s: %s", job.marker, exc)
            await self._store.mark_final(job, JobState.FAILED, str(exc), self._clock())
            return
        except Exception as exc:  # a bug in the front-end: recorded, not retried forever
            log.exception("Delivering %s failed", job.marker)
            await self._store.mark_final(job, JobState.FAILED, f"{type(exc).__name__}: {exc}", self._clock())
            return
        await self._store.mark_sent(job, receipt.message_id, receipt.channel_id, self._clock())
        log.info("Delivered %s", job.marker)

    async def _retry(self, job: Job, error: str, now: datetime) -> None:
        delay = backoff(max(1, job.attempts))
        log.warning("Delivering %s failed (%s); retrying in %.0f s", job.marker, error, delay)
        await self._store.mark_retry(job, error, now + timedelta(seconds=delay), now)
