"""FakeDiscord: the aiohttp server on a free 127.0.0.1 port, tying state, REST and gateway together."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from aiohttp import web

from .driver import Driver
from .gateway import PRIVILEGED_INTENTS, Gateway
from .records import Recorder
from .rest import API_PREFIX, RestApi
from .state import FakeState

log = logging.getLogger(__name__)

_LOOPBACK = ("127.0.0.1", "::1")


class FakeDiscord(Driver):
    """A fake Discord for one bot: ``async with FakeDiscord() as fake: ...``.

    Point discord.py at ``api_url`` and ``gateway_url`` (or pass ``env()`` to ``peerbot run``).
    ``privileged_intents`` are the ones "enabled in the developer portal"; asking for others gets
    close code 4014 like on Discord.
    ``interaction_timeout``: seconds before an unanswered interaction expires (Discord: 3); None, never.
    """

    def __init__(
        self,
        token: str = "fake-discord-token",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_interval: int = 41250,
        privileged_intents: int = PRIVILEGED_INTENTS,
        interaction_timeout: float | None = None,
    ) -> None:
        if host not in _LOOPBACK:
            raise ValueError(f"the fake Discord only listens on loopback, not {host!r}")
        self.token = token
        self.host = host
        self.interaction_timeout = interaction_timeout  # INTERACTION_WINDOW_S to expire them as Discord
        self._requested_port = port
        self.port: int | None = None
        self.state = FakeState(token)
        self.recorder = Recorder()
        self.gateway = Gateway(
            self.state,
            self.recorder,
            url=lambda: self.gateway_url,
            heartbeat_interval=heartbeat_interval,
            privileged_intents=privileged_intents,
        )
        self.rest = RestApi(self.state, self.recorder, self.gateway, lambda: self.gateway_url)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeDiscord is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Value for ``discord.http.Route.BASE`` / PEERBOT_DISCORD_API_URL."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Value for the gateway (PEERBOT_DISCORD_GATEWAY_URL), also sent as resume_gateway_url."""
        return self.base_url.replace("http://", "ws://", 1) + "/gateway"

    def env(self) -> dict[str, str]:
        """Environment for ``peerbot run`` in a subprocess."""
        return {
            "PEERBOT_DISCORD_API_URL": self.api_url,
            "PEERBOT_DISCORD_GATEWAY_URL": self.gateway_url,
            "DISCORD_TOKEN": self.token,
        }

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        self.rest.install(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        log.info("fake Discord listening on %s (gateway %s)", self.api_url, self.gateway_url)
        return self

    async def stop(self) -> None:
        """Close every gateway socket (code 1001) and the server: stop the bot first, or it reconnects."""
        if self._runner is None:
            return
        for hold in self.rest.holds:  # a held request must not keep the server from shutting down
            hold.release()
        await self.gateway.close_all()
        await self._runner.cleanup()
        self._runner = None
        log.info("fake Discord stopped")

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def __repr__(self) -> str:
        where: Any = self.api_url if self.port else "not started"
        return f"<FakeDiscord {where}>"
