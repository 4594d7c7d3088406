"""Events: parsing members' input, recurrence across daylight saving, and the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from peerbot.core.events import (
    Choice,
    EventError,
    EventSettings,
    EventStore,
    JobKind,
    JobState,
    Recurrence,
    draft_event,
    example_start,
    expand,
    parse_offsets,
    parse_start,
    start_example,
)
from peerbot.core.privacy import PrivacyService
from peerbot.core.storage import Database

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    database = await Database.open(tmp_path / "events.sqlite3")
    yield EventStore(database, EventSettings(reminders=(timedelta(hours=24), timedelta(hours=1))))
    await database.close()


def draft(**overrides):
    values = dict(
        title="Women in the SSE roundtable",
        theme="Women in the SSE",
        start="2026-03-10 15:00",
        timezone="Europe/Paris",
        default_timezone="UTC",
        now=NOW,
    )
    values.update(overrides)
    return draft_event(**values)


# -- parsing ---------------------------------------------------------------------------------------------


def test_start_in_local_zone_and_iso_with_offset() -> None:
    local = parse_start("2026-12-03 15:00", "Europe/Paris", now=NOW)
    assert local.astimezone(UTC) == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    iso = parse_start("2026-12-03T15:00:00-05:00", "Europe/Paris", now=NOW)
    assert iso.astimezone(UTC) == datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
    assert parse_start("2026-12-03T15:00Z", "UTC", now=NOW).hour == 15


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start": "2020-01-01 10:00"}, "in the past"),
        ({"start": "next tuesday-ish"}, "couldn't read the start"),
        ({"start": "2026-12-03"}, "couldn't read the start"),
        ({"start": "2026-03-29 02:30"}, "does not exist in Europe/Paris"),
        ({"timezone": "Mars/Olympus_Mons"}, "Unknown time zone"),
        ({"duration": 0}, "from 1 to 1440"),
        ({"duration": 1441}, "from 1 to 1440"),
        ({"duration": "an hour"}, "number from 1 to 1440"),
        ({"title": "x" * 101}, "at most 100"),
        ({"title": "   "}, "needs a title"),
        ({"link": "javascript:alert(1)"}, "http:// or https://"),
        ({"link": "ftp://example.org/file"}, "http:// or https://"),
        ({"theme": ""}, "Choose a theme"),
        ({"repeat": "daily"}, "weekly or monthly"),
        ({"repeat": "weekly", "count": 60}, "from 1 to 52"),
        ({"repeat": "weekly", "until": "2026-01-01"}, "must end after"),
        ({"reminders": "soon"}, "couldn't read the reminder"),
        ({"start": "2026-10-25 02:30"}, "happens twice in Europe/Paris"),
        (
            {"start": "2026-03-01 15:00", "reminders": "24h,1h"},
            "1d reminder would be before now: the event starts in 2h",
        ),
        ({"start": "2026-03-02 12:00", "reminders": "1d"}, "the event starts in 23h"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(overrides: dict, message: str) -> None:
    with pytest.raises(EventError, match=message):
        draft(**overrides)


def test_dst_overlap_accepts_an_explicit_offset() -> None:
    first = parse_start("2026-10-25T02:30+02:00", "Europe/Paris", now=NOW)
    second = parse_start("2026-10-25T02:30+01:00", "Europe/Paris", now=NOW)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)


def test_default_reminders_already_past_do_not_refuse_the_event() -> None:
    event = draft(start="2026-03-01 15:00")  # in 2 hours; the 24h default is skipped when planning
    assert event.reminders is None


def test_offsets_accept_seconds_minutes_hours_days() -> None:
    assert parse_offsets("24h, 1h") == (timedelta(hours=24), timedelta(hours=1))
    assert parse_offsets("3s,2m,1d") == (timedelta(days=1), timedelta(minutes=2), timedelta(seconds=3))
    with pytest.raises(EventError):
        parse_offsets("")


def test_theme_choice_is_canonical_and_free_text_allowed() -> None:
    assert draft(theme="legal ECOSYSTEMS").theme == "Legal ecosystems"
    assert draft(theme="Social procurement").theme == "Social procurement"


# -- recurrence ------------------------------------------------------------------------------------------


def test_weekly_series_keeps_paris_wall_time_across_dst() -> None:
    # Europe/Paris moves from UTC+1 to UTC+2 on 2026-03-29.
    first = parse_start("2026-03-24 15:00", "Europe/Paris", now=NOW)
    starts = expand(first, "Europe/Paris", Recurrence("weekly", 1, 3))
    assert [s.astimezone(first.tzinfo).hour for s in starts] == [15, 15, 15]
    assert [s.hour for s in starts] == [14, 13, 13]  # UTC shifts by an hour, the local time does not
    assert starts[1] - starts[0] == timedelta(days=7, hours=-1)


def test_weekly_every_two_weeks_and_until() -> None:
    first = parse_start("2026-03-03 09:00", "UTC", now=NOW)
    until = datetime(2026, 4, 1, tzinfo=UTC)
    starts = expand(first, "UTC", Recurrence("weekly", 2, None, until))
    assert [s.day for s in starts] == [3, 17, 31]


def test_monthly_on_the_nth_weekday() -> None:
    first = parse_start("2026-03-12 18:00", "America/Mexico_City", now=NOW)  # 2nd Thursday
    starts = expand(first, "America/Mexico_City", Recurrence("monthly", 1, 4))
    local = [s.astimezone(first.tzinfo) for s in starts]
    assert [(d.month, d.day, d.hour) for d in local] == [(3, 12, 18), (4, 9, 18), (5, 14, 18), (6, 11, 18)]
    assert all(d.weekday() == 3 for d in local)


def test_fifth_weekday_becomes_the_last() -> None:
    first = parse_start("2026-04-30 10:00", "UTC", now=NOW)  # 5th Thursday of April
    starts = expand(first, "UTC", Recurrence("monthly", 1, 2))
    assert starts[1].date().isoformat() == "2026-05-28"


# -- store -----------------------------------------------------------------------------------------------


async def test_create_plans_announcement_reminders_and_start(store: EventStore) -> None:
    event = await store.create(draft(), guild_id=5, channel_id=7, created_by=42, now=NOW)
    assert event.title == "Women in the SSE roundtable" and len(event.occurrences) == 1
    jobs = await store.jobs(event.id)
    assert [(j.kind, j.label) for j in jobs] == [
        (JobKind.ANNOUNCE, "announcement"),
        (JobKind.REMINDER, "reminder 1d"),
        (JobKind.REMINDER, "reminder 1h"),
        (JobKind.STARTING, "starting now"),
    ]
    assert jobs[0].due_at == NOW and jobs[-1].due_at == event.start
    assert jobs[2].marker == f"event {event.id} · reminder 1h · job {jobs[2].id}"


async def test_reminders_already_past_are_not_planned(store: EventStore) -> None:
    event = await store.create(
        draft(start="2026-03-01 12:45", timezone="UTC"), guild_id=5, channel_id=7, created_by=1, now=NOW
    )
    assert [j.kind for j in await store.jobs(event.id)] == [JobKind.ANNOUNCE, JobKind.STARTING]


async def test_series_announces_each_occurrence_when_the_previous_starts(store: EventStore) -> None:
    event = await store.create(
        draft(repeat="weekly", count=3, reminders="1h"), guild_id=5, channel_id=7, created_by=1, now=NOW
    )
    announces = [j for j in await store.jobs(event.id) if j.kind is JobKind.ANNOUNCE]
    assert [j.due_at for j in announces] == [NOW, event.occurrences[0].start, event.occurrences[1].start]


async def test_rsvp_one_per_member_and_cancelled_refused(store: EventStore) -> None:
    event = await store.create(draft(), guild_id=5, channel_id=7, created_by=1, now=NOW)
    occurrence = event.occurrences[0]
    await store.rsvp(event.id, occurrence.id, 10, Choice.GOING, now=NOW)
    await store.rsvp(event.id, occurrence.id, 11, Choice.INTERESTED, now=NOW)
    _, _, counts = await store.rsvp(event.id, occurrence.id, 10, Choice.NOT_GOING, now=NOW)
    assert (counts.going, counts.interested, counts.not_going) == (0, 1, 1)
    await store.cancel(event.id, guild_id=5, now=NOW)
    with pytest.raises(EventError, match="was cancelled"):
        await store.rsvp(event.id, None, 12, Choice.GOING, now=NOW)


async def test_edit_moves_the_occurrence_and_reschedules(store: EventStore) -> None:
    event = await store.create(draft(), guild_id=5, channel_id=7, created_by=1, now=NOW)
    edited = await store.edit(event.id, guild_id=5, now=NOW, start="2026-03-11 16:00", title="New title")
    assert edited.title == "New title"
    assert edited.occurrences[0].start == datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    jobs = await store.jobs(event.id)
    pending = [j for j in jobs if j.state is JobState.PENDING]
    assert {j.due_at for j in pending if j.kind is JobKind.STARTING} == {edited.occurrences[0].start}
    assert sum(1 for j in pending if j.kind is JobKind.ANNOUNCE) == 1
    with pytest.raises(EventError, match="no event 999"):
        await store.edit(999, guild_id=5, now=NOW, title="x")
    with pytest.raises(EventError, match="at most 100"):
        await store.edit(event.id, guild_id=5, now=NOW, title="y" * 101)


async def test_cancel_one_occurrence_then_the_series(store: EventStore) -> None:
    event = await store.create(
        draft(repeat="weekly", count=3), guild_id=5, channel_id=7, created_by=1, now=NOW
    )
    event, cancelled = await store.cancel(event.id, guild_id=5, now=NOW)
    assert [o.number for o in cancelled] == [1] and not event.cancelled
    assert event.next_occurrence(NOW).number == 2
    event, cancelled = await store.cancel(event.id, guild_id=5, whole_series=True, now=NOW)
    assert [o.number for o in cancelled] == [2, 3] and event.cancelled
    jobs = await store.jobs(event.id)
    assert all(j.state is JobState.CANCELLED for j in jobs if j.kind is not JobKind.CANCELLED)
    assert sum(1 for j in jobs if j.kind is JobKind.CANCELLED and j.state is JobState.PENDING) == 2
    with pytest.raises(EventError, match="already cancelled"):
        await store.cancel(event.id, guild_id=5, now=NOW)


async def test_other_guilds_cannot_see_an_event(store: EventStore) -> None:
    event = await store.create(draft(), guild_id=5, channel_id=7, created_by=1, now=NOW)
    assert await store.get(event.id, guild_id=6) is None
    assert [e.id for e in await store.upcoming(5, now=NOW)] == [event.id]
    assert await store.upcoming(6, now=NOW) == []


async def test_privacy_describes_and_erases_rsvps(store: EventStore) -> None:
    privacy = PrivacyService()
    store.register_privacy(privacy)
    event = await store.create(draft(), guild_id=5, channel_id=7, created_by=10, now=NOW)
    await store.rsvp(event.id, None, 10, Choice.GOING, now=NOW)
    described = await privacy.describe(10)
    assert any("Going" in line for line in described["event RSVPs"])
    assert (await privacy.forget(10))["event RSVPs"] == 2
    assert (await store.counts(event.occurrences[0].id)).going == 0
    assert (await store.get(event.id)).created_by is None


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Los_Angeles", "Pacific/Kiritimati"])
@pytest.mark.parametrize("days", [0, 1, 2, 3, 4, 5, 6, 240, 3650])
def test_the_start_example_is_a_future_tuesday_that_parses(zone: str, days: int) -> None:
    """The example shown to members is computed from now, so typing it never gives 'in the past'."""
    now = NOW + timedelta(days=days, hours=11, minutes=59)
    example = example_start(zone, now)
    assert example > now and example - now <= timedelta(days=8)
    assert (example.weekday(), example.hour, example.minute) == (1, 15, 0)
    written = start_example(zone, now).split(" (or ISO 8601, e.g. ")
    assert parse_start(written[0], zone, now=now) == example
    assert parse_start(written[1].rstrip(")"), zone, now=now) == example


# -- input the bot accepts but could not handle ------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start": "0001-01-01 00:00"}, "is in the past"),
        ({"start": "0001-01-01 00:00", "timezone": "America/New_York"}, "is in the past"),
        ({"start": "0001-01-01T00:00+05:00"}, "is in the past"),
        ({"start": "9999-12-31 23:00", "timezone": "America/New_York"}, "within the next 5 years"),
        ({"start": "9999-12-31T23:00-05:00"}, "within the next 5 years"),
        ({"start": "9999-11-01 10:00", "repeat": "weekly"}, "within the next 5 years"),
        ({"repeat": "weekly", "until": "9999-12-31"}, "must end within the next 5 years"),
        ({"repeat": "weekly", "until": "9999-12-31", "timezone": "America/New_York"}, "within the next 5"),
        ({"repeat": "weekly", "until": "9999-12-31T23:59-12:00"}, "must end within the next 5 years"),
        ({"repeat": "weekly", "until": "0001-01-01", "timezone": "Asia/Tokyo"}, "must end after"),
        ({"title": "\u200b\u200d\u2060"}, "needs a title with at least one letter or digit"),
        ({"title": "!!! ???"}, "needs a title with at least one letter or digit"),
    ],
)
def test_far_dates_and_invisible_titles_are_refused_not_crashed(overrides: dict, message: str) -> None:
    """Years 1 and 9999 used to raise OverflowError in the zone arithmetic ("something went wrong")."""
    with pytest.raises(EventError, match=message):
        draft(**overrides)


def test_the_start_horizon_is_five_years_from_the_injected_now() -> None:
    inside = NOW.replace(year=NOW.year + 5) - timedelta(days=1)
    outside = NOW.replace(year=NOW.year + 5) + timedelta(days=1)
    assert draft(start=f"{inside:%Y-%m-%d %H:%M}", timezone="UTC").start == inside
    with pytest.raises(EventError, match=f"before {outside - timedelta(days=1):%Y-%m-%d}"):
        draft(start=f"{outside:%Y-%m-%d %H:%M}", timezone="UTC")
    later = NOW + timedelta(days=400)  # the bound moves with the clock, it is not a fixed date
    assert parse_start(f"{outside:%Y-%m-%d %H:%M}", "UTC", now=later) == outside


async def test_edit_refuses_a_far_start_and_changes_nothing(store: EventStore) -> None:
    event = await store.create(draft(), guild_id=5, channel_id=7, created_by=42, now=NOW)
    for start, zone in (("9999-12-31 23:00", "America/New_York"), ("0001-01-01 00:00", "America/New_York")):
        with pytest.raises(EventError, match=r"in the past|within the next 5 years"):
            await store.edit(event.id, guild_id=5, start=start, timezone=zone, now=NOW)
    with pytest.raises(EventError, match="at least one letter or digit"):
        await store.edit(event.id, guild_id=5, title="\u200b", now=NOW)
    assert await store.get(event.id) == event
