"""Thematic events: /event create|edit|cancel for editors, /events list|show|ics for members, RSVP
buttons, and the scheduler.

The cog is a thin adapter: validation, storage and timing live in ``peerbot.core.events`` and
``peerbot.core.scheduler``; this module turns options into calls and results into messages.

Two top-level groups because Discord applies a default permission to a whole top-level command:
``/event`` defaults to Manage Server, so Discord hides it from members (owners can grant it to the
editor role in Server Settings > Integrations), and the bot's own check (``editor_only``) stays.
``/events`` is for everyone.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from peerbot.core.events import START_FORMAT, THEMES, EventError, draft_event
from peerbot.core.guild_settings import missing_channel_message, suggest_timezones
from peerbot.core.ics import event_calendar, filename
from peerbot.core.scheduler import AnnouncementScheduler
from peerbot.discord.checks import actor_of, editor_only
from peerbot.discord.event_delivery import DiscordEventSender
from peerbot.discord.event_embeds import event_embed, events_list_embed, literal
from peerbot.discord.event_views import RsvpButton, rsvp_view

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)

THEME_CHOICES = [app_commands.Choice(name=theme, value=theme) for theme in THEMES]
REPEAT_CHOICES = [app_commands.Choice(name=kind, value=kind) for kind in ("weekly", "monthly")]


def zone_choices(current: str, limit: int = 25) -> list[app_commands.Choice[str]]:
    """IANA names containing what was typed ("paris" -> Europe/Paris), best matches first."""
    return [app_commands.Choice(name=name, value=name) for name in suggest_timezones(current, limit)]


class EventsCog(commands.Cog, name="Events"):
    """Events members can answer, with reminders delivered exactly once, also across restarts."""

    event = app_commands.Group(
        name="event",
        description="Announce, change or cancel thematic events (editors)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    events = app_commands.Group(name="events", description="Thematic events", guild_only=True)

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.store = bot.services.events
        self.sender = DiscordEventSender(bot)
        self.scheduler = AnnouncementScheduler(
            self.store, self.sender, grace=bot.settings.events.grace, clock=bot.services.clock
        )
        self._starter: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self._starter = asyncio.create_task(self._start_when_ready())

    async def _start_when_ready(self) -> None:
        await self.bot.wait_until_ready()  # channels must be known before anything is posted
        self.scheduler.start()

    async def cog_unload(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
        await self.scheduler.stop()

    # -- commands ----------------------------------------------------------------------------------------

    @event.command(name="create", description="Announce an event (editors)")
    @app_commands.describe(
        title="What the event is called (at most 100 characters)",
        start=f"Start as {START_FORMAT} (in the time zone) or ISO 8601",
        theme="One of the PLP themes",
        custom_theme="Or any other theme, in your words",
        timezone="IANA time zone of the start, e.g. Europe/Paris (default: the server's)",
        duration="Length in minutes (1-1440, default 60)",
        link="Where to join (http:// or https://)",
        description="What it is about",
        repeat="Repeat weekly or monthly (on the same weekday of the month)",
        every="Weekly series: every N weeks (default 1)",
        count="Series: how many occurrences (default 10, at most 52)",
        until="Series: last date, as YYYY-MM-DD",
        reminders="Reminders before the start, e.g. 24h,1h or 30m, or none (default: the server's)",
    )
    @app_commands.choices(theme=THEME_CHOICES, repeat=REPEAT_CHOICES)
    @editor_only()
    async def create(
        self,
        interaction: discord.Interaction[PeerBot],
        title: str,
        start: str,
        theme: app_commands.Choice[str] | None = None,
        custom_theme: str | None = None,
        timezone: str | None = None,
        duration: int | None = None,
        link: str | None = None,
        description: str | None = None,
        repeat: app_commands.Choice[str] | None = None,
        every: int | None = None,
        count: int | None = None,
        until: str | None = None,
        reminders: str | None = None,
    ) -> None:
        assert interaction.guild is not None
        settings = await self.bot.services.guild_settings.get(interaction.guild.id)
        channel_id = settings.announcements_channel_id
        if channel_id is None or interaction.guild.get_channel(channel_id) is None:
            await interaction.response.send_message(missing_channel_message("announcements"), ephemeral=True)
            return
        try:
            draft = draft_event(
                title=title,
                theme=custom_theme or (theme.value if theme else None),
                start=start,
                timezone=timezone,
                default_timezone=settings.timezone,
                now=self.bot.services.clock(),
                duration=duration,
                link=link,
                description=description,
                repeat=repeat.value if repeat else None,
                every=every,
                count=count,
                until=until,
                reminders=reminders,
            )
        except EventError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        created = await self.store.create(
            draft,
            guild_id=interaction.guild.id,
            channel_id=channel_id,
            created_by=actor_of(interaction).member_id,
        )
        first = created.occurrences[0].start
        series = f" ({len(created.occurrences)} occurrences)" if len(created.occurrences) > 1 else ""
        await interaction.response.send_message(
            f"Event **#{created.id}** created{series}: **{literal(created.title)}**, "
            f"<t:{int(first.timestamp())}:F>. I'm announcing it in <#{channel_id}>.",
            ephemeral=True,
        )

    @create.autocomplete("timezone")
    async def create_timezone(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return zone_choices(current)

    @events.command(name="show", description="Show one event and answer it")
    @app_commands.describe(id="The event's number (see /events list)")
    async def show(self, interaction: discord.Interaction[PeerBot], id: int) -> None:
        assert interaction.guild is not None
        try:
            found = await self.store.require(id, guild_id=interaction.guild.id)
        except EventError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        now = self.bot.services.clock()
        occurrence = found.next_occurrence(now) or (found.occurrences[-1] if found.occurrences else None)
        kwargs: dict = {"embed": event_embed(found, occurrence), "ephemeral": True}
        if (
            occurrence is not None
            and not found.cancelled
            and not occurrence.cancelled
            and occurrence.end > now
        ):
            kwargs["view"] = rsvp_view(found.id, occurrence.id, await self.store.counts(occurrence.id))
        await interaction.response.send_message(**kwargs)

    @event.command(
        name="edit", description="Change an event (editors): the announcement and reminders follow"
    )
    @app_commands.describe(
        id="The event's number (see /events list)",
        title="New title",
        start=f"New start as {START_FORMAT} (in the time zone) or ISO 8601",
        theme="New PLP theme",
        custom_theme="Or any other theme",
        timezone="New IANA time zone",
        duration="New length in minutes (1-1440)",
        link="New link (http:// or https://)",
        description="New description",
        reminders="New reminders, e.g. 24h,1h",
    )
    @app_commands.choices(theme=THEME_CHOICES)
    @editor_only()
    async def edit(
        self,
        interaction: discord.Interaction[PeerBot],
        id: int,
        title: str | None = None,
        start: str | None = None,
        theme: app_commands.Choice[str] | None = None,
        custom_theme: str | None = None,
        timezone: str | None = None,
        duration: int | None = None,
        link: str | None = None,
        description: str | None = None,
        reminders: str | None = None,
    ) -> None:
        assert interaction.guild is not None
        try:
            edited = await self.store.edit(
                id,
                guild_id=interaction.guild.id,
                title=title,
                start=start,
                theme=custom_theme or (theme.value if theme else None),
                timezone=timezone,
                duration=duration,
                link=link,
                description=description,
                reminders=reminders,
            )
        except EventError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        await interaction.response.send_message(
            f"Event **#{edited.id}** updated; its announcement and reminders follow.", ephemeral=True
        )
        await self.sender.refresh_announcements(edited)
        await self.sender.sync_mirrors(edited)

    @edit.autocomplete("timezone")
    async def edit_timezone(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return zone_choices(current)

    @event.command(name="cancel", description="Cancel an event or its next occurrence (editors)")
    @app_commands.describe(
        id="The event's number (see /events list)", whole_series="Cancel every remaining occurrence"
    )
    @editor_only()
    async def cancel(
        self, interaction: discord.Interaction[PeerBot], id: int, whole_series: bool = False
    ) -> None:
        assert interaction.guild is not None
        try:
            cancelled, occurrences = await self.store.cancel(
                id, guild_id=interaction.guild.id, whole_series=whole_series
            )
        except EventError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        what = "the whole event" if cancelled.cancelled else f"occurrence {occurrences[0].number}"
        await interaction.response.send_message(
            f"Cancelled {what} of **#{cancelled.id}** ({literal(cancelled.title)}). I'm announcing it.",
            ephemeral=True,
        )

    @events.command(name="ics", description="Get the event as a calendar file (.ics)")
    @app_commands.describe(id="The event's number (see /events list)")
    async def ics(self, interaction: discord.Interaction[PeerBot], id: int) -> None:
        assert interaction.guild is not None
        try:
            found = await self.store.require(id, guild_id=interaction.guild.id)
        except EventError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        data = event_calendar(found, now=self.bot.services.clock()).encode("utf-8")
        await interaction.response.send_message(
            "Open the file to add the event to your calendar (Google Calendar: Settings > Import).",
            file=discord.File(io.BytesIO(data), filename=filename(found)),
            ephemeral=True,
        )

    @events.command(name="list", description="Upcoming events, soonest first, with their numbers")
    async def list_events(self, interaction: discord.Interaction[PeerBot]) -> None:
        assert interaction.guild is not None
        now = self.bot.services.clock()
        upcoming = await self.store.upcoming(interaction.guild.id, now=now)
        await interaction.response.send_message(embed=events_list_embed(upcoming, now), ephemeral=True)


async def setup(bot: PeerBot) -> None:
    bot.add_dynamic_items(RsvpButton)
    await bot.add_cog(EventsCog(bot))
