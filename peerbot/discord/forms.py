"""Forms (modals) and private buttons bound to the member they were opened for, and an answer for a
submit or a click that nothing takes.

discord.py keeps ONE open modal per custom id for everybody (its view store is keyed by the custom id
alone), so a form with a fixed id was taken over by the last member to open it: their text went to
another member's entry, or their submit was dropped. So each opened form gets its own custom id,
``peerbot:form:<kind>:<owner id>:<nonce>`` (at most 61 characters, whatever the entry id), holds
what it was opened for (the entry and its version, the consortium), and only its owner may submit
it: anyone else is refused, and the form stays open for its owner.

Buttons on private messages (preview, confirmations, pager) are kept by discord.py per message, so
their ids can stay fixed; their views check the member and :func:`claim` the click.

A submit or click that no live form or view took (the form was open too long, PeerBot restarted
since, or the id was replayed by someone else) gets a private answer and a log line from
:func:`answer_unmatched` (the ``forms`` cog calls it for every interaction), never silence.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
from typing import Any

import discord

log = logging.getLogger(__name__)

FORM_PREFIX = "peerbot:form:"
MAX_CUSTOM_ID = 100  # Discord's limit
KB_ADD, KB_EDIT, INTRO = "kb-add", "kb-edit", "intro"
REOPEN = {KB_ADD: "/kb add", KB_EDIT: "/kb edit", INTRO: "/intro create"}
# Forms opened by PeerBot versions with one fixed id per form, submitted after the upgrade.
LEGACY_FORMS = {"peerbot:kb:entry-form": KB_ADD, "peerbot:intro:form": INTRO}
_FORM_ID = re.compile(r"peerbot:form:(?P<kind>[a-z-]{1,16}):(?P<owner>\d{1,20}):(?P<nonce>[0-9a-f]{16})")
_CLAIMED = "peerbot.claimed"  # interaction.extras key: a live form or view took this interaction
MAX_TYPED = 20_000

NOT_YOUR_FORM = "This form was opened by someone else, so nothing was saved. Open your own with {command}."
FORM_GONE = (
    "This form is no longer open: it was open too long, or PeerBot restarted since you opened it, so "
    "nothing was saved. Open it again with {command}{attached}."
)
BUTTONS_GONE = (
    "These buttons have expired: they were open too long, or PeerBot restarted since, so nothing was "
    "done. Run the command again."
)

_open_forms: dict[str, BoundForm] = {}
_bound_buttons: set[str] = set()


def form_custom_id(kind: str, owner_id: int) -> str:
    """A custom id of its own for one opened form: who it is for, and a nonce that makes it unique."""
    custom_id = f"{FORM_PREFIX}{kind}:{owner_id}:{secrets.token_hex(8)}"
    if not _FORM_ID.fullmatch(custom_id) or len(custom_id) > MAX_CUSTOM_ID:
        raise ValueError(f"not a valid form id: {custom_id!r}")
    return custom_id


def parse_form_id(custom_id: str) -> tuple[str, int | None] | None:
    """(kind, owner id) of one of PeerBot's form ids (owner None for a legacy id), else None."""
    if custom_id in LEGACY_FORMS:
        return LEGACY_FORMS[custom_id], None
    match = _FORM_ID.fullmatch(custom_id)
    return (match["kind"], int(match["owner"])) if match else None


def claim(interaction: discord.Interaction) -> None:
    """Mark the interaction as taken by a live form or view, so :func:`answer_unmatched` leaves it.

    Call it first thing in ``interaction_check``: discord.py starts the form's or view's task before
    it dispatches ``on_interaction``, and asyncio runs tasks in the order they were created, so the
    mark is set before the ``forms`` cog looks.
    """
    interaction.extras[_CLAIMED] = True


def bound_buttons(*custom_ids: str) -> frozenset[str]:
    """Declare the fixed ids of buttons that only work while their view lives (not dynamic items)."""
    _bound_buttons.update(custom_ids)
    return frozenset(custom_ids)


