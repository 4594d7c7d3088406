"""The introduction form (a modal), its private preview, confirmations, the peers pager and the
persistent "Introduce yourself" button.

Nobody's card goes public unseen: the form leads to a private preview with Post and Edit buttons,
and only Post saves the introduction and publishes the card.

Each opened form is bound to the member who opened it, with a custom id of its own (see
:mod:`peerbot.discord.forms`): with one fixed id, discord.py handed every member's submit to the
last form opened, consortium included. The buttons are for that member, on that one message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from peerbot.core.guild_settings import missing_channel_message
from peerbot.core.intro_policy import CANCELLED, PAGE_SIZE, page_count
from peerbot.core.intros import FIELD_LIMITS, IntroDraft, IntroError, validate_draft
from peerbot.discord.forms import INTRO, BoundForm, bound_buttons, claim, send_form
from peerbot.discord.intro_cards import CardError, publish_card
from peerbot.discord.intro_embeds import card_embed, peers_embed

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)

FORM_TIMEOUT = 30 * 60.0  # a member may take a while to write about themselves
VIEW_TIMEOUT = 15 * 60.0
START_ID = "peerbot:intro:start"
POST_ID, EDIT_ID = "peerbot:intro:post", "peerbot:intro:edit"
CONFIRM_ID, CANCEL_ID = "peerbot:confirm:yes", "peerbot:confirm:no"
PREVIOUS_ID, NEXT_ID = "peerbot:peers:prev", "peerbot:peers:next"
bound_buttons(POST_ID, EDIT_ID, CONFIRM_ID, CANCEL_ID, PREVIOUS_ID, NEXT_ID)
_PLACEHOLDERS = {
    "name": "Your name as peers should see it",
    "organisation": "Your organisation or network (optional)",
    "country": "e.g. France, Mexico, Korea",
    "topics": "e.g. impact measurement, social procurement, cooperatives",
    "offer_seek": "e.g. I can share our city's SSE strategy; looking for legal framework examples",
}
_LONG_FIELDS = {"topics", "offer_seek"}


def placeholder(key: str) -> str:
    """The field's example plus its limit, within Discord's 100 characters."""
    text = f"{_PLACEHOLDERS[key]} ({FIELD_LIMITS[key].hint})"
    return text if len(text) <= 100 else f"{FIELD_LIMITS[key].hint}"


class IntroModal(BoundForm):
    """The five fields of an introduction, with the limits enforced by Discord and checked again here.

    Only ``owner_id`` may submit it; the consortium chosen when it was opened travels with it.
    """

    def __init__(
        self,
        draft: IntroDraft | None,
        consortium: str | None,
        *,
        owner_id: int,
        replace_message: bool = False,
    ) -> None:
        super().__init__(
            kind=INTRO,
            owner_id=owner_id,
            subject="their introduction",
            title="Edit your introduction" if draft else "Introduce yourself",
            timeout=FORM_TIMEOUT,
        )
        self.consortium = consortium
        self.replace_message = replace_message  # opened from a preview: update that preview in place
        self.inputs: dict[str, discord.ui.TextInput] = {}
        for key, limit in FIELD_LIMITS.items():
            text_input: discord.ui.TextInput = discord.ui.TextInput(
                label=limit.label,
                custom_id=key,
                style=discord.TextStyle.paragraph if key in _LONG_FIELDS else discord.TextStyle.short,
                placeholder=placeholder(key),
                default=(getattr(draft, key) or None) if draft else None,
                required=limit.minimum > 0,
                min_length=limit.minimum or None,
                max_length=limit.maximum,
            )
            self.inputs[key] = text_input
            self.add_item(text_input)

    def draft(self) -> IntroDraft:
        values = {key: text_input.value or "" for key, text_input in self.inputs.items()}
        return IntroDraft(consortium=self.consortium, **values)

    async def on_submit(self, interaction: discord.Interaction[PeerBot]) -> None:
        draft = self.draft()
        await show_preview(interaction, draft, replace=self.replace_message)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:
        log.error("The introduction form failed", exc_info=error)
        await _tell(interaction, "Sorry, something went wrong with the form. Please try again.")


async def _tell(interaction: discord.Interaction, text: str) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


async def show_preview(
    interaction: discord.Interaction[PeerBot], draft: IntroDraft, *, replace: bool
) -> None:
    """The member's card, privately, with Post and Edit; or the problems, with Edit to fix them."""
    problems = validate_draft(draft)
    owner = interaction.user.id
    if problems:
        kwargs: dict[str, Any] = {
            "content": "Please fix your introduction:\n" + "\n".join(f"- {p}" for p in problems),
            "embed": None,
            "view": PreviewView(owner, draft, can_post=False),
        }
    else:
        kwargs = {
            "content": "This is how your card will look. Nothing is public until you press **Post**.",
            "embed": card_embed(draft, owner),
            "view": PreviewView(owner, draft, can_post=True),
        }
    if replace:
        await interaction.response.edit_message(**kwargs)
    else:
        if kwargs["embed"] is None:
            del kwargs["embed"]
        await interaction.response.send_message(ephemeral=True, **kwargs)


async def open_intro_form(interaction: discord.Interaction[PeerBot], consortium: str | None = "") -> None:
    """Open the form, pre-filled with the member's introduction; ``consortium`` "" keeps theirs."""
    if interaction.guild is None:
        await _tell(interaction, "Introductions belong to a server: use this command in one.")
        return
    services = interaction.client.services
    settings = await services.guild_settings.get(interaction.guild.id)
    if settings.introductions_channel_id is None:
        await _tell(interaction, missing_channel_message("introductions"))
        return
    existing = await services.intros.get(interaction.guild.id, interaction.user.id)
    draft = existing.draft() if existing else None
    if consortium == "":
        consortium = existing.consortium if existing else None
    await send_form(interaction, IntroModal(draft, consortium, owner_id=interaction.user.id))


