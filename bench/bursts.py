"""Hundreds of members using ``/ask`` at the same moment, with Discord's 3-second interaction window enforced.

A slash command must get its initial response within 3 s or it is gone: Discord answers the late
callback with 404 "Unknown interaction" and the member sees "The application did not respond". A
sequential latency figure cannot show whether a class announcing "ask PeerBot now" is served, so this
fires a whole burst at once against the loopback fake Discord (``FakeDiscord(interaction_timeout=3)``,
which expires interactions as Discord does) with PeerBot as ``python -m peerbot run`` in a subprocess
(``bench.discord_e2e.running_bot``). The baseline is the same burst of ``/help`` in the same run: the
same gateway event, slash dispatch and callback, but no retrieval, so the difference is what answering
costs under load rather than what the loopback Discord and discord.py cost.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.common import Context, Section, median, percentile, ratio, table
from bench.discord_e2e import _fake_discord, running_bot

BURST = 500
QUICK_BURST = 100
USERS = 5  # members the burst is spread over
WARM_UP = 3  # uncounted /ask and /help pairs: first imports, caches, the database file
RUNS = 3
HANG_GUARD_S = 60.0  # only keeps a broken bot from hanging the run; every burst settles in the window
IDLE_CPU = 0.05  # the bot counts as idle (bookkeeping done) below this share of one core


@dataclass
class Burst:
    answered: int
    expired: int
    seconds: list[float]  # dispatch to accepted initial response; inf for an expired interaction
    callbacks: Counter[int]
    spread: float  # seconds from the first dispatch to the last: how "at once" the burst was

    def pct(self, pct: float) -> float:
        value = percentile(self.seconds, pct) * 1000
        return value if math.isfinite(value) else math.inf  # inf - inf between two expired is nan


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far, None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _bot_idle(pid: int, period: float = 0.25) -> None:
    """Until the bot uses under ``IDLE_CPU`` of a core, so one burst's tail does not hit the next."""
    before = _cpu_seconds(pid)
    for _ in range(int(HANG_GUARD_S / period)):
        await asyncio.sleep(period)
        now = _cpu_seconds(pid)
        if before is None or now is None or now - before < IDLE_CPU * period:
            return
        before = now


async def _burst(fake: Any, pid: int, name: str, options: list[dict[str, str] | None]) -> Burst:
    users = [f"burst{n % USERS}" for n in range(len(options))]
    handles = await asyncio.gather(
        *(fake.invoke_slash(name, opts, user=user) for opts, user in zip(options, users, strict=True))
    )
    await fake.recorder.wait_until(
        lambda: all(h.interaction.responded or h.expired for h in handles) or None,
        HANG_GUARD_S,
        lambda: f"/{name}: {sum(not h.interaction.responded for h in handles)} interactions still open",
    )
    await _bot_idle(pid)
    seconds = [math.inf if h.answered_after is None else h.answered_after for h in handles]
    callbacks = Counter(h.interaction.callbacks[0]["type"] for h in handles if h.interaction.responded)
    created = [h.interaction.created for h in handles]
    late = sum(h.expired for h in handles)
    return Burst(len(handles) - late, late, seconds, callbacks, max(created) - min(created))


async def _measure(ctx: Context, size: int, runs: int) -> tuple[list[Burst], list[Burst], list[str]]:
    from peerbot.discord.endpoints import is_loopback

    fake_discord = _fake_discord()  # puts tests/e2e on sys.path
    from fake_discord import INTERACTION_WINDOW_S

    texts = [q.text for q in ctx.questions]
    ask_options: list[dict[str, str] | None] = [{"question": texts[n % len(texts)]} for n in range(size)]
    work = ctx.work / "bursts"
    work.mkdir(exist_ok=True)
    fake = fake_discord(interaction_timeout=INTERACTION_WINDOW_S)
    for number in range(USERS):  # before the bot connects, so GUILD_CREATE lists them
        fake.state.add_user(f"burst{number}")
    await fake.start()
    try:
        if not is_loopback(fake.api_url):
            raise RuntimeError(f"the fake Discord is not on loopback: {fake.api_url}")
        async with running_bot(fake, work) as bot:
            pid = bot.process.pid
            await fake.wait_for_commands("ask", "help")
            for options in ask_options[:WARM_UP]:
                await _burst(fake, pid, "ask", [options])
                await _burst(fake, pid, "help", [None])
            asks, helps = [], []
            for number in range(runs):
                order = ["help", "ask"] if number % 2 == 0 else ["ask", "help"]  # a slow spell hits both
                for name in order:
                    print(f"  bursts: {size} × /{name}, run {number + 1}/{runs}", file=sys.stderr, flush=True)
                    if name == "ask":
                        asks.append(await _burst(fake, pid, "ask", ask_options))
                    else:
                        helps.append(await _burst(fake, pid, "help", [None] * size))
        unknown = list(fake.unknown_routes)
    finally:
        await fake.stop()
    return asks, helps, unknown


