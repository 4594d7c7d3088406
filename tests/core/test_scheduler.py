"""The event scheduler: ordering, waking, retries, the grace window and both sides of a crash."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from peerbot.core.events import Choice, EventSettings, EventStore, Job, JobKind, JobState, draft_event
from peerbot.core.scheduler import (
    AnnouncementScheduler,
    DeliveryReceipt,
    PermanentDeliveryError,
    TransientDeliveryError,
    backoff,
)
from peerbot.core.storage import Database

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """Time that moves only when the scheduler sleeps: whole schedules run in milliseconds.

    ``busy``: while it is true (deliveries still doing their work, not waiting on Discord), a sleep
    waits before moving time, as a real sleep woken by a finishing delivery would never have elapsed.
    """

    def __init__(self, now: datetime = START, busy: Callable[[], bool] | None = None) -> None:
        self.now = now
        self.busy = busy

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)  # a sleep cancelled at once (the scheduler was woken) moves no time
        while self.busy is not None and self.busy():  # noqa: ASYNC110 - polls a thread, not a task
            await asyncio.sleep(0.001)  # real time for the database thread; no fake time passes
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


class Crash(BaseException):
    """The process dies here (nothing after it runs, not even except Exception)."""


class RecordingSender:
    """A channel in memory: what was posted, with markers, like Discord's history."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock
        self.posted: list[tuple[str, str, datetime | None]] = []  # (kind label, marker, when)
        self.failures: list[BaseException] = []
        self.crash_after_send = False
        self.finds = 0

    async def deliver(self, job: Job) -> DeliveryReceipt:
        if self.failures:
            raise self.failures.pop(0)
        self.posted.append((job.label, job.marker, self.clock() if self.clock else None))
        if self.crash_after_send:
            self.crash_after_send = False
            raise Crash
        return DeliveryReceipt(message_id=len(self.posted), channel_id=7)

    async def find_delivered(self, job: Job) -> DeliveryReceipt | None:
        self.finds += 1
        for number, (_, marker, _) in enumerate(self.posted, start=1):
            if marker == job.marker:
                return DeliveryReceipt(message_id=number, channel_id=7)
        return None


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    opened = await Database.open(tmp_path / "scheduler.sqlite3")
    yield opened
    await opened.close()


@pytest.fixture
def store(database: Database) -> EventStore:
    return EventStore(database, EventSettings(reminders=(timedelta(hours=1),), grace=timedelta(hours=6)))


async def create(
    store: EventStore, start: str = "2026-03-01 15:00", now: datetime = START, channel: int = 7, **extra
):
    draft = draft_event(
        title="Impact lab", theme="Impact measurement and the SDGs", start=start, timezone="UTC",
        default_timezone="UTC", now=now, **extra,
    )  # fmt: skip
    return await store.create(draft, guild_id=5, channel_id=channel, created_by=1, now=now)


async def drain(scheduler: AnnouncementScheduler, store: EventStore, steps: int = 50) -> None:
    """Run the scheduler step by step (fake time) until nothing is left to do."""
    for _ in range(steps):
        if await store.next_job() is None:
            return
        await scheduler.run_once()
    raise AssertionError("the scheduler did not finish")


async def test_jobs_fire_in_order_at_their_time(store: EventStore) -> None:
    clock = FakeClock()
    sender = RecordingSender(clock)
    scheduler = AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep)
    later = await create(store, "2026-03-01 18:00")
    sooner = await create(store, "2026-03-01 15:00")
    await drain(scheduler, store)
    assert [(label, marker.split(" ·")[0], when) for label, marker, when in sender.posted] == [
        ("announcement", f"event {later.id}", START),
        ("announcement", f"event {sooner.id}", START),
        ("reminder 1h", f"event {sooner.id}", datetime(2026, 3, 1, 14, 0, tzinfo=UTC)),
        ("starting now", f"event {sooner.id}", datetime(2026, 3, 1, 15, 0, tzinfo=UTC)),
        ("reminder 1h", f"event {later.id}", datetime(2026, 3, 1, 17, 0, tzinfo=UTC)),
        ("starting now", f"event {later.id}", datetime(2026, 3, 1, 18, 0, tzinfo=UTC)),
    ]
    assert all(j.state is JobState.SENT for j in await store.jobs(later.id))


