"""Introductions, /setup and /privacy handlers with discord objects mocked from their real classes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from peerbot.config import Settings
from peerbot.core.guild_settings import suggest_timezones as timezone_names
from peerbot.core.intros import IntroDraft
from peerbot.core.services import Services
from peerbot.discord.bot import PeerBot, intents
from peerbot.discord.checks import NotEditor, check_editor
from peerbot.discord.cogs.intros import WELCOME, IntroCog
from peerbot.discord.cogs.privacy import PrivacyCog
from peerbot.discord.cogs.setup import SetupCog
from peerbot.discord.intro_cards import publish_card
from peerbot.discord.intro_embeds import card_embed, literal
from peerbot.discord.intro_views import ConfirmView, IntroModal, PreviewView, open_intro_form

GUILD = 1
ALICE, BOB, CAROL = 10, 20, 30
CHANNEL = 500
DRAFT = IntroDraft(name="Alice", country="France", topics="impact measurement")


@pytest.fixture
async def bot(tmp_path: Path, sample_dir: Path) -> AsyncIterator[PeerBot]:
    settings = Settings.from_env(
        {"PEERBOT_KNOWLEDGE_DIR": str(sample_dir), "PEERBOT_DATA_DIR": str(tmp_path)}
    )
    services = await Services.open(settings.knowledge_dir, settings.database_path)
    peerbot = PeerBot(settings, services)
    channel = MagicMock(spec=discord.PartialMessageable)
    channel.send = AsyncMock(return_value=MagicMock(spec=discord.Message, id=900))
    partial = MagicMock(spec=discord.PartialMessage)
    partial.edit = AsyncMock()
    partial.delete = AsyncMock()
    channel.get_partial_message.return_value = partial
    peerbot.get_partial_messageable = MagicMock(return_value=channel)  # type: ignore[method-assign]
    yield peerbot
    await services.close()


def channel_of(bot: PeerBot) -> MagicMock:
    return bot.get_partial_messageable.return_value  # type: ignore[attr-defined]


def member(
    user_id: int, *, manage: bool = False, roles: tuple[int, ...] = (), name: str = "Alice"
) -> MagicMock:
    user = MagicMock(spec=discord.Member, id=user_id, display_name=name, bot=False)
    user.roles = [MagicMock(spec=discord.Role, id=role) for role in roles]
    user.guild_permissions = MagicMock(spec=discord.Permissions, manage_guild=manage)
    return user


def interaction(bot: PeerBot, user: MagicMock | None = None) -> MagicMock:
    inter = MagicMock(spec=discord.Interaction)
    inter.client = bot
    inter.user = user or member(ALICE)
    inter.guild = MagicMock(spec=discord.Guild, id=GUILD)
    inter.guild.get_role.return_value = None
    inter.guild_id = GUILD
    inter.response = MagicMock(spec=discord.InteractionResponse)
    for name in ("send_message", "send_modal", "edit_message", "defer"):
        setattr(inter.response, name, AsyncMock())
    inter.response.is_done.return_value = False
    inter.followup = MagicMock(spec=discord.Webhook)
    inter.followup.send = AsyncMock()
    inter.edit_original_response = AsyncMock()
    return inter


async def set_channel(bot: PeerBot) -> None:
    await bot.services.guild_settings.update(GUILD, introductions_channel_id=CHANNEL)


def test_members_intent_is_asked_for() -> None:
    wanted = intents()
    assert wanted.members and wanted.message_content


def test_literal_escapes_markdown_and_mentions() -> None:
    assert literal("**x** _y_ @everyone @here <@123> <@&4> <#5>") == (
        "\\*\\*x\\*\\* \\_y\\_ @\u200beveryone @\u200bhere \\<@123> \\<@&4> \\<#5>"
    )
    assert literal("'; DROP TABLE introduction; --") == "'; DROP TABLE introduction; --"


def test_card_embed_escapes_every_member_field() -> None:
    draft = IntroDraft(
        name="**Bob**", country="<#1>", topics="__x__ @everyone", organisation="`code`", offer_seek="> quote"
    )
    embed = card_embed(draft, BOB)
    assert embed.title == "\\*\\*Bob\\*\\*"
    assert embed.description is not None and "\\_\\_x\\_\\_ @\u200beveryone" in embed.description
    assert embed.description.startswith(f"<@{BOB}>")
    assert {field.name: field.value for field in embed.fields} == {
        "Organisation": "\\`code\\`",
        "Country": "\\<#1>",
    }


async def test_form_needs_the_introductions_channel_first(bot: PeerBot) -> None:
    inter = interaction(bot)
    await open_intro_form(inter)
    text = inter.response.send_message.await_args.args[0]
    assert "/setup introductions_channel:#channel" in text
    inter.response.send_modal.assert_not_awaited()


async def test_form_shows_limits_and_is_prefilled_when_editing(bot: PeerBot) -> None:
    await set_channel(bot)
    await bot.services.intros.save(GUILD, ALICE, IntroDraft(name="Alice", country="France", topics="coops"))
    inter = interaction(bot)
    await open_intro_form(inter, "Impact Hub")
    modal = inter.response.send_modal.await_args.args[0]
    assert isinstance(modal, IntroModal) and modal.consortium == "Impact Hub"
    name, topics = modal.inputs["name"], modal.inputs["topics"]
    assert (name.min_length, name.max_length, name.default) == (1, 80, "Alice")
    assert topics.max_length == 300 and "1-300 characters" in (topics.placeholder or "")
    assert not modal.inputs["organisation"].required


async def test_overlong_fields_are_refused_naming_the_limit(bot: PeerBot) -> None:
    modal = IntroModal(None, None, owner_id=ALICE)
    for key, value in {"name": "n" * 81, "country": "France", "topics": " "}.items():
        modal.inputs[key]._value = value  # what a client that ignores max_length would send
    inter = interaction(bot)
    await modal.on_submit(inter)
    kwargs = inter.response.send_message.await_args.kwargs
    assert "Name is 81 characters; the limit is 80" in kwargs["content"]
    assert "What I work on is empty; give 1-300 characters" in kwargs["content"]
    assert kwargs["ephemeral"] and [item.custom_id for item in kwargs["view"].children] == [
        "peerbot:intro:edit"
    ]


async def test_a_valid_form_shows_a_private_preview_and_saves_nothing(bot: PeerBot) -> None:
    modal = IntroModal(None, "UpSocial / RRR", owner_id=ALICE)
    for key, value in {"name": "**Ann** <@1>", "country": "Chile", "topics": "housing"}.items():
        modal.inputs[key]._value = value
    inter = interaction(bot)
    await modal.on_submit(inter)
    kwargs = inter.response.send_message.await_args.kwargs
    assert kwargs["ephemeral"] and kwargs["embed"].title == "\\*\\*Ann\\*\\* \\<@1>"
    assert [item.custom_id for item in kwargs["view"].children] == [
        "peerbot:intro:post",
        "peerbot:intro:edit",
    ]
    assert await bot.services.intros.get(GUILD, ALICE) is None


async def test_post_saves_publishes_then_edits_the_same_card(bot: PeerBot) -> None:
    await set_channel(bot)
    view = PreviewView(ALICE, DRAFT, can_post=True)
    await view.post.callback(interaction(bot))
    intro = await bot.services.intros.get(GUILD, ALICE)
    assert intro is not None and intro.card == (CHANNEL, 900)
    channel = channel_of(bot)
    channel.send.assert_awaited_once()

    edited = PreviewView(ALICE, IntroDraft(name="Alice", country="France", topics="housing"), can_post=True)
    await edited.post.callback(interaction(bot))
    channel.send.assert_awaited_once()  # no second card
    embed = channel.get_partial_message.return_value.edit.await_args.kwargs["embed"]
    assert "housing" in embed.description


async def test_a_deleted_card_is_posted_again(bot: PeerBot) -> None:
    await set_channel(bot)
    intro = await bot.services.intros.save(GUILD, ALICE, DRAFT)
    intro = await bot.services.intros.set_card(GUILD, ALICE, CHANNEL, 1)
    assert intro is not None
    response = MagicMock(status=404, reason="Not Found")
    channel_of(bot).get_partial_message.return_value.edit.side_effect = discord.NotFound(response, "gone")
    stored = await publish_card(bot, intro, CHANNEL)
    assert stored.card == (CHANNEL, 900)


async def test_deleting_someone_elses_intro_is_refused_with_the_reason(bot: PeerBot) -> None:
    await bot.services.intros.save(GUILD, BOB, DRAFT)
    cog = IntroCog(bot)
    inter = interaction(bot, member(ALICE))
    await cog.intro_delete.callback(cog, inter, member=member(BOB, name="Bob"))
    args, kwargs = inter.response.send_message.await_args
    assert args[0].startswith("Sorry, you can delete only your own introduction. Editors (members with")
    assert kwargs == {"ephemeral": True}
    assert await bot.services.intros.get(GUILD, BOB) is not None


async def test_an_editor_role_may_delete_anyones_after_confirming(bot: PeerBot) -> None:
    await bot.services.guild_settings.update(GUILD, editor_role_id=77)
    await bot.services.intros.save(GUILD, BOB, DRAFT)
    await bot.services.intros.set_card(GUILD, BOB, CHANNEL, 5)
    cog = IntroCog(bot)
    inter = interaction(bot, member(CAROL, roles=(77,)))
    await cog.intro_delete.callback(cog, inter, member=member(BOB, name="**Bob**"))
    kwargs = inter.response.send_message.await_args.kwargs
    assert "Delete \\*\\*Bob\\*\\*'s introduction" in inter.response.send_message.await_args.args[0]
    view = kwargs["view"]
    assert isinstance(view, ConfirmView)
    click = interaction(bot, member(CAROL, roles=(77,)))
    await view.confirm.callback(click)
    assert click.edit_original_response.await_args.kwargs["content"] == "Introduction deleted."
    channel_of(bot).get_partial_message.assert_called_with(5)
    channel_of(bot).get_partial_message.return_value.delete.assert_awaited_once()
    assert await bot.services.intros.get(GUILD, BOB) is None


async def test_confirm_buttons_belong_to_their_member(bot: PeerBot) -> None:
    view = ConfirmView(ALICE, AsyncMock(return_value="done"))
    stranger = interaction(bot, member(BOB))
    assert await view.interaction_check(stranger) is False
    assert "someone else" in stranger.response.send_message.await_args.args[0]


async def test_welcome_follows_the_setting(bot: PeerBot) -> None:
    cog = IntroCog(bot)
    newcomer = member(ALICE)
    newcomer.guild = MagicMock(spec=discord.Guild, id=GUILD)
    newcomer.mention = f"<@{ALICE}>"
    await cog.on_member_join(newcomer)  # no channel yet
    await set_channel(bot)
    await bot.services.guild_settings.update(GUILD, welcome_enabled=False)
    await cog.on_member_join(newcomer)
    channel_of(bot).send.assert_not_awaited()
    await bot.services.guild_settings.update(GUILD, welcome_enabled=True)
    await cog.on_member_join(newcomer)
    args, kwargs = channel_of(bot).send.await_args
    assert args[0] == WELCOME.format(mention=f"<@{ALICE}>")
    assert [item.custom_id for item in kwargs["view"].children] == ["peerbot:intro:start"]


async def test_leaving_keeps_by_default_and_erases_when_chosen(bot: PeerBot) -> None:
    cog = IntroCog(bot)
    await bot.services.intros.save(GUILD, ALICE, DRAFT)
    await bot.services.intros.set_card(GUILD, ALICE, CHANNEL, 5)
    payload = MagicMock(spec=discord.RawMemberRemoveEvent, guild_id=GUILD, user=member(ALICE))
    await cog.on_raw_member_remove(payload)
    assert await bot.services.intros.get(GUILD, ALICE) is not None
    await bot.services.guild_settings.update(GUILD, erase_on_leave=True)
    await cog.on_raw_member_remove(payload)
    assert await bot.services.intros.get(GUILD, ALICE) is None
    channel_of(bot).get_partial_message.return_value.delete.assert_awaited_once()


async def test_setup_is_for_editors(bot: PeerBot) -> None:
    assert check_editor in SetupCog.setup_command.checks
    with pytest.raises(NotEditor, match="only editors can do that"):
        await check_editor(interaction(bot, member(ALICE)))
    assert await check_editor(interaction(bot, member(CAROL, manage=True)))


async def test_setup_saves_shows_and_refuses_bad_time_zones(bot: PeerBot) -> None:
    cog = SetupCog(bot)
    inter = interaction(bot, member(CAROL, manage=True))
    await cog.setup_command.callback(cog, inter, timezone="Mars/Base")
    assert inter.response.send_message.await_args.args[0].startswith("Nothing was changed: Unknown time zone")
    role = MagicMock(spec=discord.Role, id=77)
    inter = interaction(bot, member(CAROL, manage=True))
    await cog.setup_command.callback(
        cog, inter, editor_role=role, welcome=False, timezone="america/mexico_city"
    )
    settings = await bot.services.guild_settings.get(GUILD)
    assert (settings.editor_role_id, settings.welcome_enabled, settings.timezone) == (
        77,
        False,
        "America/Mexico_City",
    )
    assert inter.followup.send.await_args.args[0] == "Settings saved."
    shown = interaction(bot, member(CAROL, manage=True))
    await cog.setup_command.callback(cog, shown)
    description = shown.response.send_message.await_args.kwargs["embed"].description
    assert "Time zone: America/Mexico_City" in description and "Welcome new members: off" in description


def test_timezone_autocomplete_offers_iana_names() -> None:
    assert timezone_names("paris")[0] == "Europe/Paris"
    assert timezone_names("new york")[0] == "America/New_York"
    assert len(timezone_names("")) == 25


async def test_privacy_show_and_forget_me_delete_the_cards_first(bot: PeerBot) -> None:
    await bot.services.intros.save(GUILD, ALICE, DRAFT)
    await bot.services.intros.set_card(GUILD, ALICE, CHANNEL, 5)
    cog = PrivacyCog(bot)
    inter = interaction(bot)
    await cog.privacy_show.callback(cog, inter)
    assert "Name: Alice" in inter.response.send_message.await_args.kwargs["embed"].description
    inter = interaction(bot)
    await cog.forget_me.callback(cog, inter)
    view = inter.response.send_message.await_args.kwargs["view"]
    click = interaction(bot)
    await view.confirm.callback(click)
    assert click.edit_original_response.await_args.kwargs["content"].startswith(
        "Done: erased introductions (1)"
    )
    channel_of(bot).get_partial_message.return_value.delete.assert_awaited_once()
    assert await bot.services.intros.cards_of(ALICE) == []


class Killed(BaseException):
    """PeerBot stopped by SIGKILL: nothing after this point runs."""


async def test_forget_me_deletes_a_card_that_a_crash_left_unrecorded(bot: PeerBot) -> None:
    await set_channel(bot)
    intro = await bot.services.intros.save(GUILD, ALICE, DRAFT)
    channel = channel_of(bot)
    sent: list[discord.Embed] = []

    async def accepted_then_killed(**kwargs: object) -> None:
        sent.append(kwargs["embed"])  # type: ignore[arg-type]
        raise Killed  # Discord has the card; PeerBot dies before saving its id

    channel.send = AsyncMock(side_effect=accepted_then_killed)
    with pytest.raises(Killed):
        await publish_card(bot, intro, CHANNEL)
    stray = MagicMock(spec=discord.Message, id=900, embeds=sent)
    stray.author = MagicMock(id=bot.user.id if bot.user else 0)

    async def history(limit: int) -> AsyncIterator[discord.Message]:
        yield stray

    channel.history = history
    outcome = await PrivacyCog(bot).forget(ALICE)
    assert outcome.startswith("Done: erased")
    channel.get_partial_message.assert_called_with(900)
    channel.get_partial_message.return_value.delete.assert_awaited_once()
