"""How late event reminders go out when 1,000 of them fall due together, beside plain asyncio timers.

``AnnouncementScheduler`` is one task that reads the soonest job from SQLite, sleeps until it is due,
and hands it to a worker for its destination, which marks it in flight, sends it and marks it sent; a
destination has one delivery at a time, different destinations run side by side (bench/channels.py
measures that). Here every job goes to one destination, so with many jobs due close together the
bookkeeping of one delays the next and lateness grows with load. The sender only records the time it
was called (no Discord), so the figures are the scheduler's own delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Context, Section, median, percentile, ratio, table
from peerbot.core.events import EventDraft, EventSettings, EventStore, Job, JobKind, JobState
from peerbot.core.scheduler import AnnouncementScheduler, DeliveryReceipt
from peerbot.core.storage import Database

JOBS = 1_000
EVENTS = 100  # each with JOBS / EVENTS reminders
WINDOW_S = 10.0  # "due within one minute", compressed to keep the run short
QUICK_WINDOW_S = 3.0
RUNS = 3
QUICK_RUNS = 1
LEAD_S = 0.5  # before the first due time (the baseline's, and the scheduler's after its setup)
SETUP_S_PER_EVENT = 0.008  # time allowed to create each event before the window opens; doubled on overrun
DRAIN_S = 30.0  # how long after the window a job may still arrive before it counts as never delivered
SEED = 20241201
GUILD = 1
HOURS_AHEAD = timedelta(hours=2)  # the events start well after every reminder


def due_offsets(window: float) -> list[float]:
    """Seconds after the window opens at which each job is due: seeded, uniform, so bursts happen."""
    rng = random.Random(SEED)
    return sorted(rng.uniform(0, window) for _ in range(JOBS))


class RecordingSender:
    """The front-end: remembers when each job reached it."""

    def __init__(self) -> None:
        self.delivered: list[tuple[int, JobKind, datetime]] = []
        self.reminders = 0
        self.all_in = asyncio.Event()

    async def deliver(self, job: Job) -> DeliveryReceipt:
        self.delivered.append((job.id, job.kind, datetime.now(UTC)))
        if job.kind is JobKind.REMINDER:
            self.reminders += 1
            if self.reminders >= JOBS:
                self.all_in.set()
        return DeliveryReceipt()

    async def find_delivered(self, job: Job) -> DeliveryReceipt | None:
        return None


@dataclass
class Outcome:
    lateness_ms: list[float]  # one per delivered job (first delivery)
    never: int
    duplicated: int
    missed_or_failed: int = 0
    setup_s: float = 0.0

    def stat(self, pct: float) -> float:
        return percentile(self.lateness_ms, pct)


class SetupOverran(RuntimeError):
    """Creating the events took longer than the time allowed before the first due time."""


async def scheduler_run(path: Path, window: float, allowance: float = SETUP_S_PER_EVENT) -> Outcome:
    """1,000 reminders of 100 events due within ``window`` seconds, delivered by the real scheduler."""
    path.unlink(missing_ok=True)  # noqa: ASYNC240 - a temporary file, before anything is timed
    begin = time.perf_counter()
    database = await Database.open(path)
    scheduler: AnnouncementScheduler | None = None
    try:
        store = EventStore(database, EventSettings(reminders=()))
        opens = datetime.now(UTC) + timedelta(seconds=LEAD_S + allowance * EVENTS)
        offsets = due_offsets(window)
        for event in range(EVENTS):
            start = opens + HOURS_AHEAD + timedelta(microseconds=event)
            dues = [opens + timedelta(seconds=s) for s in offsets[event::EVENTS]]
            draft = EventDraft(
                title=f"Bench event {event}",
                theme="Peer learning",
                start=start,
                timezone="UTC",
                reminders=tuple(start - due for due in dues),
            )
            await store.create(draft, guild_id=GUILD, channel_id=None, created_by=None)
        # Each event's announcement is due at creation: taken as already posted, so only reminders run.
        await database.execute("UPDATE event_job SET state = 'sent' WHERE kind = 'announce'")
        setup_s = time.perf_counter() - begin
        if datetime.now(UTC) > opens:
            raise SetupOverran(f"setup took {setup_s:.2f} s, past the first due time")
        sender = RecordingSender()
        scheduler = AnnouncementScheduler(store, sender)
        scheduler.start()
        remaining = (opens - datetime.now(UTC)).total_seconds() + window + DRAIN_S
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sender.all_in.wait(), remaining)
        await asyncio.sleep(0.05)  # a duplicate right behind the last job would show up here
        await scheduler.stop()
        scheduler = None
        rows = await database.fetch_all(
            "SELECT id, due_at, state FROM event_job WHERE kind = 'reminder' ORDER BY id"
        )
    finally:
        if scheduler is not None:
            await scheduler.stop()
        await database.close()
    due = {row["id"]: datetime.fromisoformat(row["due_at"]) for row in rows}
    if len(due) != JOBS:
        raise RuntimeError(f"expected {JOBS} reminder jobs, the store planned {len(due)}")
    first: dict[int, datetime] = {}
    counts: Counter[int] = Counter()
    for job_id, kind, when in sender.delivered:
        if kind is JobKind.REMINDER:
            counts[job_id] += 1
            first.setdefault(job_id, when)
    lateness = [(when - due[job_id]).total_seconds() * 1000 for job_id, when in first.items()]
    bad = sum(row["state"] in (JobState.MISSED.value, JobState.FAILED.value) for row in rows)
    return Outcome(
        lateness,
        JOBS - len(first),
        sum(n - 1 for n in counts.values() if n > 1),
        bad,
        setup_s,
    )


async def asyncio_run(window: float) -> Outcome:
    """The baseline: one ``loop.call_at`` timer per job, for the same due times."""
    loop = asyncio.get_running_loop()
    opens = datetime.now(UTC) + timedelta(seconds=LEAD_S)
    dues = [opens + timedelta(seconds=s) for s in due_offsets(window)]
    fired: list[tuple[int, datetime]] = []
    done = asyncio.Event()

    def fire(index: int) -> None:
        fired.append((index, datetime.now(UTC)))
        if len(fired) >= JOBS:
            done.set()

    now_wall, now_loop = datetime.now(UTC), loop.time()
    handles = [
        loop.call_at(now_loop + (due - now_wall).total_seconds(), fire, index)
        for index, due in enumerate(dues)
    ]
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), LEAD_S + window + DRAIN_S)
    finally:
        for handle in handles:
            handle.cancel()
    counts = Counter(index for index, _ in fired)
    first: dict[int, datetime] = {}
    for index, when in fired:
        first.setdefault(index, when)
    lateness = [(when - dues[index]).total_seconds() * 1000 for index, when in first.items()]
    return Outcome(lateness, JOBS - len(first), sum(n - 1 for n in counts.values() if n > 1))


def _scheduler_with_retries(path: Path, window: float) -> Outcome:
    """A run whose setup overran on a busy machine is redone with twice the allowance, up to 3 times."""
    allowance = SETUP_S_PER_EVENT
    for _ in range(3):
        try:
            return asyncio.run(scheduler_run(path, window, allowance))
        except SetupOverran as exc:
            print(f"  scheduler: {exc}; again with more time", file=sys.stderr, flush=True)
            allowance *= 2
    return asyncio.run(scheduler_run(path, window, allowance))


def run(ctx: Context) -> Section:
    quick = ctx.settings.quick
    window = QUICK_WINDOW_S if quick else WINDOW_S
    runs = QUICK_RUNS if quick else min(ctx.settings.repeats, RUNS)
    ours: list[Outcome] = []
    theirs: list[Outcome] = []
    for number in range(runs):  # interleaved, each alone: a slow spell of the machine hits both
        print(f"  scheduler: run {number + 1}/{runs}, {window:g} s window", file=sys.stderr, flush=True)
        ours.append(_scheduler_with_retries(ctx.work / f"scheduler-{number}.sqlite3", window))
        theirs.append(asyncio.run(asyncio_run(window)))

    def med(outcomes: list[Outcome], pct: float) -> float:
        return median(o.stat(pct) for o in outcomes)

    rows = []
    for name, outcomes in (("PeerBot `AnnouncementScheduler`", ours), ("Baseline: `loop.call_at`", theirs)):
        rows.append(
            [
                name,
                len(outcomes),
                *(f"{med(outcomes, pct):.1f}" for pct in (50, 99, 100)),
                sum(o.never for o in outcomes),
                sum(o.duplicated for o in outcomes),
            ]
        )
    ratios = [ratio(med(ours, pct), med(theirs, pct)) for pct in (50, 99, 100)]
    rows.append(["Ratio (PeerBot ÷ baseline)", "", *ratios, "", ""])
    missed = sum(o.missed_or_failed for o in ours)
    rate = JOBS / window
    body = "\n\n".join(
        [
            f"{JOBS:,} reminders ({EVENTS} events × {JOBS // EVENTS} reminders, created with "
            "`EventStore.create` in a fresh SQLite file; their announcements marked as already sent) "
            f"fall due at seeded uniform-random times within a **{window:g} s window** "
            f"(about {rate:.0f} per second): *1,000 reminders due in one minute* compressed "
            f"{60 / window:g}× to keep the run short, so the load per second is {60 / window:g}× that "
            "of the real case. The real `AnnouncementScheduler` delivers them (wall clock, real "
            "`asyncio.sleep`) to a sender that records when it was called. **Lateness** is that time "
            "minus the job's due time; p50, p99 and max are over the jobs of a run, the table gives the "
            f"median over runs. *Never delivered* counts jobs not delivered within {DRAIN_S:g} s after "
            "the window, *duplicated* extra deliveries of one job, both summed over runs.",
            "The baseline is the floor of any asyncio program: one `loop.call_at` timer per job for the "
            "same due times, measured alone between the scheduler's runs; it has no database, no "
            "ordering and no exactly-once bookkeeping.",
            table(
                [
                    *("Scheduler", "Runs", "Lateness p50 ms", "p99 ms", "max ms"),
                    *("Never delivered", "Duplicated"),
                ],
                rows,
            ),
            f"Jobs marked missed or failed by the scheduler: {missed}. Setup (creating the events and "
            f"planning the jobs): median {median(o.setup_s for o in ours):.2f} s, not timed as lateness.",
        ]
    )
    headline = {
        f"Scheduler lateness p50 / p99 / max, {JOBS:,} reminders in {window:g} s (baseline call_at)": (
            f"{med(ours, 50):.1f} / {med(ours, 99):.1f} / {med(ours, 100):.1f} ms "
            f"({med(theirs, 50):.1f} / {med(theirs, 99):.1f} / {med(theirs, 100):.1f} ms); "
            f"never delivered {sum(o.never for o in ours)}, duplicated {sum(o.duplicated for o in ours)}"
        ),
    }
    lookup_body, lookup_headline = lookup_section(ctx)
    headline.update(lookup_headline)
    body += "\n\n" + lookup_body
    return Section(f"Scheduler lateness: {JOBS:,} reminders due together", body, [], headline)


LOOKUP_EVENTS = 10_000
QUICK_LOOKUP_EVENTS = 1_000
LOOKUPS = 300
JOB_PLAN = (
    ("announce", timedelta(days=7)),
    ("reminder", timedelta(days=1)),
    ("reminder", timedelta(hours=1)),
    ("starting", timedelta()),
)


async def _seed_for_lookup(database: Database, events: int) -> None:
    """``events`` events of one occurrence and four jobs each, half of them already delivered, written
    in bulk: the shape of a year of a busy community's schedule."""
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    stamp = now.isoformat()
    event_rows, occurrence_rows, job_rows = [], [], []
    for number in range(1, events + 1):
        start = now + timedelta(minutes=rng.randrange(60, 60 * 24 * 365))
        event_rows.append(
            (number, GUILD, f"Event {number}", "Cities after COVID-19", "UTC", start.isoformat(), 60,
             "86400,3600", stamp, stamp)
        )  # fmt: skip
        occurrence_rows.append((number, number, 1, start.isoformat()))
        for kind, before in JOB_PLAN:
            due = (start - before).isoformat()
            state = "sent" if rng.random() < 0.5 else "pending"
            job_rows.append((number, number, kind, due, state, due, stamp, stamp))
    async with database.transaction() as connection:
        await connection.executemany(
            "INSERT INTO event (id, guild_id, title, theme, timezone, start_at, duration_minutes, "
            "reminders, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            event_rows,
        )
        await connection.executemany(
            "INSERT INTO event_occurrence (id, event_id, number, start_at) VALUES (?, ?, ?, ?)",
            occurrence_rows,
        )
        await connection.executemany(
            "INSERT INTO event_job (event_id, occurrence_id, kind, due_at, state, next_attempt_at, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            job_rows,
        )


