"""Peer introductions: /intro create|edit|show|delete, /peers search|match, the welcome and leaving."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from peerbot.core.intro_policy import (
    DELETE_QUESTION,
    NO_INTRO_SELF,
    NO_MATCH,
    NOTHING_FOUND,
    PAGE_SIZE,
    delete_refusal,
    no_intro_other,
    page_count,
)
from peerbot.core.intros import FIELD_LIMITS, INTRO_CONSORTIA, IntroError
from peerbot.discord.checks import actor_of
from peerbot.discord.intro_cards import remove_cards
from peerbot.discord.intro_embeds import card_embed, literal, match_embed, peers_embed
from peerbot.discord.intro_views import (
    ConfirmView,
    IntroduceButton,
    PeersPager,
    introduce_view,
    open_intro_form,
)

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)

NO_CONSORTIUM = "none"
TOPIC_MAX = FIELD_LIMITS["topics"].maximum
COUNTRY_MAX = FIELD_LIMITS["country"].maximum
CONSORTIUM_CHOICES = [app_commands.Choice(name=name, value=name) for name in INTRO_CONSORTIA] + [
    app_commands.Choice(name="No consortium", value=NO_CONSORTIUM)
]
WELCOME = (
    "Welcome, {mention}! Tell peers who you are and what you work on: press **Introduce yourself** "
    "below or use `/intro create`. Then `/peers match` finds members who work on the same topics."
)


def _consortium(choice: app_commands.Choice[str] | None) -> str | None:
    """ "" keeps the member's current consortium, None clears it, a name sets it."""
    if choice is None:
        return ""
    return None if choice.value == NO_CONSORTIUM else choice.value