class BoundForm(discord.ui.Modal):
    """A form only ``owner_id`` may submit; ``subject`` names what it is for, in log lines."""

    def __init__(self, *, kind: str, owner_id: int, subject: str, title: str, timeout: float) -> None:
        super().__init__(title=title, timeout=timeout, custom_id=form_custom_id(kind, owner_id))
        self.kind = kind
        self.owner_id = owner_id
        self.subject = subject

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        """Refuse anyone but the owner; a refused submit leaves the form open for its owner."""
        claim(interaction)
        if interaction.user.id == self.owner_id:
            return True
        log.warning(
            "Refused: member %d submitted a form of member %d (%s, %s); it stays open for its owner",
            interaction.user.id, self.owner_id, self.kind, self.subject,
        )  # fmt: skip
        await interaction.response.send_message(
            NOT_YOUR_FORM.format(command=REOPEN.get(self.kind, "the command")), ephemeral=True
        )
        return False

    async def on_timeout(self) -> None:
        _open_forms.pop(self.custom_id, None)
        log.info("A form of member %d (%s, %s) expired unsubmitted", self.owner_id, self.kind, self.subject)

    def stop(self) -> None:
        _open_forms.pop(self.custom_id, None)
        super().stop()


async def send_form(interaction: discord.Interaction, form: BoundForm) -> None:
    """Open ``form`` for the member of ``interaction`` and remember it until it is submitted or expires."""
    if form.owner_id != interaction.user.id:
        raise ValueError(f"form for member {form.owner_id} opened for member {interaction.user.id}")
    await interaction.response.send_modal(form)
    for custom_id in [key for key, other in _open_forms.items() if not other.is_dispatching()]:
        del _open_forms[custom_id]  # stopped or expired without our hooks (keeps the dict bounded)
    if not form.is_finished():
        _open_forms[form.custom_id] = form


def is_open(custom_id: str) -> bool:
    """Whether a form with this id is open and listened for (discord.py will hand it the submit)."""
    form = _open_forms.get(custom_id)
    return form is not None and form.is_dispatching()


def typed_text(components: list[dict[str, Any]]) -> str:
    """What a submitted form held, input by input, from the raw submit (no form object is needed)."""
    parts: list[str] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if "components" in item:
                walk(item["components"])
            if "component" in item:
                walk([item["component"]])
            if item.get("value"):
                parts.append(f"{item.get('custom_id', '')}:\n{item['value']}\n")
            elif item.get("values"):
                parts.append(f"{item.get('custom_id', '')}:\n{', '.join(map(str, item['values']))}\n")

    walk(components)
    return "\n".join(parts)[:MAX_TYPED]


async def answer_unmatched(interaction: discord.Interaction) -> None:
    """Answer, privately, a form submit or a bound button click that no live form or view took."""
    if interaction.extras.get(_CLAIMED):
        return
    data: dict[str, Any] = dict(interaction.data or {})  # type: ignore[arg-type]
    custom_id = str(data.get("custom_id") or "")
    if interaction.type is discord.InteractionType.modal_submit:
        if is_open(custom_id):
            return  # discord.py hands it to the form (claimed as soon as its task runs)
        await _answer_gone_form(interaction, custom_id, data.get("components") or [])
    elif interaction.type is discord.InteractionType.component and custom_id in _bound_buttons:
        log.info(
            "Button %s pressed by member %d matches no live view (expired, or from before a restart)",
            custom_id, interaction.user.id,
        )  # fmt: skip
        await _reply(interaction, BUTTONS_GONE)


async def _answer_gone_form(interaction: discord.Interaction, custom_id: str, components: list[Any]) -> None:
    parsed = parse_form_id(custom_id)
    kind, owner_id = parsed if parsed else ("", None)
    command = REOPEN.get(kind, "the command")
    if owner_id is not None and owner_id != interaction.user.id:
        log.warning(
            "Refused: member %d submitted a form of member %d (%r) that matches no open form",
            interaction.user.id, owner_id, custom_id[:MAX_CUSTOM_ID],
        )  # fmt: skip
        await _reply(interaction, NOT_YOUR_FORM.format(command=command))
        return
    log.warning(
        "Form %r submitted by member %d matches no open form (open too long, or opened before a restart); "
        "answered with what was typed", custom_id[:MAX_CUSTOM_ID], interaction.user.id,
    )  # fmt: skip
    typed = typed_text(components)
    attached = ", and paste back what you typed (attached)" if typed else ""
    file = discord.File(io.BytesIO(typed.encode("utf-8")), filename="what-you-typed.txt") if typed else None
    await _reply(interaction, FORM_GONE.format(command=command, attached=attached), file)


async def _reply(interaction: discord.Interaction, text: str, file: discord.File | None = None) -> None:
    kwargs: dict[str, Any] = {"file": file} if file else {}
    try:
        await interaction.response.send_message(text, ephemeral=True, **kwargs)
    except (discord.InteractionResponded, discord.HTTPException):
        log.warning("Could not answer interaction %d", interaction.id, exc_info=True)
