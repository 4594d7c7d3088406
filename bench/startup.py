"""Start-to-ready of the terminal chat: how long a member (or a restart) waits before PeerBot answers.

``python -m peerbot`` is spawned with a stdin pipe and timed from just before the spawn until its
greeting line says "answers loaded", then told ``/quit``. The baseline is the floor no Python program
with PeerBot's dependencies can beat: starting the interpreter and importing yaml, rapidfuzz and
aiosqlite, timed from spawn to exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import Context, Section, median, percentile, ratio, table
from bench.synthetic import synthetic_entries, write_knowledge_dir

READY = "answers loaded"
TARGET_S = 1.5
LARGE = 10_000
QUICK_LARGE = 1_000
TIMEOUT_S = 300


def _env(data_dir: Path, knowledge_dir: Path | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DISCORD_", "PEERBOT_"))}
    env["PEERBOT_DATA_DIR"] = str(data_dir)
    if knowledge_dir is not None:
        env["PEERBOT_KNOWLEDGE_DIR"] = str(knowledge_dir)
    return env


def time_ready(env: dict[str, str], cwd: Path) -> float:
    """Seconds from spawning the terminal chat to its "answers loaded" line."""
    start = time.perf_counter_ns()
    chat = subprocess.Popen(
        [sys.executable, "-m", "peerbot"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )
    watchdog = threading.Timer(TIMEOUT_S, chat.kill)
    watchdog.start()
    try:
        assert chat.stdout is not None
        for line in chat.stdout:
            if READY in line:
                elapsed = (time.perf_counter_ns() - start) / 1e9
                break
        else:
            raise RuntimeError(f"peerbot never said {READY!r}: {chat.communicate()[1][-2000:]}")
        _, errors = chat.communicate("/quit\n", timeout=60)
    finally:
        watchdog.cancel()
    if chat.returncode != 0:
        raise RuntimeError(f"peerbot exited with {chat.returncode}: {errors[-2000:]}")
    return elapsed


def time_exit(code: str, cwd: Path) -> float:
    """Seconds from spawning ``python -c code`` to its exit."""
    start = time.perf_counter_ns()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True, timeout=TIMEOUT_S)
    return (time.perf_counter_ns() - start) / 1e9


def run(ctx: Context) -> Section:
    cwd = ctx.work
    data = ctx.work / "startup-data"
    data.mkdir(exist_ok=True)
    large = QUICK_LARGE if ctx.settings.quick else LARGE
    knowledge = write_knowledge_dir(synthetic_entries(ctx.real, large), ctx.work / f"knowledge-{large}")
    floor_code = "import yaml, rapidfuzz, aiosqlite"
    cheap = {
        "Interpreter only: `python -c pass`": lambda: time_exit("pass", cwd),
        f"Baseline: `python -c {floor_code!r}`": lambda: time_exit(floor_code, cwd),
        f"PeerBot, bundled knowledge ({len(ctx.real)} entries)": lambda: time_ready(_env(data, None), cwd),
    }
    for measure in cheap.values():  # warm-up, not counted: file cache, .pyc files, the database file
        measure()
    cheap_runs = max(3, 2 * ctx.settings.repeats)
    samples: dict[str, list[float]] = {name: [] for name in cheap}
    for number in range(cheap_runs):
        for name, measure in cheap.items():  # interleaved, so drift hits every row alike
            print(f"  start-to-ready run {number + 1}/{cheap_runs}: {name}", file=sys.stderr, flush=True)
            samples[name].append(measure())
    large_name = f"PeerBot, synthetic knowledge ({large:,} entries)"
    large_runs = min(ctx.settings.repeats, 3)
    samples[large_name] = []
    for number in range(large_runs):
        print(f"  start-to-ready run {number + 1}/{large_runs}: {large_name}", file=sys.stderr, flush=True)
        samples[large_name].append(time_ready(_env(data, knowledge), cwd))

    floor = median(samples[f"Baseline: `python -c {floor_code!r}`"])
    bundled = median(samples[list(cheap)[2]])
    rows = []
    for name, values in samples.items():
        target = ""
        if name.startswith("PeerBot, bundled"):
            target = f"{'✅ PASS' if bundled <= TARGET_S else '❌ FAIL'} (≤ {TARGET_S} s)"
        rows.append(
            [
                name,
                len(values),
                f"{median(values):.3f}",
                f"{percentile(values, 90):.3f}",
                ratio(median(values), floor),
                target,
            ]
        )
    notes = [
        'Wall time from spawning the process to the greeting line containing "answers loaded" '
        "(PeerBot: knowledge read and validated, index built, database opened), median and p90 over "
        "runs, beside the interpreter and dependency-import floor timed from spawn to exit. One "
        f"uncounted warm-up of each short row first; the {large:,}-entry row is not warmed up (its "
        "files were just written, so they are in the page cache)."
    ]
    built = ctx.cache.get(("workers", large))
    if built is not None:
        build_s = built.build_s("peerbot")
        rest = median(samples[large_name]) - floor - build_s
        notes.append(
            f"Of the {large:,}-entry start, building the index takes {build_s:.2f} s (see the index "
            f"build table); about {rest:.2f} s beyond the import floor and the build go to reading and "
            "validating the YAML files and opening the database."
        )
    body = "\n\n".join([*notes, table(["Start", "Runs", "Median s", "p90 s", "vs baseline", "Target"], rows)])
    headline = {
        "Start-to-ready, bundled (median)": f"{bundled:.3f} s (baseline import floor {floor:.3f} s)",
        f"Start-to-ready, {large:,} entries (median)": f"{median(samples[large_name]):.3f} s",
    }
    return Section("Start-to-ready of the terminal chat", body, [], headline)
