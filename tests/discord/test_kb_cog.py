"""/kb handlers, the entry form, the removal confirmation and the vote buttons, with spec'd mocks.

The bot runs on a temporary copy of the knowledge directory: nothing here writes to knowledge/.
"""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from discord import app_commands

from peerbot.config import Settings
from peerbot.core import knowledge_files
from peerbot.core.knowledge import MAX_ANSWER
from peerbot.core.services import Services
from peerbot.discord.bot import PeerBot
from peerbot.discord.checks import NotEditor, check_editor
from peerbot.discord.cogs.kb import KnowledgeCog
from peerbot.discord.feedback_views import VoteButton, answer_view
from peerbot.discord.kb_views import ConfirmRemoveView, EntryModal

GUILD = 1
ALICE, BOB, CAROL = 10, 20, 30
EDITOR_ROLE = 77
NEW_ID = "rrr-tools-cities-used-with-the-sse"


@pytest.fixture
async def bot(tmp_path: Path, knowledge: Path) -> AsyncIterator[PeerBot]:
    settings = Settings.from_env({"PEERBOT_KNOWLEDGE_DIR": str(knowledge), "PEERBOT_DATA_DIR": str(tmp_path)})
    services = await Services.open(settings.knowledge_dir, settings.database_path)
    yield PeerBot(settings, services)
    await services.close()


@pytest.fixture
def cog(bot: PeerBot) -> KnowledgeCog:
    return KnowledgeCog(bot)


def member(
    user_id: int, *, manage: bool = False, roles: tuple[int, ...] = (), name: str = "Alice"
) -> MagicMock:
    user = MagicMock(spec=discord.Member, id=user_id, display_name=name, bot=False)
    user.roles = [MagicMock(spec=discord.Role, id=role) for role in roles]
    user.guild_permissions = MagicMock(spec=discord.Permissions, manage_guild=manage)
    return user


def carol() -> MagicMock:
    return member(CAROL, manage=True, name="Carol")


def interaction(bot: PeerBot, user: MagicMock | None = None) -> MagicMock:
    inter = MagicMock(spec=discord.Interaction)
    inter.client = bot
    inter.user = user or member(ALICE)
    inter.guild = MagicMock(spec=discord.Guild, id=GUILD)
    role = MagicMock(spec=discord.Role, id=EDITOR_ROLE)
    role.name = "Knowledge keepers"
    inter.guild.get_role.side_effect = lambda role_id: role if role_id == EDITOR_ROLE else None
    inter.response = MagicMock(spec=discord.InteractionResponse)
    for name in ("send_message", "send_modal", "edit_message"):
        setattr(inter.response, name, AsyncMock())
    inter.response.is_done.return_value = False
    inter.followup = MagicMock(spec=discord.Webhook)
    inter.followup.send = AsyncMock()
    return inter


def fill(modal: EntryModal, **values: str) -> EntryModal:
    defaults = {
        "title": "Tools cities used with the SSE",
        "tags": "rrr, tools, cities",
        "questions": "Which tools did RRR cities use?\nWhat tools helped cities?\nHow did cities help SSE?",
        "answer": 'Cities used: "platforms", # calls and shared spaces 🎉',
        "source": "UpSocial / RRR: tools",
    }
    for name, value in {**defaults, **values}.items():
        getattr(modal, f"{name}_input")._value = value
    return modal


def sent_text(inter: MagicMock) -> str:
    args, kwargs = inter.response.send_message.await_args
    return args[0] if args else kwargs.get("content", "")


async def test_non_editor_is_refused_and_told_the_role(bot: PeerBot) -> None:
    with pytest.raises(NotEditor, match="Manage Server"):
        await check_editor(interaction(bot))
    await bot.services.guild_settings.update(GUILD, editor_role_id=EDITOR_ROLE)
    with pytest.raises(NotEditor, match=r"\*\*Knowledge keepers\*\* role"):
        await check_editor(interaction(bot))
    assert await check_editor(interaction(bot, member(BOB, roles=(EDITOR_ROLE,))))
    assert await check_editor(interaction(bot, carol()))


def test_every_kb_subcommand_is_for_editors(cog: KnowledgeCog) -> None:
    commands = cog.walk_app_commands()
    subcommands = [c for c in commands if isinstance(c, app_commands.Command)]
    assert len(subcommands) == 10
    assert all(check.__name__ == "check_editor" for c in subcommands for check in c.checks)
    assert all(c.checks for c in subcommands)


async def test_add_opens_the_five_field_form(cog: KnowledgeCog, bot: PeerBot) -> None:
    inter = interaction(bot, carol())
    await cog.add.callback(cog, inter, consortium="UpSocial / RRR", entry_id=None, related=None)
    modal = inter.response.send_modal.await_args.args[0]
    assert isinstance(modal, EntryModal) and len(modal.children) == 5
    assert modal.answer_input.max_length == MAX_ANSWER


