"""The scheduler's Discord sender: posts jobs to the announcements channel or by DM, and mirrors
occurrences as Discord Guild Scheduled Events when the bot may manage events.

Discord errors are sorted for the scheduler: rate limits, 5xx and network failures are transient
(retried with backoff), a missing channel or a refusal is permanent (recorded as failed and logged).

Every attempt of one job carries the same message nonce, which Discord enforces: a 5xx answered after
Discord created the message, then retried (by discord.py or by the scheduler), returns that message
instead of posting it again. The marker in the footer still catches what a nonce cannot (a restart
after Discord's few minutes of nonce memory).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import TYPE_CHECKING

import aiohttp
import discord

from peerbot.core.events import Event, Job, JobKind, Occurrence
from peerbot.core.scheduler import DeliveryReceipt, PermanentDeliveryError, TransientDeliveryError
from peerbot.discord.event_embeds import event_embed, job_message
from peerbot.discord.event_views import rsvp_view
from peerbot.discord.markers import HISTORY_LIMIT, find_marked

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)


def classify(exc: BaseException) -> Exception:
    """The scheduler's view of a failed Discord call."""
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        return PermanentDeliveryError(f"{exc.status} {exc.text or type(exc).__name__}")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429 or exc.status >= 500:
            return TransientDeliveryError(f"{exc.status} {exc.text}")
        return PermanentDeliveryError(f"{exc.status} {exc.text}")
    return TransientDeliveryError(f"{type(exc).__name__}: {exc}")


_DISCORD_ERRORS = (discord.HTTPException, aiohttp.ClientError, OSError, asyncio.TimeoutError)
NONCE_LENGTH = 25  # Discord's limit for a message nonce


def delivery_nonce(job: Job) -> str:
    """The same for every attempt of ``job``, across retries and restarts, and for no other job.

    The event's creation time is in it, so a database started afresh (job ids counted from 1 again)
    never collides with a message the old one posted minutes before.
    """
    identity = f"{job.id}|{job.event.id}|{job.kind.value}|{job.member_id}|{job.event.created_at.isoformat()}"
    return "pb" + hashlib.sha256(identity.encode()).hexdigest()[: NONCE_LENGTH - 2]


