"""The /kb entry form (a modal) and the removal confirmation.

Discord allows five inputs in a modal, and an entry has seven fields besides its id. The free-text
fields go in the form (title, tags, example questions, answer, source); the consortium, the id and
the related ids are options of the slash command (the consortium as a fixed choice list, so it can't
be mistyped). A refused form sends the typed text back as a file, so nothing typed is lost.

Each opened form is bound to the editor who opened it and to the entry (and version) it edits, with
a custom id of its own (see :mod:`peerbot.discord.forms`); the removal buttons are for the editor
who asked, on that one message.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord

from peerbot.core.knowledge import MAX_ANSWER, MAX_TITLE, Entry
from peerbot.core.knowledge_editor import (
    EditConflict,
    EditRefused,
    EditResult,
    EntryDraft,
    KnowledgeEditor,
    SaveFailed,
)
from peerbot.discord.checks import NotEditor, actor_of, check_editor
from peerbot.discord.embeds import COLOUR, MAX_FIELD, entry_embed
from peerbot.discord.forms import KB_ADD, KB_EDIT, BoundForm, bound_buttons, claim

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)

FORM_TIMEOUT = 30 * 60  # long answers take a while to write
CONFIRM_TIMEOUT = 120
MAX_MESSAGE = 2000
REMOVE_ID, KEEP_ID = "peerbot:kb:remove:yes", "peerbot:kb:remove:no"
bound_buttons(REMOVE_ID, KEEP_ID)


def safe(text: str) -> str:
    """Text that may echo what someone typed (ids, names, questions): no markdown tricks, no pings."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def draft_file(draft: EntryDraft) -> discord.File:
    """What the editor typed, so a refused or conflicting form costs them nothing."""
    text = (
        f"id: {draft.entry_id}\ntitle: {draft.title}\nconsortium: {draft.consortium}\ntags: {draft.tags}\n"
        f"related: {draft.related}\nsource: {draft.source}\n\nexample questions:\n{draft.questions}\n\n"
        f"answer:\n{draft.answer}\n"
    )
    return discord.File(io.BytesIO(text.encode("utf-8")), filename="your-entry.txt")


def entry_details_embed(entry: Entry, version: str) -> discord.Embed:
    """The entry as members see it, plus what only editors need: questions, tags, related, version."""
    embed = entry_embed(entry)
    questions = "\n".join(f"• {discord.utils.escape_markdown(q)}" for q in entry.questions)
    embed.add_field(name="Example questions", value=clip(questions, MAX_FIELD) or "—", inline=False)
    embed.add_field(name="Tags", value=clip(", ".join(entry.tags), MAX_FIELD) or "—", inline=True)
    embed.add_field(name="Related", value=clip(", ".join(entry.related), MAX_FIELD) or "—", inline=True)
    embed.set_footer(text=f"{entry.id} · {entry.file} · version {version}")
    return embed