async def test_submitted_form_is_live_at_once(bot: PeerBot, knowledge: Path) -> None:
    modal = fill(EntryModal(bot.services.editor, owner_id=CAROL, consortium="UpSocial / RRR"))
    inter = interaction(bot, carol())
    await modal.on_submit(inter)
    assert f"Added '{NEW_ID}' in rrr.yaml" in sent_text(inter)
    result = await bot.services.questions.ask("Which tools did RRR cities use?")
    assert (
        result.entry is not None
        and result.entry.answer == 'Cities used: "platforms", # calls and shared spaces 🎉'
    )
    assert NEW_ID in (knowledge / "rrr.yaml").read_text(encoding="utf-8")
    (change,) = await bot.services.editor.history(NEW_ID)
    assert (change.member_id, change.member_name) == (CAROL, "Carol")


@pytest.mark.parametrize(
    ("values", "options", "reason"),
    [
        ({"source": "  "}, {}, "Please fill in: source"),
        ({}, {"entry_id": "rrr-objectives"}, "already exists"),
        ({"answer": "y" * (MAX_ANSWER + 10)}, {}, f"the limit is {MAX_ANSWER}"),
        ({}, {"related": "rrr-overview, rrr-nowhere"}, "'related' names 'rrr-nowhere', which does not exist"),
    ],
)
async def test_bad_forms_are_refused_with_the_reason_and_the_text_given_back(
    bot: PeerBot, knowledge: Path, values: dict[str, str], options: dict[str, str], reason: str
) -> None:
    before = (knowledge / "rrr.yaml").read_bytes()
    modal = fill(
        EntryModal(bot.services.editor, owner_id=CAROL, consortium="UpSocial / RRR", **options), **values
    )
    inter = interaction(bot, carol())
    await modal.on_submit(inter)
    kwargs = inter.response.send_message.await_args.kwargs
    assert reason in sent_text(inter) and kwargs["ephemeral"] is True
    assert kwargs["file"].filename == "your-entry.txt"
    assert (knowledge / "rrr.yaml").read_bytes() == before


async def test_second_editor_is_told_the_entry_changed(bot: PeerBot) -> None:
    entry = bot.services.library.base.get("rrr-objectives")
    assert entry is not None
    first = EntryModal(bot.services.editor, owner_id=CAROL, consortium=entry.consortium, current=entry)
    second = EntryModal(bot.services.editor, owner_id=BOB, consortium=entry.consortium, current=entry)
    assert first.answer_input.default == entry.answer  # pre-filled
    for modal, text in ((first, "Carol's answer."), (second, "Bob's answer.")):
        for name in ("title", "tags", "questions", "source"):
            getattr(modal, f"{name}_input")._value = getattr(modal, f"{name}_input").default
        modal.answer_input._value = text
    carol_inter, bob_inter = interaction(bot, carol()), interaction(bot, member(BOB, manage=True, name="Bob"))
    await first.on_submit(carol_inter)
    await second.on_submit(bob_inter)
    assert "Saved 'rrr-objectives'" in sent_text(carol_inter)
    assert "was changed by Carol" in sent_text(bob_inter) and "not saved" in sent_text(bob_inter)
    assert bot.services.library.base.get("rrr-objectives").answer == "Carol's answer."  # type: ignore[union-attr]


async def test_form_submitted_after_losing_the_role_is_refused(bot: PeerBot) -> None:
    modal = fill(EntryModal(bot.services.editor, owner_id=ALICE, consortium="UpSocial / RRR"))
    inter = interaction(bot, member(ALICE))
    await modal.on_submit(inter)
    assert "only editors can do that" in sent_text(inter)
    assert bot.services.library.base.get(NEW_ID) is None