BASELINE_LOOKUP = (
    "SELECT j.* FROM event_job AS j NOT INDEXED JOIN event e ON e.id = j.event_id "
    "WHERE j.state IN ('pending', 'in_flight') ORDER BY j.next_attempt_at, j.id LIMIT 1"
)


async def lookup_run(path: Path, events: int) -> tuple[list[float], list[float], str]:
    """Milliseconds of each ``EventStore.next_job`` and of the same query forced to scan the table."""
    database = await Database.open(path)
    try:
        await _seed_for_lookup(database, events)
        store = EventStore(database)
        plan = await database.fetch_all(
            "EXPLAIN QUERY PLAN SELECT j.* FROM event_job j INDEXED BY event_job_next_due "
            "JOIN event e ON e.id = j.event_id "
            "WHERE j.state IN ('pending', 'in_flight') ORDER BY j.next_attempt_at, j.id LIMIT 1"
        )
        ours, theirs = [], []
        for _ in range(LOOKUPS):
            started = time.perf_counter()
            await store.next_job()
            ours.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await database.fetch_one(BASELINE_LOOKUP)
            theirs.append((time.perf_counter() - started) * 1000)
        return ours, theirs, "; ".join(str(row[-1]) for row in plan)
    finally:
        await database.close()


def lookup_section(ctx: Context) -> tuple[str, dict[str, str]]:
    events = QUICK_LOOKUP_EVENTS if ctx.settings.quick else LOOKUP_EVENTS
    runs = 1 if ctx.settings.quick else min(ctx.settings.repeats, RUNS)
    results = [asyncio.run(lookup_run(ctx.work / f"lookup-{n}.sqlite3", events)) for n in range(runs)]
    p = {
        (name, pct): median(percentile(sample[index], pct) for sample in results)
        for index, name in ((0, "ours"), (1, "theirs"))
        for pct in (50, 99)
    }
    rows = [
        ["PeerBot `EventStore.next_job`", f"{p['ours', 50]:.3f}", f"{p['ours', 99]:.3f}"],
        ["Baseline: same query, table scan", f"{p['theirs', 50]:.3f}", f"{p['theirs', 99]:.3f}"],
        ["Ratio", ratio(p["ours", 50], p["theirs", 50]), ratio(p["ours", 99], p["theirs", 99])],
    ]
    body = "\n\n".join(
        [
            f"**Next-due lookup at {events:,} scheduled events** ({events * 4:,} jobs, half already sent, "
            f"due over the next year, written in bulk): {LOOKUPS} calls of the query the scheduler makes "
            f"after every delivery, p50 and p99 per run, median over {runs} run(s). SQLite's plan: "
            f"`{results[0][2]}`.",
            table(["Lookup", "p50 ms", "p99 ms"], rows),
        ]
    )
    headline = {
        f"Next-due lookup at {events:,} events p50 / p99 (table scan)": (
            f"{p['ours', 50]:.3f} / {p['ours', 99]:.3f} ms ({p['theirs', 50]:.2f} / {p['theirs', 99]:.2f} ms)"
        )
    }
    return body, headline