async def test_reminder_fans_out_dms_to_members_going(store: EventStore) -> None:
    clock = FakeClock()
    sender = RecordingSender(clock)
    scheduler = AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep)
    event = await create(store)
    await store.rsvp(event.id, None, 10, Choice.GOING, now=START)
    await store.rsvp(event.id, None, 11, Choice.INTERESTED, now=START)
    await drain(scheduler, store)
    dms = [j for j in await store.jobs(event.id) if j.kind is JobKind.REMINDER_DM]
    assert [(j.member_id, j.state) for j in dms] == [(10, JobState.SENT)]
    assert [label for label, _, _ in sender.posted].count("reminder 1h dm") == 1


async def test_transient_errors_are_retried_with_backoff_and_delivered_once(store: EventStore) -> None:
    clock = FakeClock()
    sender = RecordingSender(clock)
    sender.failures = [TransientDeliveryError("429 Too Many Requests"), TransientDeliveryError("502")]
    scheduler = AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep)
    event = await create(store)
    await drain(scheduler, store)
    announce = next(j for j in await store.jobs(event.id) if j.kind is JobKind.ANNOUNCE)
    assert announce.state is JobState.SENT and announce.attempts == 3
    assert sender.posted[0][2] == START + timedelta(seconds=backoff(1) + backoff(2))
    assert [label for label, _, _ in sender.posted].count("announcement") == 1
    assert [backoff(n) for n in (1, 2, 3, 20)] == [1.0, 2.0, 4.0, 300.0]


async def test_permanent_error_marks_failed_and_logs(store: EventStore, caplog) -> None:
    clock = FakeClock()
    sender = RecordingSender(clock)
    sender.failures = [PermanentDeliveryError("channel 7 is gone")]
    scheduler = AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep)
    event = await create(store)
    with caplog.at_level(logging.ERROR):
        await scheduler.run_once()
    announce = next(j for j in await store.jobs(event.id) if j.kind is JobKind.ANNOUNCE)
    assert announce.state is JobState.FAILED and announce.last_error == "channel 7 is gone"
    assert "channel 7 is gone" in caplog.text


async def test_downtime_within_grace_is_sent_beyond_is_missed(store: EventStore, caplog) -> None:
    # Created at noon; the bot was down until 20:00 (event at 15:00, reminder at 14:00, grace 6 h).
    event = await create(store, "2026-03-01 15:00")
    clock = FakeClock(datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    sender = RecordingSender(clock)
    scheduler = AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep)
    with caplog.at_level(logging.WARNING):
        await drain(scheduler, store)
    states = {j.kind: j.state for j in await store.jobs(event.id)}
    # The announcement is over (the one-hour event ended at 16:00); the reminder came after the start.
    assert states == dict.fromkeys((JobKind.ANNOUNCE, JobKind.REMINDER, JobKind.STARTING), JobState.MISSED)
    assert sender.posted == [] and "Missed event" in caplog.text

    longer = await create(
        store, "2026-03-02 15:00", now=datetime(2026, 3, 1, 20, 0, tzinfo=UTC), duration=600
    )
    clock.now = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # down over the start; within the grace window
    await drain(scheduler, store)
    states = {j.kind: j.state for j in await store.jobs(longer.id)}
    assert states[JobKind.STARTING] is JobState.SENT and states[JobKind.REMINDER] is JobState.MISSED


async def test_crash_after_discord_confirmed_is_not_sent_again(store: EventStore) -> None:
    clock = FakeClock()
    sender = RecordingSender(clock)
    sender.crash_after_send = True
    event = await create(store)
    with pytest.raises(Crash):
        await AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep).run_once()
    announce = next(j for j in await store.jobs(event.id) if j.kind is JobKind.ANNOUNCE)
    assert announce.state is JobState.IN_FLIGHT and announce.attempts == 1
    restarted = AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep)  # after the restart
    await restarted.run_once()
    assert [label for label, _, _ in sender.posted] == ["announcement"]
    announce = await store.job(announce.id)
    assert announce.state is JobState.SENT and announce.sent_message_id == 1 and sender.finds == 1
    occurrence = (await store.get(event.id)).occurrences[0]
    assert occurrence.message_id == 1  # the announcement is known, so RSVP counts can be edited in


