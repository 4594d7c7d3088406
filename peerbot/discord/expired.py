"""Interactions Discord gave up on: answered too late, they cost one log line and are never retried.

Discord allows 3 s for the first response to an interaction; after that its callback answers 404
"Unknown interaction" (code 10062) and nothing sent for it can reach the member. Answering again (the
error handler's "Sorry, something went wrong") can only fail the same way, and it buried the log under
chained tracebacks. Where PeerBot's own code sends the response, its error handlers ask
:func:`expired_interaction`; where discord.py sends it (an autocomplete's choices, a button callback's
error), :class:`QuietExpired` turns discord.py's traceback into the same single line.
"""

from __future__ import annotations

import logging
import re

import discord

log = logging.getLogger(__name__)

UNKNOWN_INTERACTION = 10062
WINDOW_S = 3  # Discord's limit for an interaction's first response
# discord.py logs what it handles itself on these loggers (autocomplete, views, events, commands).
DISCORD_LOGGERS = (
    "discord.app_commands.tree",
    "discord.ui.view",
    "discord.client",
    "discord.ext.commands.bot",
)
_CALLBACK = re.compile(r"/interactions/(\d+)/")
EXPIRED = "Interaction %s (%s) expired before PeerBot answered (Discord allows %d s); not retrying"


def expired_interaction(error: BaseException | None) -> discord.NotFound | None:
    """The "Unknown interaction" behind ``error`` (wrapped by command errors, or chained), or None."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, discord.NotFound) and error.code == UNKNOWN_INTERACTION:
            return error
        error = getattr(error, "original", None) or error.__cause__ or error.__context__
    return None


def interaction_id_of(error: discord.HTTPException) -> str:
    """The interaction id in the failed callback's URL ("?" when it cannot be read)."""
    url = getattr(getattr(error, "response", None), "url", None)
    found = _CALLBACK.search(str(getattr(url, "path", url) or ""))
    return found[1] if found else "?"


def log_expired(interaction_id: int | str, what: str) -> None:
    """The one line an expired interaction is worth: which one, for what."""
    log.warning(EXPIRED, interaction_id, what, WINDOW_S)


class QuietExpired(logging.Filter):
    """Rewrites discord.py's "Ignoring exception ..." record for an expired interaction as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        found = expired_interaction(error)
        if found is None:
            return True
        if "autocomplete" in str(record.msg):
            what = "autocomplete"
        else:
            what = "component" if record.name == "discord.ui.view" else "event"
        record.msg, record.args = EXPIRED, (interaction_id_of(found), what, WINDOW_S)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


_FILTER = QuietExpired()


def quiet_expired_interactions() -> None:
    """Install the filter on discord.py's loggers (idempotent)."""
    for name in DISCORD_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