class DiscordEventSender:
    """Implements :class:`peerbot.core.scheduler.Sender` for Discord."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    async def _target(self, job: Job) -> discord.abc.Messageable:
        if job.kind is JobKind.REMINDER_DM:
            if job.member_id is None:
                raise PermanentDeliveryError("the member erased their data")
            user = self.bot.get_user(job.member_id) or await self.bot.fetch_user(job.member_id)
            return user.dm_channel or await user.create_dm()
        if job.event.channel_id is None:
            raise PermanentDeliveryError("the event has no announcements channel")
        channel = self.bot.get_channel(job.event.channel_id) or await self.bot.fetch_channel(
            job.event.channel_id
        )
        if not isinstance(channel, discord.abc.Messageable):
            raise PermanentDeliveryError(f"channel {job.event.channel_id} cannot hold messages")
        return channel

    async def deliver(self, job: Job) -> DeliveryReceipt:
        try:
            target = await self._target(job)
            content, embed = job_message(job)
            kwargs: dict = {"content": content, "embed": embed}
            if job.kind is JobKind.ANNOUNCE:
                counts = await self.bot.services.events.counts(job.occurrence.id)
                kwargs["view"] = rsvp_view(job.event.id, job.occurrence.id, counts)
            # discord.py sends enforce_nonce with a nonce it is given: Discord deduplicates retries.
            message = await target.send(nonce=delivery_nonce(job), **kwargs)
        except (PermanentDeliveryError, TransientDeliveryError):
            raise
        except _DISCORD_ERRORS as exc:
            raise classify(exc) from exc
        receipt = DeliveryReceipt(message.id, message.channel.id)
        await self._after_posted(job)
        return receipt

    async def finish_recovered(self, job: Job, receipt: DeliveryReceipt) -> None:
        """A message found by its marker after a crash: do what posting it would have done next."""
        log.info("Finishing %s, found in the channel after a restart", job.marker)
        await self._after_posted(job)

    async def _after_posted(self, job: Job) -> None:
        """Best effort once the message exists; must not make the scheduler send it again."""
        if job.kind is JobKind.ANNOUNCE:
            await self.mirror(job.event, job.occurrence)
        if job.kind is JobKind.CANCELLED:
            await self.show_cancelled(job.event)

    async def find_delivered(self, job: Job) -> DeliveryReceipt | None:
        try:
            target = await self._target(job)
            author = self.bot.user.id if self.bot.user is not None else None
            message = await find_marked(target, job.marker, author_id=author, limit=HISTORY_LIMIT)
        except (PermanentDeliveryError, TransientDeliveryError):
            raise
        except _DISCORD_ERRORS as exc:
            raise classify(exc) from exc
        return DeliveryReceipt(message.id, message.channel.id) if message is not None else None

    # -- keeping what was posted in step -----------------------------------------------------------------

    async def refresh_announcements(self, event: Event) -> None:
        """Edit every posted announcement of the event (after /event edit or a cancellation)."""
        store = self.bot.services.events
        markers = {
            job.occurrence.id: job.marker
            for job in await store.jobs(event.id)
            if job.kind is JobKind.ANNOUNCE and job.sent_message_id
        }
        for occurrence in event.occurrences:
            if occurrence.message_id is None or occurrence.message_channel_id is None:
                continue
            cancelled = event.cancelled or occurrence.cancelled
            counts = await store.counts(occurrence.id)
            try:
                channel = self.bot.get_channel(occurrence.message_channel_id)
                if channel is None or not isinstance(channel, discord.TextChannel):
                    continue
                await channel.get_partial_message(occurrence.message_id).edit(
                    embed=event_embed(event, occurrence, footer=markers.get(occurrence.id)),
                    view=rsvp_view(event.id, occurrence.id, counts, disabled=cancelled),
                )
            except _DISCORD_ERRORS as exc:
                log.warning("Could not update the announcement of event %s: %s", event.id, exc)

    async def show_cancelled(self, event: Event) -> None:
        await self.refresh_announcements(event)
        for occurrence in event.occurrences:
            if occurrence.cancelled or event.cancelled:
                await self.unmirror(event, occurrence)

    # -- Discord Guild Scheduled Events ----------------------------------------------------------------

    def _guild_for_mirror(self, event: Event) -> discord.Guild | None:
        guild = self.bot.get_guild(event.guild_id)
        if guild is None:
            return None
        if not guild.me.guild_permissions.manage_events:
            log.info("No Manage Events permission in guild %s: event %s is not mirrored", guild.id, event.id)
            return None
        return guild

    def _mirror_fields(self, event: Event, occurrence: Occurrence) -> dict:
        description = event.description or f"Theme: {event.theme}"
        return {
            "name": event.title[:100],
            "description": description[:1000],
            "start_time": occurrence.start,
            "end_time": occurrence.end,
            "location": (event.link or "Discord")[:100],
        }

    async def mirror(self, event: Event, occurrence: Occurrence) -> None:
        """Create or update the occurrence's Guild Scheduled Event; skipped without the permission."""
        guild = self._guild_for_mirror(event)
        if guild is None or occurrence.cancelled:
            return
        fields = self._mirror_fields(event, occurrence)
        try:
            if occurrence.scheduled_event_id is None:
                created = await guild.create_scheduled_event(
                    entity_type=discord.EntityType.external,
                    privacy_level=discord.PrivacyLevel.guild_only,
                    **fields,
                )
                await self.bot.services.events.set_scheduled_event(occurrence.id, created.id)
                log.info(
                    "Event %s occurrence %s mirrored as scheduled event %s",
                    event.id,
                    occurrence.number,
                    created.id,
                )
            else:
                scheduled = guild.get_scheduled_event(
                    occurrence.scheduled_event_id
                ) or await guild.fetch_scheduled_event(occurrence.scheduled_event_id)
                await scheduled.edit(**fields)
        except _DISCORD_ERRORS as exc:
            log.warning("Could not mirror event %s as a scheduled event: %s", event.id, exc)

    async def unmirror(self, event: Event, occurrence: Occurrence) -> None:
        guild = self._guild_for_mirror(event)
        if guild is None or occurrence.scheduled_event_id is None:
            return
        try:
            scheduled = guild.get_scheduled_event(
                occurrence.scheduled_event_id
            ) or await guild.fetch_scheduled_event(occurrence.scheduled_event_id)
            await scheduled.delete()
            await self.bot.services.events.set_scheduled_event(occurrence.id, None)
        except _DISCORD_ERRORS as exc:
            log.warning("Could not remove the scheduled event of event %s: %s", event.id, exc)

    async def sync_mirrors(self, event: Event) -> None:
        for occurrence in event.occurrences:
            if occurrence.scheduled_event_id is not None:
                await self.mirror(event, occurrence)