async def test_crash_before_sending_is_sent_after_restart(store: EventStore) -> None:
    clock = FakeClock()
    sender = RecordingSender(clock)
    sender.failures = [Crash()]
    event = await create(store)
    with pytest.raises(Crash):
        await AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep).run_once()
    await AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep).run_once()
    announce = next(j for j in await store.jobs(event.id) if j.kind is JobKind.ANNOUNCE)
    assert announce.state is JobState.SENT and sender.finds == 1
    assert [label for label, _, _ in sender.posted] == ["announcement"]


async def test_cancel_stops_pending_jobs_and_queues_the_notice(store: EventStore) -> None:
    clock = FakeClock()
    sender = RecordingSender(clock)
    scheduler = AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep)
    event = await create(store)
    await scheduler.run_once()  # the announcement
    await store.cancel(event.id, guild_id=5, now=clock.now)
    await drain(scheduler, store)
    assert [label for label, _, _ in sender.posted] == ["announcement", "cancelled"]


async def test_a_new_sooner_job_wakes_the_sleeping_scheduler(store: EventStore) -> None:
    sender = RecordingSender()
    scheduler = AnnouncementScheduler(store, sender)
    now = datetime.now(UTC)
    far = await create(store, (now + timedelta(hours=3)).isoformat(), now=now, reminders="none")
    for job in await store.jobs(far.id):  # leave only the far start pending
        if job.kind is JobKind.ANNOUNCE:
            await store.mark_sent(job, 1, 7, now)
    scheduler.start()
    try:
        await asyncio.wait_for(scheduler.idle.wait(), 2)
        began = time.monotonic()
        current = datetime.now(UTC)
        soon = await create(
            store, (current + timedelta(seconds=0.3)).isoformat(), now=current, reminders="none"
        )
        for _ in range(100):
            states = {j.kind: j.state for j in await store.jobs(soon.id)}
            if states[JobKind.STARTING] is JobState.SENT:
                break
            await asyncio.sleep(0.02)
        elapsed = time.monotonic() - began
    finally:
        await scheduler.stop()
    assert states[JobKind.STARTING] is JobState.SENT
    assert 0.25 <= elapsed < 1.3  # fired within a second of its time, not at the 3-hour job's
    assert [label for label, _, _ in sender.posted] == ["announcement", "starting now"]


async def test_stop_is_clean_and_idle_without_jobs(store: EventStore) -> None:
    scheduler = AnnouncementScheduler(store, RecordingSender())
    scheduler.start()
    await asyncio.wait_for(scheduler.idle.wait(), 2)
    assert scheduler.running
    await scheduler.stop()
    assert not scheduler.running


# -- one failing channel must not delay the others ---------------------------------------------------------

SICK, HEALTHY = 70, 80  # channel ids
HANG_GUARD = 10.0  # seconds: only stops a broken scheduler from hanging the run; never a speed check


class ChannelSender(RecordingSender):
    """A sender per channel: a channel can hang until released (discord.py retrying a 5xx for ~25 s),
    or fail its next sends with a 502; every attempt is recorded with the fake time it was made."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.hanging: dict[int, asyncio.Event] = {}
        self.failing: dict[int, int] = {}  # channel -> 502s still to answer
        self.attempts: list[tuple[int | None, str, datetime]] = []
        self.recovered: list[Job] = []
        self.changed = asyncio.Event()
        self.hung = 0  # deliveries waiting on a hanging channel (time passes for them)

    def watch(self, scheduler: AnnouncementScheduler) -> None:
        """Fake time waits for the scheduler's deliveries, except those hanging on purpose."""
        self.clock.busy = lambda: scheduler.delivering > self.hung

    async def deliver(self, job: Job) -> DeliveryReceipt:
        channel = job.event.channel_id
        self.attempts.append((channel, job.marker, self.clock()))
        self.changed.set()
        if channel in self.hanging:
            self.hung += 1
            try:
                await self.hanging[channel].wait()
            finally:
                self.hung -= 1
        if self.failing.get(channel, 0) > 0:
            self.failing[channel] -= 1
            raise TransientDeliveryError("502 Bad Gateway")
        receipt = await super().deliver(job)
        self.changed.set()
        return DeliveryReceipt(receipt.message_id, channel)

    async def finish_recovered(self, job: Job, receipt: DeliveryReceipt) -> None:
        self.recovered.append(job)

    def posted_for(self, event_id: int) -> list[tuple[str, datetime | None]]:
        return [
            (label, when) for label, marker, when in self.posted if marker.startswith(f"event {event_id} ")
        ]


