"""Events in the terminal chat: the same commands and rules as Discord, reminders printed when due."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from console_helpers import converse

from peerbot.core.events import EventSettings
from peerbot.core.services import Services

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # the chat's injected clock: the dates below stay future


@pytest.fixture
async def services(tmp_path: Path, sample_dir: Path) -> AsyncIterator[Services]:
    """A chat whose clock stands still at NOW, so fixed starts in the answers never pass."""
    settings = EventSettings(reminders=(timedelta(seconds=1),))
    opened = await Services.open(
        sample_dir, tmp_path / "db.sqlite3", event_settings=settings, clock=lambda: NOW
    )
    yield opened
    await opened.close()


@pytest.fixture
async def live_services(tmp_path: Path, sample_dir: Path) -> AsyncIterator[Services]:
    """A chat on the real clock, for reminders that must really come due; its starts are computed from now."""
    settings = EventSettings(reminders=(timedelta(seconds=1),))
    opened = await Services.open(sample_dir, tmp_path / "db.sqlite3", event_settings=settings)
    yield opened
    await opened.close()


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


CREATE_ANSWERS = ("Cities roundtable", "6", "2026-12-03 15:00", "Europe/Paris", "90", "https://example.org/x")


async def test_create_list_show_rsvp_ics(services: Services, tmp_path: Path) -> None:
    output = await converse(
        services,
        "/event create", *CREATE_ANSWERS, "Bring questions", "", "24h,1h",
        "/events", "/rsvp 1 going", "/events show 1", "/events ics 1",
    )  # fmt: skip
    assert "Event #1 created: Cities roundtable, Thu 2026-12-03 15:00 Europe/Paris (14:00 UTC)." in output
    assert "#1 Cities roundtable [Cities after COVID-19]" in output
    assert "You answered Going for #1" in output and "RSVPs: going 1, interested 0, not going 0" in output
    path = tmp_path / "calendars" / "peerbot-event-1.ics"
    assert f"Calendar file written: {path}" in output
    assert path.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")


async def test_bad_input_is_explained_and_nothing_created(services: Services) -> None:
    output = await converse(
        services,
        "/event create", "Title", "1", "next tuesday-ish", "", "", "", "", "", "",
        "/event create", "Title", "1", "2026-12-03 15:00", "Mars/Base", "", "", "", "", "",
        "/event create", "Title", "1", "2026-12-03 15:00", "", "5000", "", "", "", "",
        "/event create", "Title", "1", "2026-12-03 15:00", "", "", "mailto:me@example.org", "", "", "",
        "/events", "/rsvp 9 going", "/rsvp 1 maybe", "/events show x", "/event create", "Half",
    )  # fmt: skip
    assert "couldn't read the start 'next tuesday-ish'. Use 2026-11-03 15:00" in output  # NOW's next Tuesday
    assert "Unknown time zone 'Mars/Base'" in output
    assert "from 1 to 1440 minutes" in output
    assert "http:// or https://" in output
    assert output.count("No event created. Try /event create again.") == 4
    assert "No upcoming events" in output
    assert "There is no event 9" in output and "Usage: /events list, /events show ID" in output
    assert "No event created: the input ended." in output


async def test_cancel_then_rsvp_is_polite(services: Services) -> None:
    output = await converse(
        services, "/event create", *CREATE_ANSWERS, "", "weekly", "2", "3", "",
        "/event cancel 1", "/event cancel 1 series", "/rsvp 1 going", "/event cancel 1",
    )  # fmt: skip
    assert "Series: occurrence 1 of 3, every 2 weeks on Thursday, 3 times" in output  # the announcement
    assert "Cancelled occurrence 1 of #1" in output and "Cancelled the whole event of #1" in output
    assert "was cancelled, so it no longer takes RSVPs" in output
    assert "This event is already cancelled." in output


async def test_edit_keeps_what_is_left_empty(services: Services) -> None:
    output = await converse(
        services, "/event create", *CREATE_ANSWERS, "", "", "",
        "/event edit 1", "New name", "", "", "", "", "", "",
    )  # fmt: skip
    assert (
        "Event #1 updated" in output
        and "== #1 New name ==" in output
        and "Theme: Cities after COVID-19" in output
    )


async def test_announcement_reminder_and_start_print_when_due(live_services: Services) -> None:
    output = await converse(
        live_services, "/event create", "Quick sync", "2", later(2.5), "UTC", "", "", "", "", "1s",
        "/rsvp 1 going",
        pause=3.6,
    )  # fmt: skip
    assert "[announcement] New event #1: Quick sync" in output
    assert output.count("[reminder] Quick sync starts in 1s") == 1
    assert output.count("[reminder for you] Quick sync") == 1
    assert output.count("[starting now] Quick sync") == 1
    assert "-- event 1 · starting now · job" in output


async def test_the_start_example_is_always_in_the_future(services: Services) -> None:
    """The prompt's example is computed from the clock: typing it creates the event, never 'in the past'."""
    output = await converse(services, "/event create", "Title", "1")
    prompt = output.split("Start (e.g. ", 1)[1]
    example = prompt.split("): ", 1)[0]
    assert example == "2026-11-03 15:00"  # the Tuesday after NOW (a Monday), in the server's zone (UTC)
    created = await converse(services, "/event create", "Title", "1", example, "", "", "", "", "", "")
    assert "Event #1 created: Title, Tue 2026-11-03 15:00" in created
