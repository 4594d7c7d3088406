"""Questions and topics: /ask, !ask, a mention, a direct message, /topics and /help."""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from peerbot.core.commands import INTRO, help_lines
from peerbot.core.knowledge import CONSORTIA
from peerbot.core.qa import AskResult, UnknownConsortium
from peerbot.core.storage import DATABASE_TROUBLE
from peerbot.discord.embeds import COLOUR, ask_reply, topics_embed
from peerbot.discord.expired import expired_interaction, log_expired
from peerbot.discord.feedback_views import VoteButton, answer_view
from peerbot.discord.views import EntryButton

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)


class AskCog(commands.Cog, name="Questions"):
    """Answers from the knowledge base, the same way whichever way the member asks."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.questions = bot.services.questions

    async def _answer(self, question: str, guild: discord.Guild | None) -> tuple[AskResult, dict]:
        result = await self.questions.ask(question, guild_id=guild.id if guild else None)
        content, embed = ask_reply(result)
        view = answer_view(result)  # did-you-mean buttons, and Helpful / Not helpful under an answer
        kwargs: dict = {"content": content, "embed": embed}
        if view is not None:
            kwargs["view"] = view
        return result, kwargs

    @commands.hybrid_command(name="ask", description="Ask a question about the PLP lessons")
    @app_commands.describe(question="Your question, in your own words (titles are suggested as you type)")
    async def ask(self, ctx: commands.Context[PeerBot], *, question: str) -> None:
        """Answer a question about the PLP lessons, citing its source."""
        _, kwargs = await self._answer(question, ctx.guild)
        await ctx.send(**kwargs)

    @ask.autocomplete("question")
    async def ask_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        entries = self.questions.complete(current, limit=25)
        return [app_commands.Choice(name=entry.title[:100], value=entry.title[:100]) for entry in entries]

    @commands.hybrid_command(name="topics", description="List what I can answer, by consortium")
    @app_commands.describe(consortium="Only this consortium (leave empty for all)")
    async def topics(self, ctx: commands.Context[PeerBot], *, consortium: str | None = None) -> None:
        """List the topics of the knowledge base."""
        try:
            topics = self.questions.topics(consortium)
        except UnknownConsortium as exc:
            await ctx.send(str(exc), ephemeral=True)
            return
        await ctx.send(embed=topics_embed(topics))

    @topics.autocomplete("consortium")
    async def topics_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = current.casefold()
        return [app_commands.Choice(name=name, value=name) for name in CONSORTIA if wanted in name.casefold()]

    @commands.hybrid_command(name="help", description="What PeerBot can do and how to ask")
    async def help(self, ctx: commands.Context[PeerBot]) -> None:
        """Show the commands."""
        prefix = self.bot.settings.prefix
        lines = "\n".join(f"`{line.split(' - ')[0]}` - {line.split(' - ', 1)[1]}" for line in help_lines())
        text = (
            f"{INTRO}\n\n{lines}\n\nYou can also mention me with a question, send me a direct message, "
            f"or use `{prefix}ask <question>`."
        )
        await ctx.send(
            embed=discord.Embed(title="PeerBot help", description=text, colour=COLOUR), ephemeral=True
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention followed by a question, or any direct message, is a question."""
        if message.author.bot or self.bot.user is None:
            return
        content = message.content.strip()
        if content.startswith(self.bot.settings.prefix):
            return  # a prefix command: the command handler answers it
        if message.guild is None:
            question = content
        else:
            mention = re.match(rf"<@!?{self.bot.user.id}>\s*", content)
            if mention is None:
                return
            question = content[mention.end() :]
        _, kwargs = await self._answer(question, message.guild)
        await message.reply(mention_author=False, **kwargs)

    async def cog_command_error(self, ctx: commands.Context[PeerBot], error: commands.CommandError) -> None:
        if ctx.interaction is not None and expired_interaction(error) is not None:
            log_expired(ctx.interaction.id, f"/{ctx.command}")  # a retry could only fail the same way
            return
        if isinstance(error, commands.MissingRequiredArgument):
            _, kwargs = await self._answer("", ctx.guild)
            await ctx.send(**kwargs, ephemeral=True)
            return
        original = getattr(error, "original", error)
        log.error("Command %s failed", ctx.command, exc_info=original)
        cause: BaseException = original
        while isinstance(getattr(cause, "original", None), BaseException):  # hybrid: wrapped twice
            cause = cause.original  # type: ignore[attr-defined]
        if isinstance(cause, sqlite3.DatabaseError):
            await ctx.send(DATABASE_TROUBLE, ephemeral=True)
            return
        await ctx.send("Sorry, something went wrong answering that. Please try again.", ephemeral=True)


async def setup(bot: PeerBot) -> None:
    bot.add_dynamic_items(EntryButton, VoteButton)
    await bot.add_cog(AskCog(bot))
