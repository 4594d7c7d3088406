"""Retrieval latency and index build time as the knowledge base grows, beside BM25 on the same entries.

PeerBot answers in one process, so the time of ``KnowledgeIndex.search`` is the member's wait before
any network. It is measured per query, in a fresh worker process per run (see ``bench.worker``), on
synthetic bases of growing size (see ``bench.synthetic``); the queries are the evaluation questions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, Context, Question, Section, median, percentile, ratio, table
from bench.synthetic import original_id

ENGINES = ("peerbot", "bm25")
SIZES = (100, 1_000, 10_000, 100_000)
QUICK_SIZES = (100, 1_000)
LARGE = 100_000  # from here on: at most 3 runs and every 4th question, to stay within the time budget
LARGE_RUNS = 3
LARGE_QUERY_STEP = 4
TARGETS_P99_MS = {1_000: 2.0, 100_000: 20.0}


@dataclass(frozen=True)
class SizeRuns:
    """Every worker run at one size: the questions measured and each engine's outputs, one per run."""

    size: int
    questions: list[Question]
    runs: dict[str, list[dict[str, Any]]]

    def stat(self, engine: str, pct: float) -> float:
        """Median over runs of the per-query ``pct`` percentile, in milliseconds."""
        return median(percentile(run["query_ns"], pct) / 1e6 for run in self.runs[engine])

    def build_s(self, engine: str) -> float:
        return median(run["build_ns"] / 1e9 for run in self.runs[engine])

    def rss_mib(self, engine: str, stage: str) -> float:
        return median(run["rss_kib"][stage] / 1024 for run in self.runs[engine])

    def rank1(self, engine: str) -> float:
        """Share of measured answerable questions whose best entry is the expected one or a copy of it."""
        pairs = [
            (q, got)
            for q, got in zip(self.questions, self.runs[engine][0]["top_ids"], strict=True)
            if q.expect is not None
        ]
        return sum(got is not None and original_id(got) == q.expect for q, got in pairs) / max(len(pairs), 1)


def sizes(ctx: Context) -> tuple[int, ...]:
    return QUICK_SIZES if ctx.settings.quick else SIZES


def runs_at(ctx: Context, size: int) -> int:
    return min(ctx.settings.repeats, LARGE_RUNS) if size >= LARGE else ctx.settings.repeats


def questions_at(ctx: Context, size: int) -> list[Question]:
    return ctx.questions[:: LARGE_QUERY_STEP if size >= LARGE else 1]


def _work(engine: str, entries: Path, questions: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", engine, str(entries), str(questions)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.worker {engine} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def worker_runs(ctx: Context, size: int) -> SizeRuns:
    """All runs at ``size``, done once per ``python -m bench`` (memory reads the same runs)."""

    def measure() -> SizeRuns:
        entries = ctx.entries_file(size)
        questions = questions_at(ctx, size)
        path = ctx.work / f"questions-{size}.json"
        path.write_text(json.dumps([q.text for q in questions]), encoding="utf-8")
        runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in ENGINES}
        total = runs_at(ctx, size)
        for number in range(total):
            for engine in ENGINES:  # interleaved, so a slow spell of the machine hits both engines
                print(f"  {size:>7,} entries: {engine} run {number + 1}/{total}", file=sys.stderr, flush=True)
                runs[engine].append(_work(engine, entries, path))
        return SizeRuns(size, questions, runs)

    return ctx.memo(("workers", size), measure)


def _mark(value: float, target: float) -> str:
    return (
        f"✅ PASS ({value:.2f} ms ≤ {target:g} ms)"
        if value <= target
        else f"❌ FAIL ({value:.2f} ms > {target:g} ms)"
    )