def _ms(value: float) -> str:
    return f"{value:.0f}" if math.isfinite(value) else "> 3000 (expired)"


def _ratio(value: float, baseline: float) -> str:
    return ratio(value, baseline) if math.isfinite(value) and math.isfinite(baseline) else "n/a"


def run(ctx: Context) -> Section:
    size = QUICK_BURST if ctx.settings.quick else BURST
    runs = 1 if ctx.settings.quick else min(ctx.settings.repeats, RUNS)
    asks, helps, unknown = asyncio.run(_measure(ctx, size, runs))

    def stats(bursts: list[Burst]) -> tuple[int, int, float, float, float]:
        answered, expired = sum(b.answered for b in bursts), sum(b.expired for b in bursts)
        return answered, expired, *(median(b.pct(p) for b in bursts) for p in (50, 99, 100))

    a_ok, a_late, a50, a99, amax = stats(asks)
    h_ok, h_late, h50, h99, hmax = stats(helps)
    count = f"{size} × {runs}"
    rows = [
        ["PeerBot `/ask <question>`", count, a_ok, a_late, _ms(a50), _ms(a99), _ms(amax)],
        ["Baseline `/help` (no retrieval)", count, h_ok, h_late, _ms(h50), _ms(h99), _ms(hmax)],
        ["Ratio (`/ask` ÷ `/help`)", "", "", "", _ratio(a50, h50), _ratio(a99, h99), ""],
    ]
    kinds = sum((b.callbacks for b in asks), Counter())
    spread = median(b.spread for b in asks + helps)
    over = f" ({size} × {runs} runs)" if runs > 1 else ""
    notes = [
        f"{size} slash commands dispatched at once (one `INTERACTION_CREATE` each on the gateway, spread "
        f"over {USERS} members) by the loopback fake Discord, which enforces Discord's 3 s interaction "
        "window: a callback after it is refused with 404 `Unknown interaction`, so a late answer counts as "
        "expired, as the member would see it. PeerBot is `python -m peerbot run` in a subprocess, the real "
        "discord.py client with the bundled knowledge; the fake, the driver and the bot share this "
        f"machine's {os.cpu_count()} cores. Time is from the fake dispatching an interaction to accepting "
        "its initial response; the `/ask` questions cycle through the evaluation set. Each run fires a "
        f"burst of `/help` and one of `/ask`, alternating which goes first, after {WARM_UP} uncounted "
        "warm-up pairs and waiting for the bot to go idle between bursts; p50 / p99 / max are per burst "
        f"(an expired interaction counts as slower than any answer), median over {runs} run(s).",
        table(
            ["Command", "Interactions × runs", "Answered in window", "Expired", "p50 ms", "p99 ms", "max ms"],
            rows,
        ),
        f"All {size} of a burst were dispatched within {spread * 1000:.0f} ms (median). `/ask` initial "
        f"responses: {kinds[4]} answered directly (callback type 4), {kinds[5]} deferred (type 5)"
        + ("." if set(kinds) <= {4, 5} else f", other types: {dict(kinds)}."),
    ]
    if unknown:
        notes.append(f"⚠️ The bot called routes the fake does not know: {', '.join(unknown)}")
    headline = {
        f"{size} concurrent `/ask`: answered in the 3 s window, p99 (baseline `/help`)": (
            f"{a_ok}/{a_ok + a_late}{over}, p99 {_ms(a99)} ms ({_ms(h99)} ms, {_ratio(a99, h99)})"
            + (f"; `/help` expired {h_late}" if h_late else "")
        )
    }
    return Section(f"Bursts: {size} slash commands at once", "\n\n".join(notes), [], headline)
