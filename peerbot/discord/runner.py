"""Running the Discord front-end, turning the usual start-up failures into one-line errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import discord

from peerbot.config import Settings
from peerbot.core.services import Services
from peerbot.core.storage.lock import DataDirLock
from peerbot.discord.bot import PeerBot
from peerbot.discord.endpoints import EndpointError, apply_endpoints

log = logging.getLogger(__name__)

PRIVILEGED_HELP = (
    "Discord refused the privileged intents PeerBot needs: enable 'Message Content Intent' and "
    "'Server Members Intent' on the Bot page of your application in the Discord Developer Portal"
)


def _reload(services: Services) -> None:
    """SIGHUP re-reads the knowledge files; a broken file is logged and the last good knowledge stays."""
    report = services.library.reload()
    if report.ok:
        log.info("Reloaded the knowledge base: %d entries", report.entries)
    else:
        for problem in report.problems:
            log.error("Knowledge reload refused: %s", problem)


async def _serve(settings: Settings) -> None:
    services = await Services.open(
        settings.knowledge_dir, settings.database_path, event_settings=settings.events
    )
    bot = PeerBot(settings, services)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, AttributeError):  # no such signals on Windows
        loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(bot.close()))
        loop.add_signal_handler(signal.SIGHUP, lambda: _reload(services))
    try:
        async with bot:
            await bot.start(settings.token or "")
    finally:
        await services.close()


class BotStartError(RuntimeError):
    """Discord could not be reached or refused PeerBot; the message is one line for the operator."""


def run_bot(settings: Settings) -> int:
    """Connect and serve until closed; start-up failures raise :class:`BotStartError`.

    The data directory is locked first, before anything is logged: a second PeerBot on the same
    database would deliver every reminder twice, so it stops with ``DataDirLocked`` (one line, exit 1).
    """
    try:
        with DataDirLock(settings.data_dir):
            apply_endpoints(settings.api_url, settings.gateway_url)
            asyncio.run(_serve(settings))
    except EndpointError as exc:
        raise BotStartError(str(exc)) from None
    except discord.LoginFailure:
        raise BotStartError(
            "Discord rejected the token: check DISCORD_TOKEN (Developer Portal > Bot > Reset Token)"
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise BotStartError(PRIVILEGED_HELP) from None
    except (discord.GatewayNotFound, discord.HTTPException, OSError) as exc:
        raise BotStartError(f"cannot reach Discord: {exc}") from None
    return 0