class OwnedView(discord.ui.View):
    """A private view whose buttons only the member it was made for may press."""

    def __init__(self, owner_id: int, timeout: float | None = VIEW_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        claim(interaction)
        if interaction.user.id == self.owner_id:
            return True
        log.warning("Refused: member %d pressed %s on buttons of member %d", interaction.user.id,
                    type(self).__name__, self.owner_id)  # fmt: skip
        await interaction.response.send_message("These buttons belong to someone else.", ephemeral=True)
        return False


class PreviewView(OwnedView):
    """Post publishes (or updates) the card; Edit re-opens the form with what was typed."""

    def __init__(self, owner_id: int, draft: IntroDraft, *, can_post: bool) -> None:
        super().__init__(owner_id)
        self.draft = draft
        if not can_post:
            self.remove_item(self.post)

    @discord.ui.button(label="Post", style=discord.ButtonStyle.success, custom_id=POST_ID)
    async def post(self, interaction: discord.Interaction[PeerBot], _: discord.ui.Button) -> None:
        guild = interaction.guild
        if guild is None:
            return
        services = interaction.client.services
        settings = await services.guild_settings.get(guild.id)
        if settings.introductions_channel_id is None:
            await interaction.response.edit_message(
                content=missing_channel_message("introductions"), view=None
            )
            return
        await interaction.response.defer()  # posting may wait on Discord's rate limits
        try:
            intro = await services.intros.save(guild.id, self.owner_id, self.draft)
        except IntroError as exc:
            text = "Please fix your introduction:\n" + "\n".join(f"- {p}" for p in exc.problems)
            await interaction.edit_original_response(content=text, embed=None, view=None)
            return
        try:
            intro = await publish_card(interaction.client, intro, settings.introductions_channel_id)
        except CardError as exc:
            await interaction.edit_original_response(
                content=f"Your introduction is saved, but the card is not posted: {exc}", view=None
            )
            return
        self.stop()
        channel_id = intro.card_channel_id or settings.introductions_channel_id
        await interaction.edit_original_response(
            content=f"Posted in <#{channel_id}>. Change it any time with /intro edit.", view=None
        )

    @discord.ui.button(label="Edit", style=discord.ButtonStyle.secondary, custom_id=EDIT_ID)
    async def edit(self, interaction: discord.Interaction[PeerBot], _: discord.ui.Button) -> None:
        self.stop()
        form = IntroModal(self.draft, self.draft.consortium, owner_id=self.owner_id, replace_message=True)
        await send_form(interaction, form)


Action = Callable[[discord.Interaction[Any]], Awaitable[str]]


class ConfirmView(OwnedView):
    """Asks before something that cannot be undone; ``action`` runs on confirm and returns the outcome."""

    def __init__(self, owner_id: int, action: Action, confirm_label: str = "Delete") -> None:
        super().__init__(owner_id)
        self.action = action
        self.confirm.label = confirm_label

    @discord.ui.button(label="Delete", style=discord.ButtonStyle.danger, custom_id=CONFIRM_ID)
    async def confirm(self, interaction: discord.Interaction[PeerBot], _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.defer()
        outcome = await self.action(interaction)
        await interaction.edit_original_response(content=outcome, embed=None, view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=CANCEL_ID)
    async def cancel(self, interaction: discord.Interaction[PeerBot], _: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content=CANCELLED, embed=None, view=None)


class PeersPager(OwnedView):
    """Previous and Next over /peers search results; each page is searched afresh."""

    def __init__(
        self, owner_id: int, guild_id: int, filters: dict[str, str | None], page: int, pages: int
    ) -> None:
        super().__init__(owner_id)
        self.guild_id = guild_id
        self.filters = filters
        self.page = page
        self.pages = pages
        self._refresh()

    def _refresh(self) -> None:
        self.previous.disabled = self.page <= 1
        self.next.disabled = self.page >= self.pages

    async def _show(self, interaction: discord.Interaction[PeerBot], page: int) -> None:
        store = interaction.client.services.intros
        try:
            found = await store.search(
                self.guild_id, **self.filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
        except IntroError as exc:
            await interaction.response.edit_message(content="\n".join(exc.problems), embed=None, view=None)
            return
        self.pages = page_count(found.total)
        self.page = min(page, self.pages)
        self._refresh()
        embed = peers_embed(found.items, found.total, self.page, self.pages)
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, custom_id=PREVIOUS_ID)
    async def previous(self, interaction: discord.Interaction[PeerBot], _: discord.ui.Button) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary, custom_id=NEXT_ID)
    async def next(self, interaction: discord.Interaction[PeerBot], _: discord.ui.Button) -> None:
        await self._show(interaction, self.page + 1)


class IntroduceButton(discord.ui.DynamicItem[discord.ui.Button], template=re.escape(START_ID)):
    """The "Introduce yourself" button in the introductions channel; it survives restarts."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Introduce yourself", style=discord.ButtonStyle.primary, custom_id=START_ID
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> IntroduceButton:
        return cls()

    async def callback(self, interaction: discord.Interaction[PeerBot]) -> None:
        await open_intro_form(interaction)


def introduce_view() -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(IntroduceButton())
    return view