class EntryModal(BoundForm):
    """Add a new entry (``current`` None) or edit ``current`` from the version it had when opened.

    Only ``owner_id`` may submit it (:class:`BoundForm`); the entry and version it was opened for
    travel with this form, not with whoever else has a form open.
    """

    def __init__(
        self,
        editor: KnowledgeEditor,
        *,
        owner_id: int,
        consortium: str,
        entry_id: str = "",
        related: str = "",
        current: Entry | None = None,
    ) -> None:
        title = f"Edit {current.id}" if current else "New knowledge entry"
        super().__init__(
            kind=KB_EDIT if current else KB_ADD,
            owner_id=owner_id,
            subject=current.id if current else f"{entry_id or 'a new entry'} in {consortium}",
            title=clip(title, 45),
            timeout=FORM_TIMEOUT,
        )
        self.editor = editor
        self.consortium = consortium
        self.entry_id = entry_id
        self.related = related
        self.current = current
        self.version = editor.version(current) if current else None  # what the edit starts from
        base = EntryDraft.of(current) if current else None
        self.title_input = self._field("title", "Title", f"Up to {MAX_TITLE} characters", MAX_TITLE, base)
        self.tags_input = self._field(
            "tags", "Tags", "Comma-separated, e.g. rrr, cities, covid-19", 300, base
        )
        self.questions_input = self._field(
            "questions",
            "Example questions",
            "One per line, at least 3: how members ask",
            2000,
            base,
            long=True,
        )
        self.answer_input = self._field(
            "answer",
            "Answer",
            f"Discord markdown, up to {MAX_ANSWER:,} characters",
            MAX_ANSWER,
            base,
            long=True,
        )
        self.source_input = self._field(
            "source", "Source", "Consortium: section, e.g. UpSocial / RRR: ...", 300, base
        )

    def _field(
        self, name: str, label: str, hint: str, limit: int, base: EntryDraft | None, *, long: bool = False
    ) -> discord.ui.TextInput:
        text_input: discord.ui.TextInput = discord.ui.TextInput(
            custom_id=name,
            style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
            default=getattr(base, name) if base else None,
            required=True,
            max_length=limit,
        )
        self.add_item(discord.ui.Label(text=label, description=hint, component=text_input))
        return text_input

    def draft(self) -> EntryDraft:
        return EntryDraft(
            title=self.title_input.value,
            consortium=self.consortium,
            tags=self.tags_input.value,
            questions=self.questions_input.value,
            answer=self.answer_input.value,
            source=self.source_input.value,
            entry_id=self.current.id if self.current else self.entry_id,
            related=self.related,
        )

    async def save(self, interaction: discord.Interaction) -> EditResult:
        draft = self.draft()
        actor = actor_of(interaction)
        if self.current is None:
            return await self.editor.add(draft, actor)
        return await self.editor.edit(self.current.id, draft, actor, self.version or "")

    async def on_submit(self, interaction: discord.Interaction[PeerBot]) -> None:  # type: ignore[override]
        try:
            await check_editor(interaction)  # the role may have been taken away while the form was open
            result = await self.save(interaction)
        except NotEditor as exc:
            await interaction.response.send_message(str(exc), ephemeral=True, file=draft_file(self.draft()))
            return
        except (EditRefused, SaveFailed) as exc:
            prefix = "⚠️ " if isinstance(exc, EditConflict | SaveFailed) else ""
            await interaction.response.send_message(
                clip(prefix + safe(str(exc)) + "\nWhat you typed is attached."),
                ephemeral=True,
                file=draft_file(self.draft()),
            )
            return
        embed = entry_embed(result.entry) if result.entry else None
        kwargs = {"embed": embed} if embed else {}
        await interaction.response.send_message(clip(result.message()), ephemeral=True, **kwargs)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        log.error("The knowledge entry form failed", exc_info=error)
        message = "Sorry, something went wrong saving that; nothing was changed. Please try again."
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True, file=draft_file(self.draft()))


class ConfirmRemoveView(discord.ui.View):
    """Remove / Cancel for the editor who asked; the removal carries the version they saw."""

    def __init__(self, editor: KnowledgeEditor, entry: Entry, owner_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.editor = editor
        self.entry = entry
        self.version = editor.version(entry)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        claim(interaction)
        if interaction.user.id == self.owner_id:
            return True
        log.warning("Refused: member %d pressed the removal of %s asked by member %d", interaction.user.id,
                    self.entry.id, self.owner_id)  # fmt: skip
        await interaction.response.send_message(
            "Only the editor who asked for this removal can confirm it.", ephemeral=True
        )
        return False

    @discord.ui.button(label="Remove", style=discord.ButtonStyle.danger, custom_id=REMOVE_ID)
    async def confirm(self, interaction: discord.Interaction[PeerBot], _: discord.ui.Button) -> None:
        self.stop()
        try:
            await check_editor(interaction)
            result = await self.editor.remove(self.entry.id, actor_of(interaction), self.version)
        except NotEditor as exc:  # our own words, markdown meant (any role name in it is escaped)
            await interaction.response.edit_message(content=clip(str(exc)), view=None)
            return
        except (EditRefused, SaveFailed) as exc:  # may echo ids and names: shown literally
            await interaction.response.edit_message(content=clip(safe(str(exc))), view=None)
            return
        await interaction.response.edit_message(content=clip(result.message()), view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=KEEP_ID)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Not removed.", view=None)


def report_embed(title: str, lines: list[str], empty: str) -> discord.Embed:
    """A list for editors; lines may hold members' text, so they are escaped by the caller."""
    embed = discord.Embed(title=title, colour=COLOUR)
    text = ""
    for line in lines:
        if len(text) + len(line) + 2 > 4000:
            text += "\n…"
            break
        text += ("\n" if text else "") + line
    embed.description = text or empty
    return embed