class IntroCog(commands.Cog, name="Introductions"):
    """Members introduce themselves once per server and find peers by topic, country or consortium."""

    intro = app_commands.Group(name="intro", description="Your introduction card", guild_only=True)
    peers = app_commands.Group(name="peers", description="Find peers by topic", guild_only=True)

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.intros = bot.services.intros
        self.settings = bot.services.guild_settings
        self._reconciler: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self._reconciler = asyncio.create_task(self._reconcile_when_ready())

    async def cog_unload(self) -> None:
        if self._reconciler is not None:
            self._reconciler.cancel()

    async def _reconcile_when_ready(self) -> None:
        """Settle cards a crash left between Discord and the database (channels must be known first)."""
        await self.bot.wait_until_ready()
        try:
            await self.bot.cards.reconcile()
        except Exception:  # the database hiccuped: the rows stay and are settled at the next post
            log.exception("Reconciling introduction cards failed")

    # -- /intro ----------------------------------------------------------------------------------------------

    @intro.command(name="create", description="Introduce yourself: a private preview comes before posting")
    @app_commands.describe(consortium="The PLP consortium you belong to, if any")
    @app_commands.choices(consortium=CONSORTIUM_CHOICES)
    async def intro_create(
        self, interaction: discord.Interaction[PeerBot], consortium: app_commands.Choice[str] | None = None
    ) -> None:
        await open_intro_form(interaction, _consortium(consortium))

    @intro.command(name="edit", description="Change your introduction; your posted card is updated")
    @app_commands.describe(consortium="The PLP consortium you belong to (leave empty to keep it)")
    @app_commands.choices(consortium=CONSORTIUM_CHOICES)
    async def intro_edit(
        self, interaction: discord.Interaction[PeerBot], consortium: app_commands.Choice[str] | None = None
    ) -> None:
        await open_intro_form(interaction, _consortium(consortium))

    @intro.command(name="show", description="Show an introduction privately (yours by default)")
    @app_commands.describe(member="Whose introduction to show")
    async def intro_show(
        self, interaction: discord.Interaction[PeerBot], member: discord.Member | None = None
    ) -> None:
        guild_id = interaction.guild_id or 0
        target = member or interaction.user
        intro = await self.intros.get(guild_id, target.id)
        if intro is None:
            text = NO_INTRO_SELF if target.id == interaction.user.id else no_intro_other(target.display_name)
            await interaction.response.send_message(literal(text), ephemeral=True)
            return
        await interaction.response.send_message(embed=card_embed(intro, intro.member_id), ephemeral=True)

    @intro.command(name="delete", description="Delete your introduction and its card (editors: anyone's)")
    @app_commands.describe(member="Editors only: whose introduction to delete")
    async def intro_delete(
        self, interaction: discord.Interaction[PeerBot], member: discord.Member | None = None
    ) -> None:
        guild = interaction.guild
        if guild is None:
            return
        target = member or interaction.user
        actor = actor_of(interaction)
        settings = await self.settings.get(guild.id)
        role = guild.get_role(settings.editor_role_id) if settings.editor_role_id else None
        refusal = delete_refusal(actor, settings, target.id, role.name if role else None)
        if refusal is not None:
            log.info("Member %d was refused deleting the introduction of %d", actor.member_id, target.id)
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        own = target.id == actor.member_id
        if await self.intros.get(guild.id, target.id) is None:
            text = NO_INTRO_SELF if own else no_intro_other(target.display_name)
            await interaction.response.send_message(literal(text), ephemeral=True)
            return

        async def delete(_: discord.Interaction) -> str:
            removed = await self.intros.delete(guild.id, target.id)
            if removed is None:
                return "That introduction was already deleted."
            card_gone = not await remove_cards(self.bot, target.id, [removed.card], guild.id)
            if not own:
                log.info("Editor %d deleted the introduction of member %d in guild %d", actor.member_id,
                         target.id, guild.id)  # fmt: skip
            note = "" if card_gone else " I could not delete the posted card: ask an admin to remove it."
            return "Introduction deleted." + note

        whose = "your" if own else f"{literal(target.display_name)}'s"
        await interaction.response.send_message(
            DELETE_QUESTION.format(whose=whose), view=ConfirmView(actor.member_id, delete), ephemeral=True
        )

    # -- /peers ----------------------------------------------------------------------------------------------

    @peers.command(name="search", description="Find members by topic, country or consortium, best first")
    @app_commands.describe(
        topic="What they work on or offer, e.g. impact measurement",
        country="Their country",
        consortium="Their PLP consortium",
    )
    @app_commands.choices(consortium=CONSORTIUM_CHOICES[:-1])
    async def peers_search(
        self,
        interaction: discord.Interaction[PeerBot],
        topic: app_commands.Range[str, 1, TOPIC_MAX] | None = None,
        country: app_commands.Range[str, 1, COUNTRY_MAX] | None = None,
        consortium: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = interaction.guild_id or 0
        filters = {"topic": topic, "country": country, "consortium": consortium.value if consortium else None}
        try:
            found = await self.intros.search(guild_id, **filters, limit=PAGE_SIZE)
        except IntroError as exc:
            await interaction.response.send_message(literal("\n".join(exc.problems)), ephemeral=True)
            return
        if not found.total:
            await interaction.response.send_message(NOTHING_FOUND, ephemeral=True)
            return
        pages = page_count(found.total)
        embed = peers_embed(found.items, found.total, 1, pages)
        if pages > 1:
            view = PeersPager(interaction.user.id, guild_id, filters, 1, pages)
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, ephemeral=True)

    @peers.command(name="match", description="Three members whose topics overlap yours most")
    async def peers_match(self, interaction: discord.Interaction[PeerBot]) -> None:
        try:
            matches = await self.intros.match(interaction.guild_id or 0, interaction.user.id)
        except IntroError as exc:
            await interaction.response.send_message("\n".join(exc.problems), ephemeral=True)
            return
        if not matches:
            await interaction.response.send_message(NO_MATCH, ephemeral=True)
            return
        await interaction.response.send_message(embed=match_embed(matches), ephemeral=True)

    # -- joining and leaving ---------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        """Greet a new member in the introductions channel, when the server wants it."""
        if member.bot:
            return
        settings = await self.settings.get(member.guild.id)
        if not settings.welcome_enabled or settings.introductions_channel_id is None:
            return
        channel = self.bot.get_partial_messageable(settings.introductions_channel_id)
        try:
            await channel.send(WELCOME.format(mention=member.mention), view=introduce_view())
        except discord.HTTPException:
            log.warning("Could not greet member %d in guild %d", member.id, member.guild.id, exc_info=True)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """Keep or erase a leaving member's introduction, as the server chose (default: keep)."""
        if payload.user.bot:
            return
        settings = await self.settings.get(payload.guild_id)
        removed = await self.intros.member_left(payload.guild_id, payload.user.id, settings.erase_on_leave)
        if removed is not None:
            await remove_cards(self.bot, payload.user.id, [removed.card], payload.guild_id)
            log.info("Erased the introduction of member %d who left guild %d", payload.user.id,
                     payload.guild_id)  # fmt: skip


async def setup(bot: PeerBot) -> None:
    bot.add_dynamic_items(IntroduceButton)
    await bot.add_cog(IntroCog(bot))
