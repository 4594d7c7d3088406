"""iCalendar output, parsed back with a small RFC 5545 check: CRLF, folding, escaping, required properties."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from peerbot.core.events import EventSettings, EventStore, Recurrence, draft_event, expand
from peerbot.core.ics import escape_text, event_calendar, fold
from peerbot.core.storage import Database

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def unfold(text: str) -> list[str]:
    """Content lines per RFC 5545 3.1, checking the physical lines on the way."""
    assert text.endswith("\r\n")
    physical = text[:-2].split("\r\n")
    for line in physical:
        assert "\n" not in line and "\r" not in line, "bare LF or CR"
        assert len(line.encode("utf-8")) <= 75, f"line longer than 75 octets: {line!r}"
    lines: list[str] = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def unescape(value: str) -> str:
    out, i = "", 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out += {"n": "\n", "N": "\n"}.get(value[i + 1], value[i + 1])
            i += 2
        else:
            out += value[i]
            i += 1
    return out


def properties(text: str) -> dict[str, list[str]]:
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 1
    found: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        found.setdefault(name.split(";")[0], []).append(value)
    for required in ("VERSION", "PRODID", "UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
        assert required in found, f"missing {required}"
    return found


def stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    database = await Database.open(tmp_path / "ics.sqlite3")
    yield EventStore(database, EventSettings())
    await database.close()


def test_escaping_and_folding() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    long = "DESCRIPTION:" + "é" * 100  # two octets each: folding must not split a character
    folded = fold(long)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == long


async def test_one_off_event_round_trips(store: EventStore) -> None:
    draft = draft_event(
        title="Legal ecosystems, laws; and \\ more", theme="Legal ecosystems", start="2026-12-03 15:00",
        timezone="Europe/Paris", default_timezone="UTC", now=NOW, link="https://example.org/a?b=c",
        description="Line one\nLine two, with a comma; and a long tail " + "x" * 120,
    )  # fmt: skip
    event = await store.create(draft, guild_id=5, channel_id=7, created_by=1, now=NOW)
    found = properties(event_calendar(event, now=NOW))
    assert unescape(found["SUMMARY"][0]) == "Legal ecosystems, laws; and \\ more"
    assert unescape(found["DESCRIPTION"][0]).startswith("Theme: Legal ecosystems\n\nLine one\nLine two, with")
    assert stamp(found["DTSTART"][0]) == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    assert stamp(found["DTEND"][0]) - stamp(found["DTSTART"][0]) == timedelta(hours=1)
    assert found["URL"] == ["https://example.org/a?b=c"] and found["DTSTAMP"] == ["20260301T120000Z"]
    assert "RRULE" not in found and found["UID"][0].startswith(f"event-{event.id}-")


async def test_series_rrule_matches_local_times_across_dst(store: EventStore) -> None:
    draft = draft_event(
        title="Weekly SSE", theme="Internationalisation", start="2026-03-19 15:00", timezone="Europe/Paris",
        default_timezone="UTC", now=NOW, repeat="weekly", count=4,
    )  # fmt: skip
    event = await store.create(draft, guild_id=5, channel_id=7, created_by=1, now=NOW)
    await store.cancel(event.id, guild_id=5, now=NOW)  # the first occurrence
    event = await store.get(event.id)
    found = properties(event_calendar(event, now=NOW))
    assert found["RRULE"] == ["FREQ=WEEKLY;INTERVAL=1;COUNT=4"]
    first = stamp(found["DTSTART"][0])
    rule = set(expand(first, "UTC", Recurrence("weekly", 1, 4)))
    excluded = {stamp(v) for v in found.get("EXDATE", [""])[0].split(",") if v}
    added = {stamp(v) for v in found.get("RDATE", [""])[0].split(",") if v}
    calendar = (rule - excluded) | added
    assert calendar == {o.start for o in event.occurrences if not o.cancelled}
    assert [o.start.hour for o in event.occurrences] == [14, 14, 13, 13]  # 15:00 in Paris