async def run_until(scheduler: AnnouncementScheduler, sender: ChannelSender, done) -> None:
    """Run the scheduler as in production (its own task, fake time) until ``done()`` holds."""
    scheduler.start()
    while not done():
        sender.changed.clear()
        await asyncio.wait_for(sender.changed.wait(), HANG_GUARD)


async def test_a_hanging_channel_does_not_delay_another_channels_deliveries(store: EventStore) -> None:
    clock = FakeClock()
    sender = ChannelSender(clock)
    release = sender.hanging[SICK] = asyncio.Event()
    scheduler = AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep)
    sender.watch(scheduler)
    sick = await create(store, "2026-03-01 15:00", channel=SICK)  # its announcement is due first
    healthy = await create(store, "2026-03-01 14:00", channel=HEALTHY)
    try:
        await run_until(scheduler, sender, lambda: len(sender.posted_for(healthy.id)) == 3)
        # Every delivery to the healthy channel at its due time, while the sick one still hangs.
        assert sender.posted_for(healthy.id) == [
            ("announcement", START),
            ("reminder 1h", datetime(2026, 3, 1, 13, 0, tzinfo=UTC)),
            ("starting now", datetime(2026, 3, 1, 14, 0, tzinfo=UTC)),
        ]
        assert sender.posted_for(sick.id) == []
        release.set()  # Discord answers at last: the sick channel catches up, each job once
        await run_until(scheduler, sender, lambda: len(sender.posted_for(sick.id)) == 3)
        await asyncio.wait_for(scheduler.idle.wait(), HANG_GUARD)  # the last one recorded as sent
    finally:
        await scheduler.stop()
    assert [label for label, _ in sender.posted_for(sick.id)] == [
        "announcement",
        "reminder 1h",
        "starting now",
    ]
    states = [j.state for event in (sick, healthy) for j in await store.jobs(event.id)]
    assert states == [JobState.SENT] * 6


async def test_a_failing_channel_is_backed_off_on_its_own(store: EventStore) -> None:
    clock = FakeClock()
    sender = ChannelSender(clock)
    sender.failing[SICK] = 4
    scheduler = AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep)
    sender.watch(scheduler)
    first = await create(store, "2026-03-01 15:00", channel=SICK)
    second = await create(store, "2026-03-01 15:30", channel=SICK)
    healthy = await create(store, "2026-03-01 14:00", channel=HEALTHY)
    try:
        await run_until(
            scheduler,
            sender,
            lambda: len(sender.posted_for(healthy.id)) == 3 and len(sender.posted) >= 5,
        )
        await asyncio.wait_for(scheduler.idle.wait(), HANG_GUARD)
    finally:
        await scheduler.stop()
    assert [when for _, when in sender.posted_for(healthy.id)] == [
        START,
        datetime(2026, 3, 1, 13, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 14, 0, tzinfo=UTC),
    ]
    # The sick channel is tried again only after its own backoff (1, 2, 4, 8 s after 1..4 failures),
    # whichever of its jobs is next: a second due job does not pay for another failure at once.
    sick = [when for channel, _, when in sender.attempts if channel == SICK][:5]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(sick)] == [
        backoff(1),
        backoff(2),
        backoff(3),
        backoff(4),
    ]
    for event in (first, second):
        announce = next(j for j in await store.jobs(event.id) if j.kind is JobKind.ANNOUNCE)
        assert announce.state is JobState.SENT
        assert [label for label, _ in sender.posted_for(event.id)].count("announcement") == 1


async def test_a_recovered_delivery_gets_what_a_normal_one_gets(store: EventStore) -> None:
    """Found by its marker after a crash: the front-end finishes it (e.g. the scheduled event)."""
    clock = FakeClock()
    sender = ChannelSender(clock)
    sender.crash_after_send = True
    event = await create(store)
    with pytest.raises(Crash):
        await AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep).run_once()
    await AnnouncementScheduler(store, sender, clock=clock, sleep=clock.sleep).run_once()
    announce = next(j for j in await store.jobs(event.id) if j.kind is JobKind.ANNOUNCE)
    assert announce.state is JobState.SENT and [label for label, _, _ in sender.posted] == ["announcement"]
    assert [job.id for job in sender.recovered] == [announce.id]