def run(ctx: Context) -> Section:
    measured = [worker_runs(ctx, size) for size in sizes(ctx)]
    latency_rows, build_rows = [], []
    for m in measured:
        p50, b50 = m.stat("peerbot", 50), m.stat("bm25", 50)
        p99, b99 = m.stat("peerbot", 99), m.stat("bm25", 99)
        runs = len(m.runs["peerbot"])
        latency_rows.append(
            [
                f"{m.size:,}",
                f"{len(m.questions)} × {runs}",
                *(f"{p50:.3f}", f"{b50:.3f}", ratio(p50, b50)),
                *(f"{p99:.3f}", f"{b99:.3f}", ratio(p99, b99)),
            ]
        )
        pb, bb = m.build_s("peerbot"), m.build_s("bm25")
        build_rows.append(
            [
                f"{m.size:,}",
                *(f"{m.runs[engine][0]['terms']:,}" for engine in ENGINES),
                *(f"{pb:.3f}", f"{bb:.3f}", ratio(pb, bb)),
                *(f"{100 * m.rank1(engine):.1f}%" for engine in ENGINES),
            ]
        )
    by_size = {m.size: m for m in measured}
    targets = []
    headline = {}
    for size, target in TARGETS_P99_MS.items():
        if size in by_size:
            p99 = by_size[size].stat("peerbot", 99)
            targets.append(f"- PeerBot p99 at {size:,} entries ≤ {target:g} ms: {_mark(p99, target)}")
            headline[f"p99 at {size:,} entries (PeerBot / BM25)"] = (
                f"{p99:.2f} ms / {by_size[size].stat('bm25', 99):.2f} ms"
            )
        else:
            targets.append(f"- PeerBot p99 at {size:,} entries ≤ {target:g} ms: not measured (`--quick`)")
    large = [m for m in measured if m.size >= LARGE]
    subset = (
        f" At {LARGE:,} entries and above, every {LARGE_QUERY_STEP}th question is measured "
        f"({len(large[0].questions)} of {len(ctx.questions)}) and at most {LARGE_RUNS} runs are made, "
        "to keep the whole run within its time budget."
        if large
        else ""
    )
    plot = _plot(ctx, measured)
    body = "\n\n".join(
        [
            "Time of one `KnowledgeIndex.search(question, limit=5)` (PeerBot) beside BM25's "
            "`get_scores(tokens)` + `argmax` (tokenising included) on the same entries, per query, with "
            "`time.perf_counter_ns` in one process. Each run is a fresh process (cold caches) that builds "
            "the index and asks every measured question once; p50 and p99 are taken over the queries of "
            "a run, and the table gives the median over runs. Queries are the evaluation questions." + subset,
            "Synthetic bases: the 81 real entries first, then copies with new ids whose title, questions, "
            "tags and answer have about a third of their words swapped with another entry's and a few "
            "invented names added, so the vocabulary grows like a real corpus (Heaps' law, "
            "V(n) ≈ V(81)·√(n/81)); seeded, so every run uses the same entries.",
            table(
                [
                    *("Entries", "Queries × runs"),
                    *("PeerBot p50 ms", "BM25 p50 ms", "p50 ratio"),
                    *("PeerBot p99 ms", "BM25 p99 ms", "p99 ratio"),
                ],
                latency_rows,
            ),
            "Targets:\n" + "\n".join(targets),
            "### Index build",
            "Build time is the median over the same runs. *Rank-1 hit* is the share of the measured "
            "answerable questions whose best-ranked entry is the expected entry or one of its synthetic "
            "copies, ignoring the decline decision: a check that growing the base does not push the "
            "right answer out (copies count, since they say much the same thing).",
            table(
                [
                    *("Entries", "PeerBot terms", "BM25 terms"),
                    *("PeerBot build s", "BM25 build s", "ratio"),
                    *("Rank-1 hit PeerBot", "Rank-1 hit BM25"),
                ],
                build_rows,
            ),
            f"![Latency vs size]({plot.relative_to(ctx.settings.out).as_posix()})",
        ]
    )
    return Section("Retrieval latency vs knowledge-base size", body, [plot], headline)


def _plot(ctx: Context, measured: list[SizeRuns]) -> Path:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 4.8))
    x = [m.size for m in measured]
    styles = {"peerbot": ("PeerBot", "tab:blue"), "bm25": ("BM25 (rank_bm25)", "tab:orange")}
    for engine, (label, colour) in styles.items():
        axes.plot(x, [m.stat(engine, 50) for m in measured], "o-", color=colour, label=f"{label} p50")
        axes.plot(x, [m.stat(engine, 99) for m in measured], "s--", color=colour, label=f"{label} p99")
    shown = [(size, ms) for size, ms in TARGETS_P99_MS.items() if size in x]
    if shown:
        axes.plot(
            [s for s, _ in shown], [ms for _, ms in shown], "rv", markersize=10, label="PeerBot p99 target"
        )
        for size, ms in shown:
            axes.annotate(f"{ms:g} ms", (size, ms), textcoords="offset points", xytext=(8, -4), color="red")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("entries in the knowledge base (log)")
    axes.set_ylabel("time per query, ms (log)")
    axes.set_title("Retrieval latency per query (median of runs)")
    axes.grid(which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    path = ctx.plots_dir / "latency.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
