"""Resident memory of the index, read in the same fresh worker processes that time the queries.

Each worker reads ``VmRSS`` from /proc/self/status three times: after its imports (the baseline: a
process that only imported the modules), after loading the entries, and after building the index, so
the index's own cost is the difference of the last two.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import Context, Section, ratio, table
from bench.latency import ENGINES, SizeRuns, sizes, worker_runs

REQUIRED = (1_000, 100_000)  # the sizes the report must cover; every measured size is shown


def run(ctx: Context) -> Section:
    measured = [worker_runs(ctx, size) for size in sizes(ctx)]  # already done by the latency benchmark
    rows, headline = [], {}
    for m in measured:
        p_rss, b_rss = m.rss_mib("peerbot", "index"), m.rss_mib("bm25", "index")
        p_own = p_rss - m.rss_mib("peerbot", "entries")
        b_own = b_rss - m.rss_mib("bm25", "entries")
        rows.append(
            [
                f"{m.size:,}",
                *(f"{m.rss_mib(engine, 'imports'):.1f}" for engine in ENGINES),
                f"{m.rss_mib('peerbot', 'entries') - m.rss_mib('peerbot', 'imports'):.1f}",
                *(f"{p_rss:.1f}", f"{b_rss:.1f}", ratio(p_rss, b_rss)),
                *(f"{p_own:.1f}", f"{b_own:.1f}", ratio(p_own, b_own)),
            ]
        )
        if m.size in REQUIRED:
            headline[f"RSS at {m.size:,} entries (PeerBot / BM25 / imports-only baseline)"] = (
                f"{p_rss:.1f} / {b_rss:.1f} / {m.rss_mib('peerbot', 'imports'):.1f} MiB"
            )
    missing = [size for size in REQUIRED if size not in sizes(ctx)]
    note = (
        f" Not measured in this run (`--quick`): {', '.join(f'{s:,}' for s in missing)} entries."
        if missing
        else ""
    )
    plot = _plot(ctx, measured)
    body = "\n\n".join(
        [
            "Resident set size (MiB, median over the latency runs) of a fresh process per engine. "
            "*Imports only* is the baseline: the same child right after importing PeerBot's retrieval "
            "module (PeerBot) or rank_bm25 and numpy (BM25), before any data. *Entries* is the "
            "unpickled `Entry` objects both engines start from; *index alone* is RSS after the build "
            "minus RSS before it." + note,
            table(
                [
                    *("Entries", "Imports only: PeerBot", "Imports only: BM25", "Entries alone"),
                    *("PeerBot RSS", "BM25 RSS", "ratio", "PeerBot index alone", "BM25 index alone", "ratio"),
                ],
                rows,
            ),
            f"![Memory vs size]({plot.relative_to(ctx.settings.out).as_posix()})",
        ]
    )
    return Section("Resident memory", body, [plot], headline)


def _plot(ctx: Context, measured: list[SizeRuns]) -> Path:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 4.5))
    x = [m.size for m in measured]
    axes.plot(x, [m.rss_mib("peerbot", "index") for m in measured], "o-", label="PeerBot RSS after build")
    axes.plot(x, [m.rss_mib("bm25", "index") for m in measured], "s-", label="BM25 RSS after build")
    axes.plot(
        x, [m.rss_mib("peerbot", "entries") for m in measured], "^:", label="entries only (PeerBot child)"
    )
    axes.plot(
        x, [m.rss_mib("peerbot", "imports") for m in measured], "k--", label="imports only (PeerBot child)"
    )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("entries in the knowledge base (log)")
    axes.set_ylabel("resident memory, MiB (log)")
    axes.set_title("Resident memory after building the index (median of runs)")
    axes.grid(which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    path = ctx.plots_dir / "memory.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
