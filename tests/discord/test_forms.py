"""Forms bound to their member, answers for submits and clicks nothing took, and the permissions
Discord shows; with discord objects mocked from their real classes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from peerbot.config import Settings
from peerbot.core.knowledge import Entry
from peerbot.core.services import Services
from peerbot.discord import forms
from peerbot.discord.bot import PeerBot
from peerbot.discord.checks import NotEditor, check_editor
from peerbot.discord.cogs.events import EventsCog
from peerbot.discord.cogs.kb import KnowledgeCog
from peerbot.discord.cogs.setup import SetupCog
from peerbot.discord.intro_views import IntroModal
from peerbot.discord.kb_views import EntryModal

ALICE, CAROL = 10, 30
LARGEST_SNOWFLAKE = 2**64 - 1
LONG_ID = "rrr-" + "x" * 60  # 64 characters, longer than any id the loader accepts


@pytest.fixture
async def bot(tmp_path: Path, sample_dir: Path) -> AsyncIterator[PeerBot]:
    settings = Settings.from_env(
        {"PEERBOT_KNOWLEDGE_DIR": str(sample_dir), "PEERBOT_DATA_DIR": str(tmp_path)}
    )
    services = await Services.open(settings.knowledge_dir, settings.database_path)
    yield PeerBot(settings, services)
    await services.close()


def interaction(
    user_id: int, kind: discord.InteractionType, data: dict | None = None, bot: PeerBot | None = None
) -> MagicMock:
    inter = MagicMock(spec=discord.Interaction)
    inter.client = bot
    inter.id = 1
    inter.type = kind
    inter.data = data or {}
    inter.extras = {}
    inter.user = MagicMock(spec=discord.Member, id=user_id, display_name="Someone", bot=False)
    inter.user.roles = []
    inter.user.guild_permissions = MagicMock(spec=discord.Permissions, manage_guild=False)
    inter.guild = MagicMock(spec=discord.Guild, id=1)
    inter.response = MagicMock(spec=discord.InteractionResponse)
    inter.response.send_message = AsyncMock()
    inter.response.send_modal = AsyncMock()
    return inter


def submit(user_id: int, custom_id: str, **values: str) -> MagicMock:
    rows = [{"type": 18, "component": {"type": 4, "custom_id": k, "value": v}} for k, v in values.items()]
    return interaction(
        user_id, discord.InteractionType.modal_submit, {"custom_id": custom_id, "components": rows}
    )


def reply(inter: MagicMock) -> tuple[str, discord.File | None]:
    call = inter.response.send_message.await_args
    assert call.kwargs["ephemeral"] is True
    return call.args[0], call.kwargs.get("file")


async def test_every_opened_form_has_its_own_id_naming_its_owner_and_within_discords_limit(
    bot: PeerBot,
) -> None:
    entry = Entry(LONG_ID, "A title", "UpSocial / RRR", ("rrr",), ("q1", "q2", "q3"), "An answer.", "src")
    edits = [EntryModal(bot.services.editor, owner_id=LARGEST_SNOWFLAKE, consortium="General", current=entry)
             for _ in range(2)]  # fmt: skip
    adds = [EntryModal(bot.services.editor, owner_id=CAROL, consortium="UpSocial / RRR", entry_id=LONG_ID)]
    intros = [IntroModal(None, None, owner_id=LARGEST_SNOWFLAKE), IntroModal(None, None, owner_id=ALICE)]
    ids = [form.custom_id for form in edits + adds + intros]
    assert len(set(ids)) == len(ids)
    assert all(len(custom_id) <= forms.MAX_CUSTOM_ID for custom_id in ids), ids
    assert forms.parse_form_id(edits[0].custom_id) == (forms.KB_EDIT, LARGEST_SNOWFLAKE)
    assert forms.parse_form_id(adds[0].custom_id) == (forms.KB_ADD, CAROL)
    assert forms.parse_form_id("peerbot:intro:form") == (forms.INTRO, None)  # from before this version
    assert forms.parse_form_id("peerbot:form:intro:12:not-hex") is None


async def test_only_the_owner_may_submit_and_a_refusal_leaves_the_form_open() -> None:
    form = IntroModal(None, "Impact Hub", owner_id=ALICE)
    stranger = submit(CAROL, form.custom_id)
    assert await form.interaction_check(stranger) is False
    text, _ = reply(stranger)
    assert "opened by someone else" in text and "/intro create" in text
    assert not form.is_finished()
    owner = submit(ALICE, form.custom_id)
    assert await form.interaction_check(owner) is True
    assert owner.extras and stranger.extras, "both were taken by the form: the forms cog leaves them"


async def test_a_form_is_open_from_sending_until_it_stops() -> None:
    form = IntroModal(None, None, owner_id=ALICE)
    opener = interaction(ALICE, discord.InteractionType.application_command)
    form.is_dispatching = MagicMock(return_value=True)  # type: ignore[method-assign]  # discord.py's store did it
    await forms.send_form(opener, form)
    assert forms.is_open(form.custom_id)
    form.stop()
    assert not forms.is_open(form.custom_id)
    with pytest.raises(ValueError, match="opened for member"):
        await forms.send_form(interaction(CAROL, discord.InteractionType.application_command), form)


async def test_a_submit_nothing_took_is_answered_with_what_was_typed() -> None:
    expired = submit(CAROL, forms.form_custom_id(forms.KB_EDIT, CAROL), answer="My **long** answer")
    await forms.answer_unmatched(expired)
    text, file = reply(expired)
    assert "no longer open" in text and "nothing was saved" in text and "/kb edit" in text
    assert file is not None and b"My **long** answer" in file.fp.read()

    legacy = submit(ALICE, "peerbot:kb:entry-form", title="T")
    await forms.answer_unmatched(legacy)
    assert "/kb add" in reply(legacy)[0]

    replayed = submit(ALICE, forms.form_custom_id(forms.INTRO, CAROL), name="Not Carol")
    await forms.answer_unmatched(replayed)
    text, file = reply(replayed)
    assert "opened by someone else" in text and file is None

    empty = submit(ALICE, forms.form_custom_id(forms.INTRO, ALICE))
    await forms.answer_unmatched(empty)
    text, file = reply(empty)
    assert "no longer open" in text and "attached" not in text and file is None


async def test_taken_interactions_and_other_buttons_are_left_alone() -> None:
    claimed = submit(ALICE, forms.form_custom_id(forms.INTRO, ALICE))
    forms.claim(claimed)
    await forms.answer_unmatched(claimed)
    claimed.response.send_message.assert_not_awaited()
    for custom_id in ("peerbot:vote:up:rrr-overview", "peerbot:intro:start", "someone-elses"):
        click = interaction(ALICE, discord.InteractionType.component, {"custom_id": custom_id})
        await forms.answer_unmatched(click)
        click.response.send_message.assert_not_awaited()  # dynamic items: they always have a handler


async def test_a_private_button_whose_view_is_gone_is_answered() -> None:
    for custom_id in (
        "peerbot:intro:post",
        "peerbot:confirm:yes",
        "peerbot:peers:next",
        "peerbot:kb:remove:yes",
    ):
        click = interaction(ALICE, discord.InteractionType.component, {"custom_id": custom_id})
        await forms.answer_unmatched(click)
        assert "buttons have expired" in reply(click)[0], custom_id
        live = interaction(ALICE, discord.InteractionType.component, {"custom_id": custom_id})
        forms.claim(live)
        await forms.answer_unmatched(live)
        live.response.send_message.assert_not_awaited()


def test_editor_commands_default_to_manage_server(bot: PeerBot) -> None:
    manage = discord.Permissions(manage_guild=True)
    assert KnowledgeCog(bot).app_command.default_permissions == manage  # type: ignore[union-attr]
    assert SetupCog(bot).setup_command.default_permissions == manage
    assert EventsCog(bot).event.default_permissions == manage  # create, edit, cancel
    assert EventsCog(bot).events.default_permissions is None  # list, show, ics: for members


async def test_the_refusal_shows_the_role_name_literally(bot: PeerBot) -> None:
    await bot.services.guild_settings.update(1, editor_role_id=77)
    inter = interaction(ALICE, discord.InteractionType.application_command, bot=bot)
    role = MagicMock(spec=discord.Role, id=77)
    role.name = "*Keepers* @everyone"
    inter.guild.get_role.return_value = role
    with pytest.raises(NotEditor) as refused:
        await check_editor(inter)
    assert "**Manage Server**" in str(refused.value)
    assert "**\\*Keepers\\* @\u200beveryone** role" in str(refused.value)
