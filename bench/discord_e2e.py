"""A question's trip through Discord: ``!ask`` sent to the loopback fake Discord, PeerBot's reply recorded.

PeerBot runs exactly as in production and in the end-to-end tests (tests/e2e/conftest.py):
``python -m peerbot run`` in a subprocess, the real discord.py client, pointed at the fake's REST and
gateway on 127.0.0.1 by configuration only. The benchmark acts as members through the fake's driver
(a MESSAGE_CREATE on the gateway) and stops the clock when the fake has recorded the bot's message in
that channel. The baseline is the same bot answering ``!help``: the same gateway event, prefix-command
dispatch and REST post, but no retrieval, no answer formatting and no database write. The difference is
what answering a question costs on top of Discord's round trip.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import ROOT, Context, Section, median, percentile, ratio, table

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

E2E = ROOT / "tests" / "e2e"
READY = "Ready as"
READY_TIMEOUT_S = 60.0
REPLY_TIMEOUT_S = 30.0
CONCURRENT = 4  # askers at once, each in their own channel
MESSAGES = 400  # per throughput run
QUICK_QUESTIONS = 12
QUICK_MESSAGES = 24
THROUGHPUT_RUNS = 5
WARM_UP = 5
BASELINE = "!help"


def _fake_discord() -> Any:
    if str(E2E) not in sys.path:
        sys.path.insert(0, str(E2E))
    from fake_discord import FakeDiscord

    return FakeDiscord


@dataclass
class Bot:
    process: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _env(fake: Any, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEERBOT_", "DISCORD_"))}
    env.update(fake.env())
    env.update(PEERBOT_DATA_DIR=str(data_dir), PEERBOT_GUILD_ID=str(fake.guild_id), PEERBOT_LOG_LEVEL="INFO")
    return env


@asynccontextmanager
async def running_bot(fake: Any, work: Path) -> AsyncIterator[Bot]:
    """``peerbot run`` against ``fake``, ready; always stopped (SIGTERM, then kill) on the way out."""
    log_path = work / "discord-bot.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "peerbot", "run",
            stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=asyncio.subprocess.STDOUT,
            env=_env(fake, work / "discord-data"), cwd=work,
        )  # fmt: skip
    bot = Bot(process, log_path)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while READY not in bot.log():
            if process.returncode is not None:
                raise RuntimeError(f"peerbot run exited with {process.returncode}:\n{bot.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"peerbot run never logged {READY!r}:\n{bot.log()[-3000:]}")
            await asyncio.sleep(0.05)
        yield bot
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def round_trip(fake: Any, user: str, channel: Any, content: str) -> float:
    """Seconds from posting ``content`` as ``user`` in ``channel`` to the bot's next message there."""
    recorder = fake.recorder
    first = len(recorder.messages)

    def reply() -> Any:
        return next(
            (m for m in recorder.messages[first:] if m.channel_id == channel.id and not m.loading), None
        )

    start = time.perf_counter()
    await fake.send_message(user, channel, content)
    await recorder.wait_until(
        reply, REPLY_TIMEOUT_S, lambda: f"no reply to {content!r}\n" + recorder.summary()
    )
    return time.perf_counter() - start


async def throughput(
    fake: Any, channels: list[Any], users: list[str], contents: Iterator[str], total: int
) -> float:
    """Messages per second with one asker per channel, each sending its next message on a reply."""
    left = [total]

    async def asker(index: int) -> None:
        while left[0] > 0:
            left[0] -= 1
            await round_trip(fake, users[index], channels[index], next(contents))

    start = time.perf_counter()
    await asyncio.gather(*(asker(i) for i in range(len(channels))))
    return total / (time.perf_counter() - start)


def _cycle(items: list[str]) -> Iterator[str]:
    while True:
        yield from items


@dataclass
class Measured:
    asks: list[list[float]]  # per pass, seconds per question
    helps: list[list[float]]
    ask_qps: list[float]
    help_qps: list[float]
    questions: int
    messages: int
    unknown_routes: list[str]

    @staticmethod
    def stat(passes: list[list[float]], pct: float) -> float:
        return median(percentile(one, pct) * 1000 for one in passes)


