"""/privacy show and /privacy forget-me in the terminal, over the same privacy service as Discord."""

from __future__ import annotations

from typing import TYPE_CHECKING

from peerbot.console.commands.intros import confirm
from peerbot.core.intro_policy import CANCELLED, FORGET_QUESTION, forget_summary, privacy_lines
from peerbot.core.privacy import PrivacyError

if TYPE_CHECKING:
    from peerbot.console.chat import ConsoleChat

USAGE = "Usage: /privacy show, /privacy forget-me"


async def privacy(chat: ConsoleChat, rest: str) -> None:
    sub = rest.strip().casefold()
    member_id = chat.actor.member_id
    service = chat.services.privacy
    if sub in ("", "show"):
        try:
            found = await service.describe(member_id)
        except PrivacyError as exc:
            found = {**exc.done, "problem": [str(exc)]}
        chat.write("\n".join(["What PeerBot stores about you:", *privacy_lines(found)]))
    elif sub in ("forget-me", "forget"):
        if not await confirm(chat, FORGET_QUESTION):
            chat.write(CANCELLED)
            return
        try:
            chat.write(forget_summary(await service.forget(member_id)))
        except PrivacyError as exc:
            chat.write(str(exc))
    else:
        chat.write(USAGE)


def register(chat: ConsoleChat) -> None:
    chat.add_command("privacy", privacy)
