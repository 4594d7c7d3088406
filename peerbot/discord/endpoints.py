"""Where discord.py sends REST calls and opens the gateway.

Operators put REST proxies in front of large bots, and the end-to-end tests point the real client at
a loopback fake Discord. discord.py builds every REST URL (webhooks and interaction callbacks
included) from ``discord.http.Route.BASE`` and a non-sharded client opens
``DiscordWebSocket.DEFAULT_GATEWAY``; resumes go to the ``resume_gateway_url`` sent in READY.
This module is the one place that changes them.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

log = logging.getLogger(__name__)

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class EndpointError(ValueError):
    """A configured Discord URL that cannot be used."""


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine only."""
    host = urlsplit(url).hostname or ""
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


def _check(url: str, schemes: tuple[str, ...], name: str, *, loopback_only: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        raise EndpointError(f"{name} must be a {' or '.join(schemes)} URL, got {url!r}")
    if loopback_only and not is_loopback(url):
        raise EndpointError(f"{name} must point at 127.0.0.1 here, got {url!r}")
    return url.rstrip("/")


def apply_endpoints(api_url: str | None, gateway_url: str | None, *, loopback_only: bool = False) -> None:
    """Point discord.py at another REST base (``.../api/v10``) and gateway (``ws://...``)."""
    if api_url:
        Route.BASE = _check(
            api_url, ("http", "https"), "PEERBOT_DISCORD_API_URL", loopback_only=loopback_only
        )
        log.info("Discord REST calls go to %s", Route.BASE)
    if gateway_url:
        checked = _check(
            gateway_url, ("ws", "wss"), "PEERBOT_DISCORD_GATEWAY_URL", loopback_only=loopback_only
        )
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(checked + "/")
        log.info("Discord gateway is %s", checked)
