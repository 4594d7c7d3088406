"""/event create|edit|cancel (editors), /events list|show|ics and /rsvp in the terminal, as in Discord,
and the scheduler that prints announcements and reminders while the chat runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from peerbot.console.event_text import ConsoleEventSender, event_text, local_time
from peerbot.core.events import (
    THEMES,
    Choice,
    EventError,
    draft_event,
    example_start,
    format_offset,
    until_example,
)
from peerbot.core.ics import event_calendar, filename
from peerbot.core.permissions import editor_refusal, is_editor
from peerbot.core.scheduler import AnnouncementScheduler

if TYPE_CHECKING:
    from peerbot.console.chat import ConsoleChat

USAGE = "Usage: /event create, /event edit ID, /event cancel ID [series] (editors)"
EVENTS_USAGE = "Usage: /events list, /events show ID, /events ics ID"
RSVP_USAGE = "Usage: /rsvp ID going|interested|not-going"


class _NoInput(Exception):
    """The input ended in the middle of a question."""


async def _ask(chat: ConsoleChat, prompt: str) -> str:
    answer = await chat.read_line(prompt)
    if answer is None:
        raise _NoInput
    return answer.strip()


def _event_id(text: str) -> int | None:
    text = text.strip().lstrip("#")
    return int(text) if text.isdigit() else None


async def _editor(chat: ConsoleChat) -> bool:
    settings = await chat.services.guild_settings.get(chat.guild_id)
    if is_editor(chat.actor, settings):
        return True
    chat.write(editor_refusal(None))
    return False


async def create(chat: ConsoleChat) -> None:
    if not await _editor(chat):
        return
    settings = await chat.services.guild_settings.get(chat.guild_id)
    themes = "\n".join(f"  {number}) {theme}" for number, theme in enumerate(THEMES, start=1))
    defaults = ",".join(format_offset(offset) for offset in chat.services.events.settings.reminders)
    try:
        title = await _ask(chat, "Title: ")
        chat.write(f"Themes:\n{themes}")
        theme = await _ask(chat, "Theme (a number, or your own words): ")
        if theme.isdigit() and 1 <= int(theme) <= len(THEMES):
            theme = THEMES[int(theme) - 1]
        example = example_start(settings.timezone, chat.services.clock())
        start = await _ask(chat, f"Start (e.g. {example:%Y-%m-%d %H:%M}): ")
        timezone = await _ask(chat, f"Time zone [{settings.timezone}]: ")
        duration = await _ask(chat, "Duration in minutes [60]: ")
        link = await _ask(chat, "Link (http/https, optional): ")
        description = await _ask(chat, "Description (optional): ")
        repeat = await _ask(chat, "Repeat weekly or monthly (empty: once): ")
        every = count = until = ""
        if repeat:
            if repeat.lower() == "weekly":
                every = await _ask(chat, "Every how many weeks [1]: ")
            count = await _ask(chat, "How many occurrences [10]: ")
            if not count:
                last = until_example(settings.timezone, chat.services.clock())
                until = await _ask(chat, f"Or until which date (e.g. {last}, optional): ")
        reminders = await _ask(chat, f"Reminders before the start [{defaults or 'none'}]: ")
    except _NoInput:
        chat.write("No event created: the input ended.")
        return
    try:
        draft = draft_event(
            title=title, theme=theme, start=start, timezone=timezone, default_timezone=settings.timezone,
            now=chat.services.clock(), duration=duration, link=link, description=description, repeat=repeat,
            every=every, count=count, until=until, reminders=reminders,
        )  # fmt: skip
    except EventError as exc:
        chat.write(f"{exc}\nNo event created. Try /event create again.")
        return
    event = await chat.services.events.create(
        draft, guild_id=chat.guild_id, channel_id=None, created_by=chat.actor.member_id
    )
    chat.write(f"Event #{event.id} created: {event.title}, {local_time(event.start, event)}.")


async def show(chat: ConsoleChat, event_id: int) -> None:
    store = chat.services.events
    event = await store.require(event_id, guild_id=chat.guild_id)
    occurrence = event.next_occurrence(chat.services.clock()) or (
        event.occurrences[-1] if event.occurrences else None
    )
    counts = await store.counts(occurrence.id) if occurrence else None
    chat.write(event_text(event, occurrence, counts))


async def edit(chat: ConsoleChat, event_id: int) -> None:
    if not await _editor(chat):
        return
    event = await chat.services.events.require(event_id, guild_id=chat.guild_id)
    chat.write(f"Editing #{event.id} {event.title}. Press Enter to keep a value.")
    try:
        changes = {
            "title": await _ask(chat, f"Title [{event.title}]: "),
            "theme": await _ask(chat, f"Theme [{event.theme}]: "),
            "start": await _ask(chat, f"Start [{event.start.astimezone(event.zone):%Y-%m-%d %H:%M}]: "),
            "timezone": await _ask(chat, f"Time zone [{event.timezone}]: "),
            "duration": await _ask(chat, f"Duration in minutes [{event.duration_minutes}]: "),
            "link": await _ask(chat, f"Link [{event.link or ''}]: "),
            "description": await _ask(chat, "Description [unchanged]: "),
        }
    except _NoInput:
        chat.write("Nothing changed: the input ended.")
        return
    edited = await chat.services.events.edit(
        event_id, guild_id=chat.guild_id, **{key: value or None for key, value in changes.items()}
    )
    summary = event_text(edited, edited.next_occurrence(chat.services.clock()))
    chat.write(f"Event #{edited.id} updated; its reminders follow.\n{summary}")


async def cancel(chat: ConsoleChat, event_id: int, rest: str) -> None:
    if not await _editor(chat):
        return
    whole = rest.strip().lower() in {"series", "all", "whole", "whole series"}
    event, occurrences = await chat.services.events.cancel(
        event_id, guild_id=chat.guild_id, whole_series=whole
    )
    what = "the whole event" if event.cancelled else f"occurrence {occurrences[0].number}"
    chat.write(f"Cancelled {what} of #{event.id} ({event.title}).")


async def ics(chat: ConsoleChat, event_id: int) -> None:
    event = await chat.services.events.require(event_id, guild_id=chat.guild_id)
    folder = chat.services.database.path.parent / "calendars"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename(event)
    path.write_bytes(event_calendar(event, now=chat.services.clock()).encode("utf-8"))
    chat.write(
        f"Calendar file written: {path}\n"
        "Import it in your calendar app (e.g. Google Calendar: Settings > Import)."
    )


async def event_command(chat: ConsoleChat, rest: str) -> None:
    """The editors' group, as /event in Discord."""
    sub, _, argument = rest.strip().partition(" ")
    sub = sub.lower()
    if sub == "create":
        await create(chat)
        return
    if sub in ("show", "ics", "list"):  # the members' commands are under /events, as in Discord
        chat.write(f"That is /events {sub}. {EVENTS_USAGE}")
        return
    id_text, _, more = argument.strip().partition(" ")
    event_id = _event_id(id_text)
    if sub not in ("edit", "cancel") or event_id is None:
        chat.write(USAGE)
        return
    try:
        if sub == "edit":
            await edit(chat, event_id)
        else:
            await cancel(chat, event_id, more)
    except EventError as exc:
        chat.write(str(exc))


