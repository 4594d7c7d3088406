"""The events cog, its Discord sender and RSVP buttons, with discord objects mocked from real classes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock, PropertyMock

import discord
import pytest

from peerbot.config import Settings
from peerbot.core.events import Choice, EventError, draft_event
from peerbot.core.scheduler import DeliveryReceipt, PermanentDeliveryError, TransientDeliveryError
from peerbot.core.services import Services
from peerbot.discord.bot import PeerBot
from peerbot.discord.cogs.events import EventsCog, zone_choices
from peerbot.discord.event_delivery import DiscordEventSender, classify
from peerbot.discord.event_embeds import event_embed, job_message
from peerbot.discord.event_views import RsvpButton

BOT_ID = 999
GUILD_ID = 4242


def http_error(kind: type[discord.HTTPException], status: int) -> discord.HTTPException:
    response = MagicMock(status=status, reason="x")
    return kind(response, {"message": "nope", "code": 0})


@pytest.fixture
async def bot(tmp_path: Path, sample_dir: Path) -> AsyncIterator[PeerBot]:
    settings = Settings.from_env(
        {"PEERBOT_KNOWLEDGE_DIR": str(sample_dir), "PEERBOT_DATA_DIR": str(tmp_path)}
    )
    services = await Services.open(settings.knowledge_dir, settings.database_path)
    peerbot = PeerBot(settings, services)
    type(peerbot).user = PropertyMock(return_value=MagicMock(spec=discord.ClientUser, id=BOT_ID))
    yield peerbot
    del type(peerbot).user
    await services.close()


async def make_event(bot: PeerBot, title: str = "PLP **meetup** @everyone"):
    now = datetime.now(UTC)
    draft = draft_event(
        title=title, theme="Women in the SSE", start=(now + timedelta(hours=2)).isoformat(), timezone="UTC",
        default_timezone="UTC", now=now, description="<@123456789012345678> welcome",
    )  # fmt: skip
    return await bot.services.events.create(draft, guild_id=GUILD_ID, channel_id=77, created_by=1)


def test_errors_are_sorted_for_the_scheduler() -> None:
    assert isinstance(classify(http_error(discord.HTTPException, 429)), TransientDeliveryError)
    assert isinstance(classify(http_error(discord.DiscordServerError, 503)), TransientDeliveryError)
    assert isinstance(classify(http_error(discord.Forbidden, 403)), PermanentDeliveryError)
    assert isinstance(classify(http_error(discord.NotFound, 404)), PermanentDeliveryError)
    assert isinstance(classify(OSError("connection reset")), TransientDeliveryError)


async def test_embeds_show_member_text_literally_with_discord_timestamps(bot: PeerBot) -> None:
    event = await make_event(bot)
    embed = event_embed(event, event.occurrences[0])
    assert embed.title == "PLP \\*\\*meetup\\*\\* @\u200beveryone"
    assert embed.description == "<@\u200b123456789012345678> welcome"
    when = next(field.value for field in embed.fields if field.name == "When")
    stamp = int(event.occurrences[0].start.timestamp())
    assert when == f"<t:{stamp}:F> (<t:{stamp}:R>)"
    job = (await bot.services.events.jobs(event.id))[0]
    content, with_marker = job_message(job)
    assert "@everyone" not in content and with_marker.footer.text == job.marker


async def test_deliver_posts_with_buttons_and_find_delivered_reads_the_marker(bot: PeerBot) -> None:
    event = await make_event(bot)
    job = (await bot.services.events.jobs(event.id))[0]
    channel = MagicMock(spec=discord.TextChannel, id=77)
    posted = MagicMock(spec=discord.Message, id=555, channel=channel)
    channel.send = AsyncMock(return_value=posted)
    bot.get_channel = MagicMock(return_value=channel)
    bot.get_guild = MagicMock(return_value=None)  # not mirrored: no guild cached
    sender = DiscordEventSender(bot)
    receipt = await sender.deliver(job)
    assert (receipt.message_id, receipt.channel_id) == (555, 77)
    view = channel.send.await_args.kwargs["view"]
    assert [item.custom_id for item in view.children] == [
        f"peerbot:rsvp:{event.id}:{event.occurrences[0].id}:{choice}"
        for choice in ("going", "interested", "not_going")
    ]

    embed = channel.send.await_args.kwargs["embed"]
    mine = MagicMock(spec=discord.Message, id=555, embeds=[embed], channel=channel)
    mine.author = MagicMock(id=BOT_ID)

    async def history(limit: int):
        assert limit == 50
        yield mine

    channel.history = history
    found = await sender.find_delivered(job)
    assert found is not None and found.message_id == 555

    channel.send = AsyncMock(side_effect=http_error(discord.DiscordServerError, 503))
    with pytest.raises(TransientDeliveryError):
        await sender.deliver(job)
    channel.send = AsyncMock(side_effect=http_error(discord.Forbidden, 403))
    with pytest.raises(PermanentDeliveryError):
        await sender.deliver(job)


async def test_mirror_is_skipped_without_manage_events(bot: PeerBot, caplog) -> None:
    event = await make_event(bot)
    guild = MagicMock(spec=discord.Guild, id=GUILD_ID)
    guild.me = MagicMock(spec=discord.Member)
    guild.me.guild_permissions = discord.Permissions.none()
    guild.create_scheduled_event = AsyncMock()
    bot.get_guild = MagicMock(return_value=guild)
    with caplog.at_level(logging.INFO):
        await DiscordEventSender(bot).mirror(event, event.occurrences[0])
    guild.create_scheduled_event.assert_not_awaited()
    assert "No Manage Events permission" in caplog.text


def rsvp_click(bot: PeerBot, guild_id: int | None = GUILD_ID) -> MagicMock:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.client = bot
    interaction.guild_id = guild_id
    interaction.user = MagicMock(spec=discord.Member, id=10)
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.edit_message = AsyncMock()
    interaction.response.send_message = AsyncMock()
    interaction.followup = MagicMock(spec=discord.Webhook)
    interaction.followup.send = AsyncMock()
    return interaction


async def test_rsvp_button_counts_and_refuses_cancelled(bot: PeerBot) -> None:
    event = await make_event(bot)
    occurrence = event.occurrences[0]
    interaction = rsvp_click(bot)
    await RsvpButton(event.id, occurrence.id, Choice.GOING).callback(interaction)
    view = interaction.response.edit_message.await_args.kwargs["view"]
    assert [item.item.label for item in view.children] == ["Going (1)", "Interested (0)", "Not going (0)"]
    assert interaction.followup.send.await_args.kwargs["ephemeral"] is True

    await bot.services.events.cancel(event.id, guild_id=GUILD_ID)
    await RsvpButton(event.id, occurrence.id, Choice.INTERESTED).callback(interaction)
    text = interaction.response.send_message.await_args.args[0]
    assert "was cancelled" in text and interaction.response.send_message.await_args.kwargs["ephemeral"]


@pytest.mark.parametrize("guild_id", [GUILD_ID + 1, None])
async def test_an_rsvp_from_another_server_or_a_dm_is_not_counted(bot: PeerBot, guild_id: int | None) -> None:
    """A button's custom id copied (or forged) outside the event's server counts nothing."""
    event = await make_event(bot)
    occurrence = event.occurrences[0]
    interaction = rsvp_click(bot, guild_id)
    await RsvpButton(event.id, occurrence.id, Choice.GOING).callback(interaction)
    interaction.response.edit_message.assert_not_awaited()
    assert interaction.response.send_message.await_args.kwargs["ephemeral"] is True
    assert (await bot.services.events.counts(occurrence.id)).of(Choice.GOING) == 0


async def test_create_without_announcements_channel_says_how_to_set_it(bot: PeerBot) -> None:
    cog = EventsCog(bot)
    interaction = MagicMock(spec=discord.Interaction)
    interaction.guild = MagicMock(spec=discord.Guild, id=GUILD_ID)
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.send_message = AsyncMock()
    next_week = f"{datetime.now(UTC) + timedelta(days=7):%Y-%m-%d} 10:00"
    await cog.create.callback(cog, interaction, title="x", start=next_week)
    text = interaction.response.send_message.await_args.args[0]
    assert "/setup announcements_channel:#channel" in text


def test_timezone_autocomplete() -> None:
    names = [choice.value for choice in zone_choices("paris")]
    assert names[0] == "Europe/Paris"
    assert len(zone_choices("")) == 25


async def test_bad_rsvp_value_is_an_event_error() -> None:
    with pytest.raises(EventError):
        Choice.parse("maybe")


async def test_every_attempt_of_a_job_sends_the_same_nonce(bot: PeerBot) -> None:
    """Discord returns the first message for a repeated nonce: a retry after a 5xx cannot double it."""
    event = await make_event(bot)
    announce, reminder = (await bot.services.events.jobs(event.id))[:2]
    channel = MagicMock(spec=discord.TextChannel, id=77)
    channel.send = AsyncMock(return_value=MagicMock(spec=discord.Message, id=555, channel=channel))
    bot.get_channel = MagicMock(return_value=channel)
    bot.get_guild = MagicMock(return_value=None)
    sender = DiscordEventSender(bot)
    await sender.deliver(announce)
    await sender.deliver(announce)  # the scheduler's retry (or a restart) of the same job
    await sender.deliver(reminder)
    nonces = [call.kwargs.get("nonce") for call in channel.send.await_args_list]
    assert nonces[0] is not None and nonces[0] == nonces[1] != nonces[2]
    assert all(isinstance(nonce, str) and len(nonce) <= 25 for nonce in nonces)  # Discord's limit
    # discord.py asks Discord to enforce a nonce it is given, so the duplicate is refused server-side.
    assert discord.http.handle_message_parameters(nonce=nonces[0]).payload["enforce_nonce"] is True


async def test_a_recovered_announcement_gets_its_scheduled_event(bot: PeerBot) -> None:
    """Found by its marker after a crash: mirrored like a normal announcement (Manage Events)."""
    event = await make_event(bot)
    announce = (await bot.services.events.jobs(event.id))[0]
    guild = MagicMock(spec=discord.Guild, id=GUILD_ID)
    guild.me = MagicMock(spec=discord.Member)
    guild.me.guild_permissions = discord.Permissions(manage_events=True)
    guild.create_scheduled_event = AsyncMock(return_value=MagicMock(spec=discord.ScheduledEvent, id=9001))
    bot.get_guild = MagicMock(return_value=guild)
    await DiscordEventSender(bot).finish_recovered(announce, DeliveryReceipt(555, 77))
    guild.create_scheduled_event.assert_awaited_once()
    assert guild.create_scheduled_event.await_args.kwargs["name"] == event.title
    stored = await bot.services.events.get(event.id)
    assert stored.occurrences[0].scheduled_event_id == 9001