async def test_disk_full_tells_the_editor(bot: PeerBot, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(knowledge_files.os, "replace", full)
    inter = interaction(bot, carol())
    await fill(EntryModal(bot.services.editor, owner_id=CAROL, consortium="UpSocial / RRR")).on_submit(inter)
    assert "No space left on device" in sent_text(inter) and "Nothing was changed" in sent_text(inter)
    assert bot.services.library.base.get(NEW_ID) is None


async def test_remove_asks_and_only_the_asker_confirms(cog: KnowledgeCog, bot: PeerBot) -> None:
    await fill(EntryModal(bot.services.editor, owner_id=CAROL, consortium="UpSocial / RRR")).on_submit(
        interaction(bot, carol())
    )
    inter = interaction(bot, carol())
    await cog.remove.callback(cog, inter, entry_id=NEW_ID)
    view = inter.response.send_message.await_args.kwargs["view"]
    assert isinstance(view, ConfirmRemoveView) and "Remove **Tools cities used" in sent_text(inter)
    stranger = interaction(bot, member(BOB, manage=True))
    assert await view.interaction_check(stranger) is False
    assert "Only the editor who asked" in sent_text(stranger)
    click = interaction(bot, carol())
    assert await view.interaction_check(click)
    await view.confirm.callback(click)
    assert "Removed '" in click.response.edit_message.await_args.kwargs["content"]
    assert bot.services.library.base.get(NEW_ID) is None


async def test_cancel_removes_nothing(cog: KnowledgeCog, bot: PeerBot) -> None:
    inter = interaction(bot, carol())
    await cog.remove.callback(cog, inter, entry_id="glossary-sdgs")
    view = inter.response.send_message.await_args.kwargs["view"]
    click = interaction(bot, carol())
    await view.cancel.callback(click)
    assert click.response.edit_message.await_args.kwargs["content"] == "Not removed."
    assert bot.services.library.base.get("glossary-sdgs") is not None


async def test_unknown_ids_are_answered_politely(cog: KnowledgeCog, bot: PeerBot) -> None:
    for command in (cog.edit, cog.remove, cog.show):
        inter = interaction(bot, carol())
        kwargs = (
            {"entry_id": "no-such"}
            if command is not cog.edit
            else {"entry_id": "no-such", "consortium": None}
        )
        await command.callback(cog, inter, **kwargs)
        assert "There is no entry 'no-such'" in sent_text(inter)


async def test_show_history_export_reload_gaps_stats(
    cog: KnowledgeCog, bot: PeerBot, knowledge: Path
) -> None:
    await bot.services.questions.ask("what's the weather in <@123> Lisbon **now**", guild_id=GUILD)
    await bot.services.questions.ask("What are the SDGs?", guild_id=GUILD)
    inter = interaction(bot, carol())
    await cog.show.callback(cog, inter, entry_id="glossary-sdgs")
    assert "version" in inter.response.send_message.await_args.kwargs["embed"].footer.text
    inter = interaction(bot, carol())
    await cog.export.callback(cog, inter)
    assert inter.response.send_message.await_args.kwargs["file"].filename == "peerbot-knowledge.yaml"
    (knowledge / "broken.yaml").write_text("entries: [", encoding="utf-8")
    inter = interaction(bot, carol())
    await cog.reload.callback(cog, inter)
    assert "Reload refused" in sent_text(inter) and "broken.yaml" in sent_text(inter)
    inter = interaction(bot, carol())
    await cog.gaps.callback(cog, inter)
    description = inter.response.send_message.await_args.kwargs["embed"].description
    assert "Lisbon" in description and "\\*\\*now\\*\\*" in description
    inter = interaction(bot, carol())
    await cog.stats.callback(cog, inter)
    fields = inter.response.send_message.await_args.kwargs["embed"].fields
    assert "glossary-sdgs" in fields[0].value
    inter = interaction(bot, carol())
    await cog.history.callback(cog, inter, entry_id="glossary-sdgs")
    assert "No changes recorded" in inter.response.send_message.await_args.kwargs["embed"].description


async def test_restore_from_discord(cog: KnowledgeCog, bot: PeerBot) -> None:
    inter = interaction(bot, carol())
    await cog.restore.callback(cog, inter, entry_id="glossary-sdgs", version=None)
    assert "no recorded changes" in sent_text(inter)


async def test_answers_carry_vote_buttons_and_votes_are_recorded(bot: PeerBot) -> None:
    result = await bot.services.questions.ask("What are the SDGs?", guild_id=GUILD)
    view = answer_view(result)
    assert view is not None
    ids = [item.custom_id for item in view.children]  # type: ignore[attr-defined]
    assert ids == ["peerbot:vote:up:glossary-sdgs", "peerbot:vote:down:glossary-sdgs"]
    inter = interaction(bot, member(ALICE))
    await VoteButton("glossary-sdgs", True).callback(inter)
    assert "marked as helpful" in sent_text(inter)
    inter = interaction(bot, member(ALICE))
    await VoteButton("glossary-sdgs", False).callback(inter)
    assert "Vote changed" in sent_text(inter)
    inter = interaction(bot, member(ALICE))
    await VoteButton("gone-entry", True).callback(inter)
    assert "no longer in the knowledge base" in sent_text(inter)
    rows = await bot.services.database.fetch_all("SELECT * FROM answer_vote")
    assert [(r["entry_id"], r["member_id"], r["helpful"]) for r in rows] == [("glossary-sdgs", ALICE, 0)]