async def events_command(chat: ConsoleChat, rest: str) -> None:
    """The members' group, as /events in Discord (alone, it lists: the terminal has no command menu)."""
    sub, _, argument = rest.strip().partition(" ")
    sub = sub.lower() or "list"
    if sub == "list":
        await list_events(chat)
        return
    event_id = _event_id(argument.strip().partition(" ")[0])
    if sub not in ("show", "ics") or event_id is None:
        chat.write(EVENTS_USAGE)
        return
    try:
        await (show if sub == "show" else ics)(chat, event_id)
    except EventError as exc:
        chat.write(str(exc))


async def list_events(chat: ConsoleChat) -> None:
    now = chat.services.clock()
    upcoming = await chat.services.events.upcoming(chat.guild_id, now=now)
    if not upcoming:
        chat.write("No upcoming events. Editors can add one with /event create.")
        return
    lines = ["Upcoming events:"]
    for event in upcoming:
        occurrence = event.next_occurrence(now)
        if occurrence is not None:
            lines.append(f"  #{event.id} {event.title} [{event.theme}] {local_time(occurrence.start, event)}")
    chat.write("\n".join(lines))


async def rsvp_command(chat: ConsoleChat, rest: str) -> None:
    id_text, _, answer = rest.strip().partition(" ")
    event_id = _event_id(id_text)
    if event_id is None or not answer.strip():
        chat.write(RSVP_USAGE)
        return
    try:
        choice = Choice.parse(answer)
        event = await chat.services.events.require(event_id, guild_id=chat.guild_id)
        _, occurrence, counts = await chat.services.events.rsvp(event.id, None, chat.actor.member_id, choice)
    except EventError as exc:
        chat.write(str(exc))
        return
    chat.write(
        f"You answered {choice.label} for #{event.id} {event.title} "
        f"on {local_time(occurrence.start, event)}. "
        f"Going {counts.going}, interested {counts.interested}, not going {counts.not_going}."
    )


def register(chat: ConsoleChat) -> None:
    chat.add_command("event", event_command)
    chat.add_command("events", events_command)
    chat.add_command("rsvp", rsvp_command)
    scheduler = AnnouncementScheduler(
        chat.services.events, ConsoleEventSender(chat), clock=chat.services.clock, only_guild=chat.guild_id
    )
    chat.add_background(scheduler.start, scheduler.stop)
