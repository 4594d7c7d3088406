"""The one task that delivers event announcements, reminders and "starting now" posts on time.

RoboDanny's reminder pattern, hardened: every delivery is a database row; one task sleeps until the
soonest row is due and wakes early when the schedule changes (no polling, no task per event). A row
is marked in flight before sending and sent only after the front-end confirms; a failed send is retried
with exponential backoff; a crash between Discord's confirmation and the database write is caught by
looking for the job's marker in the channel before sending again.

The one dispatching task hands each due job to a worker for its destination (a channel, or a member's
DMs), at most ``concurrency`` at once: discord.py retries a 5xx for about 25 s, and a channel doing
that must not make the reminders of every other channel late. One destination gets one job at a time,
in order; a destination that fails is backed off on its own while the others go on.
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
from peerbot.core.events import Destination, EventStore, Job, JobKind, JobState

log = logging.getLogger(__name__)

BACKOFF_BASE = 1.0  # seconds before the first retry; doubled at each attempt
BACKOFF_MAX = 300.0
CONCURRENCY = 8  # destinations delivered to at once; discord.py queues per route beyond Discord's limits


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


class FinishesRecovered(Protocol):
    """Optional for a :class:`Sender`: what ``deliver`` does after posting (a Discord scheduled event
    for an announcement), done for a delivery found by its marker after a crash."""

    async def finish_recovered(self, job: Job, receipt: DeliveryReceipt) -> None: ...


Sleep = Callable[[float], Awaitable[None]]


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: 1, 2, 4, ... up to 5 minutes."""
    return min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1))


