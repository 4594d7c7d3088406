"""PeerBot as users meet it: `peerbot run` in a subprocess, connected to the loopback fake Discord.

The bot is pointed at the fake by configuration only (PEERBOT_DISCORD_API_URL / _GATEWAY_URL); the
tests never patch PeerBot's code. Every server and process started here is stopped in teardown,
also when a test fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest_asyncio
from fake_discord import FakeDiscord

READY_TIMEOUT = 30.0


@dataclass
class RunningBot:
    process: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_for_log(self, text: str, within: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + within
        while text not in self.log():
            if self.process.returncode is not None:
                raise AssertionError(f"peerbot exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"peerbot did not log {text!r} in {within}s:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.05)


def bot_env(fake: FakeDiscord, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEERBOT_", "DISCORD_"))}
    env.update(fake.env())
    env.update(PEERBOT_DATA_DIR=str(data_dir), PEERBOT_GUILD_ID=str(fake.guild_id), PEERBOT_LOG_LEVEL="INFO")
    env.update(extra)
    return env


async def start_bot(env: dict[str, str], log_path: Path) -> RunningBot:
    log_file = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "peerbot", "run",
        stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=asyncio.subprocess.STDOUT, env=env,
    )  # fmt: skip
    log_file.close()
    return RunningBot(process, log_path)


async def stop_bot(bot: RunningBot) -> None:
    if bot.process.returncode is None:
        bot.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.process.wait(), 10)
        except TimeoutError:
            bot.process.kill()
            await bot.process.wait()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, tmp_path_factory) -> AsyncIterator[RunningBot]:
    directory = tmp_path_factory.mktemp("peerbot")
    running = await start_bot(bot_env(fake, directory / "data"), directory / "peerbot.log")
    try:
        await running.wait_for_log("Ready as")
        yield running
    finally:
        await stop_bot(running)


@dataclass
class BotProcess:
    """A bot that a test can stop and start again on the same database (restarts are journeys too)."""

    fake: FakeDiscord
    directory: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    ready_log: str = "Ready as"
    running: RunningBot | None = None
    starts: int = 0

    async def start(self) -> None:
        self.starts += 1
        env = bot_env(self.fake, self.directory / "data", **self.extra_env)
        self.running = await start_bot(env, self.directory / f"peerbot-{self.starts}.log")
        await self.running.wait_for_log(self.ready_log)

    async def stop(self) -> None:
        if self.running is not None:
            await stop_bot(self.running)

    async def kill(self) -> None:
        """SIGKILL: nothing of PeerBot's runs after it, as when the OOM killer or a power cut stops it."""
        if self.running is not None and self.running.process.returncode is None:
            self.running.process.kill()
            await self.running.process.wait()


def pings_nobody(allowed_mentions: dict | None) -> bool:
    """Discord pings only what allowed_mentions lets through: nothing parsed, no ids, no reply ping."""
    return bool(
        allowed_mentions is not None
        and allowed_mentions.get("parse") == []
        and not allowed_mentions.get("users")
        and not allowed_mentions.get("roles")
        and not allowed_mentions.get("replied_user", False)
    )
