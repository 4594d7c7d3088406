"""Thematic events through Discord: announcements, RSVPs, reminders on time, a restart in between.

The bot runs with reminders a few seconds before the start (PEERBOT_EVENT_REMINDERS=3s), so whole
event lifecycles fit in seconds. The server's announcements channel and editor role are written to
the database before the bot starts, as /setup would have left them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from conftest import BotProcess
from fake_discord import FakeDiscord, SentMessage

from peerbot.core.guild_settings import GuildSettingsStore
from peerbot.core.storage import Database

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

REMINDER_ENV = {"PEERBOT_EVENT_REMINDERS": "3s"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    directory = tmp_path_factory.mktemp("peerbot-events")
    database = await Database.open(directory / "data" / "peerbot.sqlite3")
    await GuildSettingsStore(database).update(
        fake.guild_id,
        announcements_channel_id=fake.channel("announcements").id,
        editor_role_id=fake.role("Editor").id,
        timezone="Europe/Paris",
    )
    await database.close()
    process = BotProcess(fake, directory, REMINDER_ENV, ready_log="Event scheduler started")
    try:
        await process.start()
        yield process
    finally:
        await process.stop()


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def footer(message: SentMessage) -> str:
    return message.embeds[0]["footer"]["text"] if message.embeds else ""


def with_marker(fake: FakeDiscord, text: str, channel: str | None = None) -> list[SentMessage]:
    found = fake.messages_in(channel) if channel else fake.messages
    return [m for m in found if text in footer(m) and not m.deleted]


async def create_event(fake: FakeDiscord, seconds: float, title: str, **extra) -> int:
    options = {"title": title, "start": soon(seconds), "theme": "Women in the SSE", **extra}
    handle = await fake.invoke_slash("event create", options, user="bob")
    reply = await handle.wait_for_message()
    assert reply.ephemeral and "created" in reply.content, reply.content
    return int(reply.content.split("**#", 1)[1].split("**", 1)[0])


async def test_announce_rsvp_reminders_and_start(fake: FakeDiscord, bot: BotProcess) -> None:
    event_id = await create_event(
        fake, 7, "PLP *meetup* @everyone", link="https://meet.example.org/plp", description="Bring <@1> ideas"
    )
    announcement = await fake.wait_for_message(
        lambda m: f"event {event_id} · announcement" in footer(m), channel="announcements"
    )
    embed = announcement.embeds[0]
    assert embed["title"] == "PLP \\*meetup\\* @\u200beveryone"  # literal, pings nobody
    when = next(field["value"] for field in embed["fields"] if field["name"] == "When")
    assert when.startswith("<t:") and ":F> (<t:" in when and when.endswith(":R>)")
    going = f"peerbot:rsvp:{event_id}:"
    ids = announcement.custom_ids()
    assert [i.rsplit(":", 1)[1] for i in ids] == ["going", "interested", "not_going"]
    assert all(i.startswith(going) for i in ids)

    clicked = await fake.click_button(announcement, ids[0], user="alice")
    await clicked.response()
    await fake.wait_for_message(lambda m: m.id == announcement.id and "Going (1)" in str(m.components))
    assert "Going (1)" in str(announcement.components)
    assert fake.state.scheduled_events, "mirrored as a Discord scheduled event (the bot has Manage Events)"

    fault = fake.fail_next("POST", "/channels/{channel_id}/messages", status=429, retry_after=0.3)
    reminder = await fake.wait_for_message(
        lambda m: f"event {event_id} · reminder 3s · job" in footer(m), channel="announcements", timeout=8
    )
    assert "starts <t:" in reminder.content and len(fault.hits) == 1
    dm = await fake.wait_for_message(
        lambda m: m.source == "dm" and f"event {event_id} · reminder 3s dm" in footer(m)
    )
    assert dm.channel_id == fake.state.dm_channel_for(fake.user("alice")).id
    await fake.wait_for_message(
        lambda m: f"event {event_id} · starting now" in footer(m), channel="announcements", timeout=8
    )
    assert len(with_marker(fake, f"event {event_id} · reminder 3s · job", "announcements")) == 1
    assert len(with_marker(fake, f"event {event_id} · reminder 3s dm")) == 1


async def test_restart_before_the_reminder_delivers_it_once(fake: FakeDiscord, bot: BotProcess) -> None:
    event_id = await create_event(fake, 9, "Restart-proof roundtable")
    announcement = await fake.wait_for_message(
        lambda m: f"event {event_id} · announcement" in footer(m), channel="announcements"
    )
    await bot.stop()
    await bot.start()
    # The buttons of the previous process still work.
    clicked = await fake.click_button(announcement, announcement.custom_ids()[1], user="carol")
    await clicked.response()
    await fake.wait_for_message(
        lambda m: f"event {event_id} · starting now" in footer(m), channel="announcements", timeout=12
    )
    await asyncio.sleep(0.3)
    assert bot.running is not None and f"Delivered event {event_id} · reminder 3s" in bot.running.log()
    assert len(with_marker(fake, f"event {event_id} · announcement", "announcements")) == 1
    assert len(with_marker(fake, f"event {event_id} · reminder 3s · job", "announcements")) == 1
    assert "Interested (1)" in str(announcement.components)


async def test_ics_attaches_a_calendar_file(fake: FakeDiscord, bot: BotProcess) -> None:
    event_id = await create_event(fake, 3600, "Calendar, please; now", repeat="weekly", count=3)
    reply = await (await fake.invoke_slash("events ics", {"id": event_id})).wait_for_message()
    (attachment,) = reply.files
    assert attachment.filename.endswith(".ics")
    text = attachment.data.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "RRULE:FREQ=WEEKLY" in text
    assert "SUMMARY:Calendar\\, please\\; now\r\n" in text


async def test_list_show_edit_and_cancel(fake: FakeDiscord, bot: BotProcess) -> None:
    event_id = await create_event(fake, 3600, "To be moved")
    announcement = await fake.wait_for_message(
        lambda m: f"event {event_id} · announcement" in footer(m), channel="announcements"
    )
    listed = await (await fake.invoke_slash("events list", user="alice")).wait_for_message()
    assert f"**#{event_id}** To be moved" in listed.embeds[0]["description"]
    edit = await fake.invoke_slash(
        "event edit", {"id": event_id, "title": "Moved", "duration": 90}, user="bob"
    )
    assert "updated" in (await edit.wait_for_message()).content
    await fake.wait_for_message(lambda m: m.id == announcement.id and m.embeds[0]["title"] == "Moved")
    shown = await (await fake.invoke_slash("events show", {"id": event_id})).wait_for_message()
    assert shown.embeds[0]["title"] == "Moved"

    cancel = await fake.invoke_slash("event cancel", {"id": event_id}, user="bob")
    assert "Cancelled" in (await cancel.wait_for_message()).content
    await fake.wait_for_message(
        lambda m: f"event {event_id} · cancelled" in footer(m) and m.content.startswith("❌"),
        channel="announcements",
    )
    late = await fake.invoke_slash("events show", {"id": event_id})
    assert "(cancelled)" in (await late.wait_for_message()).embeds[0]["title"]
    # RSVP on a cancelled event: polite, and the buttons of the announcement are disabled.
    rsvp = await fake.wait_for_message(
        lambda m: m.id == announcement.id and "cancelled" in m.embeds[0]["title"]
    )
    assert all(c.get("disabled") for row in rsvp.components for c in row["components"])


async def test_refusals_and_bad_input(fake: FakeDiscord, bot: BotProcess) -> None:
    refused = await fake.invoke_slash("event create", {"title": "Mine", "start": soon(600)}, user="alice")
    reply = await refused.response()
    assert (
        reply.ephemeral and "only editors" in reply.data["content"] and "**Editor**" in reply.data["content"]
    )
    for options, expected in [
        ({"start": "2020-01-01 10:00"}, "in the past"),
        ({"start": "next tuesday-ish"}, "couldn't read the start"),
        ({"start": soon(600), "timezone": "Mars/Base"}, "Unknown time zone"),
        ({"start": soon(600), "duration": 2000}, "1 to 1440"),
        ({"start": soon(600), "link": "ftp://x.org"}, "http://"),
        ({"start": soon(600), "title": "t" * 120}, "at most 100"),
    ]:
        handle = await fake.invoke_slash(
            "event create", {"title": "Bad", "theme": "Legal ecosystems", **options}, user="bob"
        )
        answer = await handle.wait_for_message()
        assert answer.ephemeral and expected in answer.content, (options, answer.content)
    choices = await fake.autocomplete("event create", {"title": "x", "start": "y"}, "timezone")
    assert "Europe/Paris" in [
        c["value"] for c in await fake.autocomplete("event create", {"timezone": "paris"}, "timezone")
    ]
    assert 1 <= len(choices) <= 25


async def test_nobody_pinged_and_no_errors(fake: FakeDiscord, bot: BotProcess) -> None:
    """Last: every message of the journeys above pinged nobody, and the bot logged no traceback."""
    sent = [m for m in fake.messages if m.source in {"channel", "dm", "interaction", "followup"}]
    assert len(sent) >= 10
    assert all(
        m.allowed_mentions is not None
        and m.allowed_mentions.get("parse") == []
        and not m.allowed_mentions.get("users")
        and not m.allowed_mentions.get("roles")
        for m in sent
    )
    assert fake.unknown_routes == []
    logs = "".join(path.read_text() for path in bot.directory.glob("peerbot-*.log"))
    assert "Traceback" not in logs and "ERROR" not in logs
