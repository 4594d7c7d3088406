"""/kb: editors keep the knowledge base from Discord (add, edit, remove, restore, reload, export, ...).

Every subcommand is for editors (Manage Server or the configured editor role) and answers privately.
The group's default permission is Manage Server, so Discord hides /kb from other members; a server
owner can allow it for the editor role in Server Settings > Integrations. The bot checks anyway.
Changes go through :class:`peerbot.core.knowledge_editor.KnowledgeEditor`, the same service the
terminal uses: live at once, written to the YAML file, recorded in the history.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from peerbot.core.feedback import stats_sections
from peerbot.core.gaps import gap_lines
from peerbot.core.knowledge import CONSORTIA
from peerbot.core.knowledge_editor import EditRefused, SaveFailed
from peerbot.discord.checks import actor_of, editor_only
from peerbot.discord.embeds import COLOUR, MAX_FIELD
from peerbot.discord.forms import send_form
from peerbot.discord.kb_views import (
    ConfirmRemoveView,
    EntryModal,
    clip,
    entry_details_embed,
    report_embed,
    safe,
)

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)

CONSORTIUM_CHOICES = [app_commands.Choice(name=name, value=name) for name in CONSORTIA]
EXPORT_NAME = "peerbot-knowledge.yaml"


async def _private(interaction: discord.Interaction, content: str, **kwargs: object) -> None:
    await interaction.response.send_message(clip(content), ephemeral=True, **kwargs)  # type: ignore[arg-type]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class KnowledgeCog(commands.GroupCog, group_name="kb", group_description="Keep the knowledge base (editors)"):
    """The knowledge base kept from chat; the terminal's /kb does the same."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.editor = bot.services.editor
        super().__init__()

    async def _entry_ids(self, current: str) -> list[app_commands.Choice[str]]:
        wanted = current.casefold().strip()
        choices = []
        for entry in self.bot.services.library.base:
            if not wanted or wanted in entry.id or wanted in entry.title.casefold():
                choices.append(
                    app_commands.Choice(name=clip(f"{entry.id} · {entry.title}", 100), value=entry.id)
                )
            if len(choices) == 25:
                break
        return choices

    async def entry_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._entry_ids(current)

    @app_commands.command(name="add", description="Add an entry: a form asks for its text")
    @editor_only()
    @app_commands.describe(
        consortium="Whose lesson this is (the entry goes to that consortium's file)",
        entry_id="Optional id (lowercase-with-dashes); empty: made from the consortium and the title",
        related="Optional ids of related entries, comma-separated",
    )
    @app_commands.rename(entry_id="id")
    @app_commands.choices(consortium=CONSORTIUM_CHOICES)
    async def add(
        self,
        interaction: discord.Interaction[PeerBot],
        consortium: str,
        entry_id: str | None = None,
        related: str | None = None,
    ) -> None:
        modal = EntryModal(
            self.editor,
            owner_id=interaction.user.id,
            consortium=consortium,
            entry_id=entry_id or "",
            related=related or "",
        )
        await send_form(interaction, modal)

    @app_commands.command(name="edit", description="Edit an entry: a form opens with its current text")
    @editor_only()
    @app_commands.describe(
        entry_id="The entry's id",
        consortium="Move it to another consortium (it stays in its file)",
        related="Replace its related ids (comma-separated; '-' for none)",
    )
    @app_commands.rename(entry_id="id")
    @app_commands.choices(consortium=CONSORTIUM_CHOICES)
    @app_commands.autocomplete(entry_id=entry_autocomplete)
    async def edit(
        self,
        interaction: discord.Interaction[PeerBot],
        entry_id: str,
        consortium: str | None = None,
        related: str | None = None,
    ) -> None:
        try:
            entry = self.editor.entry(entry_id)
        except EditRefused as exc:
            await _private(interaction, safe(str(exc)))
            return
        if related is None:
            related_text = ", ".join(entry.related)
        else:
            related_text = "" if related.strip() == "-" else related
        modal = EntryModal(
            self.editor,
            owner_id=interaction.user.id,
            consortium=consortium or entry.consortium,
            related=related_text,
            current=entry,
        )
        await send_form(interaction, modal)

    @app_commands.command(name="remove", description="Remove an entry (asks to confirm; it can be restored)")
    @editor_only()
    @app_commands.describe(entry_id="The entry's id")
    @app_commands.rename(entry_id="id")
    @app_commands.autocomplete(entry_id=entry_autocomplete)
    async def remove(self, interaction: discord.Interaction[PeerBot], entry_id: str) -> None:
        try:
            entry = self.editor.entry(entry_id)
        except EditRefused as exc:
            await _private(interaction, safe(str(exc)))
            return
        view = ConfirmRemoveView(self.editor, entry, interaction.user.id)
        await _private(
            interaction,
            f"Remove **{safe(entry.title)}** (`{entry.id}`)? Members stop getting this answer at once; "
            f"`/kb restore {entry.id}` brings it back.",
            view=view,
        )

    @app_commands.command(name="show", description="Show an entry with its questions, tags and version")
    @editor_only()
    @app_commands.describe(entry_id="The entry's id")
    @app_commands.rename(entry_id="id")
    @app_commands.autocomplete(entry_id=entry_autocomplete)
    async def show(self, interaction: discord.Interaction[PeerBot], entry_id: str) -> None:
        try:
            entry = self.editor.entry(entry_id)
        except EditRefused as exc:
            await _private(interaction, safe(str(exc)))
            return
        await interaction.response.send_message(
            embed=entry_details_embed(entry, self.editor.version(entry)), ephemeral=True
        )

    @app_commands.command(name="reload", description="Re-read the knowledge files (problems are reported)")
    @editor_only()
    async def reload(self, interaction: discord.Interaction[PeerBot]) -> None:
        report = await self.editor.reload()
        if report.ok:
            await _private(interaction, f"Reloaded: {report.entries} entries are live.")
            return
        problems = "\n".join(f"- {problem}" for problem in report.problems[:15])
        await _private(
            interaction,
            f"Reload refused; still answering from the last good knowledge ({report.entries} entries). "
            f"Problems:\n```\n{clip(problems, 1500).replace('```', 'ʼʼʼ')}\n```",
        )

    @app_commands.command(name="export", description="Download the knowledge base as one YAML file")
    @editor_only()
    async def export(self, interaction: discord.Interaction[PeerBot]) -> None:
        data = self.editor.export().encode("utf-8")
        count = len(self.bot.services.library.base)
        await _private(
            interaction,
            f"The knowledge base: {count} entries (check it with `peerbot kb validate`).",
            file=discord.File(io.BytesIO(data), filename=EXPORT_NAME),
        )

    @app_commands.command(name="history", description="The changes made to an entry from chat")
    @editor_only()
    @app_commands.describe(entry_id="The entry's id (a removed entry too)")
    @app_commands.rename(entry_id="id")
    @app_commands.autocomplete(entry_id=entry_autocomplete)
    async def history(self, interaction: discord.Interaction[PeerBot], entry_id: str) -> None:
        changes = await self.editor.history(entry_id)
        lines = [safe(change.summary()) for change in changes]
        embed = report_embed(
            f"Changes of {clip(entry_id, 200)}", lines, "No changes recorded from chat for this entry."
        )
        if changes:
            embed.set_footer(text="Bring a version back with /kb restore id version")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="restore", description="Bring back a removed entry or an earlier version")
    @editor_only()
    @app_commands.describe(
        entry_id="The entry's id", version="A change number from /kb history (empty: undo the last change)"
    )
    @app_commands.rename(entry_id="id")
    async def restore(
        self,
        interaction: discord.Interaction[PeerBot],
        entry_id: str,
        version: app_commands.Range[int, 1] | None = None,
    ) -> None:
        try:
            result = await self.editor.restore(entry_id, actor_of(interaction), version)
        except (EditRefused, SaveFailed) as exc:
            await _private(interaction, safe(str(exc)))
            return
        await _private(interaction, result.message())

    @app_commands.command(name="gaps", description="The questions asked most that I could not answer")
    @editor_only()
    async def gaps(self, interaction: discord.Interaction[PeerBot]) -> None:
        guild_id = interaction.guild.id if interaction.guild else None
        found = await self.bot.services.gaps.frequent(guild_id)
        embed = report_embed(
            "Most asked questions without a good answer",
            [safe(line) for line in gap_lines(found)],
            "No unanswered questions recorded yet.",
        )
        embed.set_footer(text="Add an answer with /kb add")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="stats", description="Most asked, most and least helpful answers")
    @editor_only()
    async def stats(self, interaction: discord.Interaction[PeerBot]) -> None:
        guild_id = interaction.guild.id if interaction.guild else None
        stats = await self.bot.services.feedback.stats(guild_id)
        embed = discord.Embed(title="Knowledge base statistics", colour=COLOUR)
        for title, lines in stats_sections(stats):
            value = "\n".join(f"• {safe(line)}" for line in lines) or "None yet."
            embed.add_field(name=title, value=clip(value, MAX_FIELD), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(KnowledgeCog(bot))