async def _measure(ctx: Context) -> Measured:
    from peerbot.discord.endpoints import is_loopback

    quick = ctx.settings.quick
    questions = [q.text for q in ctx.questions]
    if quick:
        questions = questions[:QUICK_QUESTIONS]
    messages = QUICK_MESSAGES if quick else MESSAGES
    work = ctx.work / "discord"
    work.mkdir(exist_ok=True)
    fake = _fake_discord()()
    # One channel per concurrent asker, made before the bot connects so GUILD_CREATE lists them.
    from fake_discord import FakeChannel

    channels = []
    for number in range(CONCURRENT):
        channel = FakeChannel(
            fake.state.snowflakes.next(), f"bench-{number}", 0, fake.guild_id, position=10 + number
        )
        fake.state.channels[channel.id] = channel
        fake.state.messages[channel.id] = {}
        channels.append(channel)
    users = [fake.state.add_user(f"asker{number}").username for number in range(CONCURRENT)]
    await fake.start()
    try:
        if not is_loopback(fake.api_url):
            raise RuntimeError(f"the fake Discord is not on loopback: {fake.api_url}")
        async with running_bot(fake, work):
            general = fake.channel("general")
            for question in questions[:WARM_UP]:  # uncounted: first imports, caches, the database file
                await round_trip(fake, "alice", general, f"!ask {question}")
                await round_trip(fake, "alice", general, BASELINE)
            asks: list[list[float]] = []
            helps: list[list[float]] = []
            for number in range(ctx.settings.repeats):
                print(
                    f"  discord: sequential pass {number + 1}/{ctx.settings.repeats}",
                    file=sys.stderr,
                    flush=True,
                )
                ask_times, help_times = [], []
                for question in questions:  # interleaved, so a slow spell hits both alike
                    ask_times.append(await round_trip(fake, "alice", general, f"!ask {question}"))
                    help_times.append(await round_trip(fake, "alice", general, BASELINE))
                asks.append(ask_times)
                helps.append(help_times)
            ask_qps, help_qps = [], []
            runs = min(ctx.settings.repeats, THROUGHPUT_RUNS)
            prompts = [f"!ask {question}" for question in questions]
            for number in range(runs):
                print(
                    f"  discord: {CONCURRENT} concurrent askers, run {number + 1}/{runs}",
                    file=sys.stderr,
                    flush=True,
                )
                ask_qps.append(await throughput(fake, channels, users, _cycle(prompts), messages))
                help_qps.append(await throughput(fake, channels, users, _cycle([BASELINE]), messages))
        unknown = list(fake.unknown_routes)
    finally:
        await fake.stop()
    return Measured(asks, helps, ask_qps, help_qps, len(questions), messages, unknown)


def run(ctx: Context) -> Section:
    m = asyncio.run(_measure(ctx))
    a50, h50 = Measured.stat(m.asks, 50), Measured.stat(m.helps, 50)
    a99, h99 = Measured.stat(m.asks, 99), Measured.stat(m.helps, 99)
    aq, hq = median(m.ask_qps), median(m.help_qps)
    passes = len(m.asks)
    latency_rows = [
        ["PeerBot `!ask <question>`", f"{m.questions} × {passes}", f"{a50:.1f}", f"{a99:.1f}"],
        [f"Baseline `{BASELINE}` (no retrieval)", f"{m.questions} × {passes}", f"{h50:.1f}", f"{h99:.1f}"],
        ["Ratio (PeerBot ÷ baseline)", "", ratio(a50, h50), ratio(a99, h99)],
        ["Difference (what answering costs)", "", f"{a50 - h50:+.1f}", f"{a99 - h99:+.1f}"],
    ]
    qps_rows = [
        ["PeerBot `!ask <question>`", f"{m.messages} × {len(m.ask_qps)}", f"{aq:.1f}"],
        [f"Baseline `{BASELINE}`", f"{m.messages} × {len(m.help_qps)}", f"{hq:.1f}"],
        ["Ratio (PeerBot ÷ baseline; higher is better here)", "", ratio(aq, hq)],
    ]
    notes = [
        "Wall time from the fake Discord dispatching a member's message (`MESSAGE_CREATE` on the gateway) "
        "to the fake recording the bot's reply (`POST /channels/{id}/messages`), seen from the test "
        "driver in the benchmark's process; PeerBot is `python -m peerbot run` in a subprocess with the "
        "bundled knowledge, exactly as the end-to-end tests start it, so the client, gateway, REST and "
        "SQLite are all real and only Discord's network is missing. Both sides share this machine's "
        "cores. The baseline is the same bot answering `!help` (hybrid command, one embed, no retrieval, "
        "no database write), timed alone and interleaved question by question.",
        f"**Sequential**: one member asks the {m.questions} evaluation questions one after the other, "
        "each as soon as the previous reply arrived; p50/p99 are over the questions of a pass, the table "
        f"gives the median over {passes} passes, after {WARM_UP} uncounted warm-up questions.",
        table(["Command", "Questions × passes", "p50 ms", "p99 ms"], latency_rows),
        f"**Sustained**: {CONCURRENT} members in {CONCURRENT} channels, each sending its next message as "
        f"soon as its previous one is answered, until {m.messages} messages are answered; messages per "
        "second from the first send to the last reply, median over runs.",
        table(["Command", "Messages × runs", "Replies per second"], qps_rows),
    ]
    if m.unknown_routes:
        notes.append(f"⚠️ The bot called routes the fake does not know: {', '.join(m.unknown_routes)}")
    headline = {
        "Discord `!ask` round trip p50 / p99 (baseline `!help`)": (
            f"{a50:.1f} / {a99:.1f} ms ({h50:.1f} / {h99:.1f} ms, {ratio(a50, h50)} / {ratio(a99, h99)})"
        ),
        f"Discord `!ask` replies per second, {CONCURRENT} askers (baseline `!help`)": (
            f"{aq:.1f} ({hq:.1f}, {ratio(aq, hq)})"
        ),
    }
    return Section("End-to-end Discord latency", "\n\n".join(notes), [], headline)