@dataclass(slots=True)
class _Backoff:
    """A destination's consecutive failures, and when it may be tried again."""

    failures: int
    until: datetime


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
        concurrency: int = CONCURRENCY,
    ) -> None:
        self._store = store
        self._sender = sender
        self.grace = grace if grace is not None else store.settings.grace
        self._clock = clock
        self._sleep = sleep
        self._only_guild = only_guild
        self._except_guild = except_guild
        self.concurrency = max(1, concurrency)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy: set[Destination] = set()  # destinations with a delivery under way
        self._backoff: dict[Destination, _Backoff] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self.idle = asyncio.Event()  # set while nothing is due (tests wait on it)

    def wake(self) -> None:
        """The schedule changed: look again for the soonest job."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._store.subscribe(self.wake)
            self._task = asyncio.create_task(self._run(), name="peerbot-event-scheduler")

    async def stop(self) -> None:
        """Stop dispatching and cancel deliveries under way (left in flight: checked at the next start)."""
        self._store.unsubscribe(self.wake)
        task, self._task = self._task, None
        tasks = [*([task] if task is not None else []), *self._workers]
        for waiting in tasks:
            waiting.cancel()
        for waiting in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await waiting

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def delivering(self) -> int:
        """Deliveries under way (a test's fake clock lets them finish before it moves time on)."""
        return len(self._workers)

    async def _run(self) -> None:
        log.info("Event scheduler started (grace %s, %d channels at once)", self.grace, self.concurrency)
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database hiccuped: never let the one scheduler task die
                log.exception("Event scheduler step failed; trying again in 5 s")
                await self._wait(5.0)

    async def run_once(self) -> None:
        """One step, for tests: hand every due job to its destination's worker and wait for those
        deliveries; with nothing due, sleep until something is (or until woken)."""
        launched = await self._step(wait_for_workers=True)
        if launched:
            await asyncio.gather(*launched)

    async def _step(self, *, wait_for_workers: bool = False) -> list[asyncio.Task[None]]:
        self._wake.clear()  # cleared before reading, so a change made meanwhile is not lost
        launched, wake_at = await self._dispatch()
        if launched:
            if wait_for_workers:
                return launched
        elif not self._workers:
            self.idle.set()
        if wake_at is None:
            await self._wake.wait()  # a change to the schedule, or a worker done
        else:
            await self._wait((wake_at - self._clock()).total_seconds())
        return launched

    async def _dispatch(self) -> tuple[list[asyncio.Task[None]], datetime | None]:
        """Start a worker for every due job whose destination is free; return them, and when to look
        again (None: when woken, by a change or a worker finishing)."""
        launched: list[asyncio.Task[None]] = []
        while len(self._busy) < self.concurrency:
            now = self._clock()
            waiting = {dest: b.until for dest, b in self._backoff.items() if b.until > now}
            job = await self._store.next_job(
                only_guild=self._only_guild,
                except_guild=self._except_guild,
                skip=self._busy | waiting.keys(),
            )
            backed_off = min(waiting.values(), default=None)
            if job is None:
                return launched, backed_off
            if job.next_attempt_at > now:
                soonest = job.next_attempt_at
                return launched, min(soonest, backed_off) if backed_off is not None else soonest
            launched.append(self._launch(job))
        return launched, None

    def _launch(self, job: Job) -> asyncio.Task[None]:
        destination = job.destination
        self._busy.add(destination)  # before the task runs, so the next lookup skips it
        self.idle.clear()  # now, not after the dispatch loop: the worker may finish before it ends
        task = asyncio.create_task(self._work(job, destination), name=f"peerbot-delivery-{job.id}")
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)
        return task

    async def _work(self, job: Job, destination: Destination) -> None:
        try:
            delivered = await self.handle(job)
        except Exception:  # the database failed mid-delivery: the row is still active, tried later
            log.exception("Handling %s failed", job.marker)
            delivered = False
        finally:
            self._busy.discard(destination)
            # Before waking the dispatcher, not in the done-callback (which runs a loop turn later):
            # otherwise its next step still counts this worker and never marks the scheduler idle.
            self._workers.discard(asyncio.current_task())  # type: ignore[arg-type]
            self.wake()
        if delivered:
            self._backoff.pop(destination, None)
            return
        failures = self._backoff[destination].failures + 1 if destination in self._backoff else 1
        self._backoff[destination] = _Backoff(failures, self._clock() + timedelta(seconds=backoff(failures)))

    async def _wait(self, seconds: float) -> None:
        if self._wake.is_set():  # a worker finished or the schedule changed meanwhile: look again now
            return
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

    async def handle(self, job: Job) -> bool:
        """One job, now: check an earlier attempt, send, and record the outcome.

        False when the destination failed in a way worth retrying (it is then backed off).
        """
        now = self._clock()
        if job.attempts > 0 or job.state is JobState.IN_FLIGHT:
            try:
                found = await self._sender.find_delivered(job)
            except TransientDeliveryError as exc:
                await self._retry(job, f"checking an earlier attempt: {exc}", now)
                return False
            except PermanentDeliveryError as exc:
                found = None
                log.info("Job %s: cannot check an earlier attempt (%s)", job.id, exc)
            if found is not None:
                log.info(
                    "Job %s (%s) was already delivered before a restart; not sending again",
                    job.id,
                    job.marker,
                )
                await self._finish_recovered(job, found)
                await self._store.mark_sent(job, found.message_id, found.channel_id, self._clock())
                return True
        reason = self._too_late(job, now)
        if reason is not None:
            log.warning("Missed %s: %s", job.marker, reason)
            await self._store.mark_final(job, JobState.MISSED, reason, now)
            return True
        job = await self._store.mark_in_flight(job, now)
        try:
            receipt = await self._sender.deliver(job)
        except TransientDeliveryError as exc:
            await self._retry(job, str(exc), self._clock())
            return False
        except PermanentDeliveryError as exc:
            log.error("Could not deliver %s: %s", job.marker, exc)
            await self._store.mark_final(job, JobState.FAILED, str(exc), self._clock())
            return True
        except Exception as exc:  # a bug in the front-end: recorded, not retried forever
            log.exception("Delivering %s failed", job.marker)
            await self._store.mark_final(job, JobState.FAILED, f"{type(exc).__name__}: {exc}", self._clock())
            return True
        await self._store.mark_sent(job, receipt.message_id, receipt.channel_id, self._clock())
        log.info("Delivered %s", job.marker)
        return True

    async def _finish_recovered(self, job: Job, receipt: DeliveryReceipt) -> None:
        """Before it is marked sent, as ``deliver`` does: a crash here repeats it, never skips it."""
        finish = getattr(self._sender, "finish_recovered", None)
        if finish is None:
            return
        try:
            await finish(job, receipt)
        except Exception:  # best effort, like the same steps after a normal delivery
            log.exception("Finishing the recovered %s failed", job.marker)

    async def _retry(self, job: Job, error: str, now: datetime) -> None:
        delay = backoff(max(1, job.attempts))
        log.warning("Delivering %s failed (%s); retrying in %.0f s", job.marker, error, delay)
        await self._store.mark_retry(job, error, now + timedelta(seconds=delay), now)
