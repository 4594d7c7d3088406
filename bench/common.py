"""What every benchmark shares: the run's settings, the evaluation set, statistics and Markdown tables."""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import pickle
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from peerbot.core.knowledge import Entry
from peerbot.core.knowledge_loader import load_knowledge

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_DIR = ROOT / "knowledge"
EVAL_SET = ROOT / "tests" / "data" / "eval_questions.yaml"
# Beyond the terminal chat's imports: what the scheduler and Discord benchmarks run.
BENCHED_MODULES = ("peerbot.core.intros", "peerbot.core.scheduler", "peerbot.discord.runner")


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation question: ``expect`` is an entry id, or None when PeerBot must decline."""

    text: str
    expect: str | None
    kind: str


@dataclass(frozen=True)
class Settings:
    quick: bool
    repeats: int
    out: Path


@dataclass
class Section:
    """A benchmark's part of the report: Markdown (also printed), plots, and headline figures."""

    title: str
    body: str
    plots: list[Path] = field(default_factory=list)
    headline: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Context:
    """State of one ``python -m bench`` run, shared so benchmarks can reuse each other's measurements."""

    settings: Settings
    work: Path  # a temporary directory, removed at the end of the run
    real: tuple[Entry, ...]
    questions: list[Question]
    cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def plots_dir(self) -> Path:
        path = self.settings.out / "bench"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per run: latency and memory read the same worker runs."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def entries_file(self, size: int) -> Path:
        """The synthetic base of ``size`` entries, generated once and pickled for the worker processes."""

        def generate() -> Path:
            from bench.synthetic import synthetic_entries

            path = self.work / f"entries-{size}.pickle"
            path.write_bytes(pickle.dumps(synthetic_entries(self.real, size), pickle.HIGHEST_PROTOCOL))
            return path

        return self.memo(("entries", size), generate)


def load_questions(path: Path = EVAL_SET) -> list[Question]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    return [Question(item["q"], item["expect"], item["kind"]) for item in raw]


def load_real_entries() -> tuple[Entry, ...]:
    return load_knowledge(KNOWLEDGE_DIR).entries


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolation percentile (numpy's default), so p99 of 27 samples is still defined."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}×" if baseline > 0 else "n/a"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table; pipes in cells are escaped so questions cannot break it."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))} (kernel {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def _git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "peerbot", "knowledge"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (peerbot/ or knowledge/ modified)" if dirty else "")


def code_files() -> dict[str, str]:
    """A hash per file of the PeerBot code the benchmarks run and of the knowledge, to catch edits.

    Only the modules the benchmarks run count: the graph the terminal chat loads (``python -m peerbot``,
    which includes retrieval), the event scheduler, and the Discord client with its cogs (the
    end-to-end benchmark runs ``peerbot run``), so work elsewhere in the tree does not void a run.
    """
    for name in ("peerbot.cli", "peerbot.console.chat", "peerbot.core.services", *BENCHED_MODULES):
        importlib.import_module(name)
    from peerbot.discord.cogs import extension_names

    for name in extension_names():
        importlib.import_module(name)
    modules = {
        Path(module.__file__)
        for name, module in list(sys.modules.items())
        if (name == "peerbot" or name.startswith("peerbot.")) and getattr(module, "__file__", None)
    }
    paths = sorted(modules | set(KNOWLEDGE_DIR.glob("*.y*ml")))
    return {
        (path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
        for path in paths
    }


def fingerprint(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:12]


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def machine(files: dict[str, str]) -> dict[str, str]:
    """What the figures depend on, so a reader can tell whether their machine is comparable."""
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for package in ("rapidfuzz", "PyYAML", "rank-bm25", "numpy"):
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package} missing")
    return {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": _cpu_model(),
        "Cores": f"{os.cpu_count()} logical ({len(os.sched_getaffinity(0))} usable by this run)",
        "Python": f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        "OS": _os_name(),
        "Load average at start (1, 5, 15 min)": ", ".join(f"{load:.2f}" for load in os.getloadavg()),
        "Libraries": ", ".join(versions),
        "PeerBot revision": f"{_git_revision()}, code fingerprint {fingerprint(files)} ({len(files)} files)",
    }
