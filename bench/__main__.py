"""``python -m bench``: run every benchmark once and write docs/benchmarks.md and docs/bench/*.png.

Options: ``--quick`` (small sizes, few repeats: a smoke run), ``--out DIR`` (default docs/),
``--repeats N`` (runs per measurement; large sizes cap it to stay within the time budget), ``--only``.
New benchmarks go in ``BENCHMARKS``: a function ``(Context) -> Section``, or ``None`` to list it in
the report as "not measured yet".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import report
from bench.common import (
    ROOT,
    Context,
    Section,
    Settings,
    changed_files,
    code_files,
    load_questions,
    load_real_entries,
    machine,
)


@dataclass(frozen=True)
class Benchmark:
    """One entry of the registry; ``run`` is None for a benchmark planned but not written yet."""

    key: str
    title: str
    run: Callable[[Context], Section] | None
    plan: str = ""


def _lazy(module: str) -> Callable[[Context], Section]:
    """Import a benchmark module only when it runs, so ``--only`` skips heavy imports of the others."""

    def run(ctx: Context) -> Section:
        from importlib import import_module

        return import_module(f"bench.{module}").run(ctx)

    return run


# The order matters: memory and startup reuse the worker runs the latency benchmark made.
BENCHMARKS: list[Benchmark] = [
    Benchmark("blind", "Answer quality on the blind set", _lazy("blind")),
    Benchmark("quality", "Answer quality", _lazy("quality")),
    Benchmark("latency", "Retrieval latency vs size", _lazy("latency")),
    Benchmark("memory", "Resident memory", _lazy("memory")),
    Benchmark("startup", "Start-to-ready", _lazy("startup")),
    Benchmark("discord", "End-to-end Discord latency", _lazy("discord_e2e")),
    Benchmark("peers", "/peers search", _lazy("peers")),
    Benchmark("scheduler", "Scheduler lateness", _lazy("scheduler")),
    Benchmark("channels", "One failing channel", _lazy("channels")),
    Benchmark("bursts", "Bursts of slash commands", _lazy("bursts")),
]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke run)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="report directory (default: docs/)")
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 5, 2 with --quick)")
    parser.add_argument(
        "--only", help="comma-separated keys: " + ", ".join(b.key for b in BENCHMARKS if b.run)
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    known = {b.key for b in BENCHMARKS if b.run}
    if args.only and not set(args.only.split(",")) <= known:
        parser.error(f"--only takes some of: {', '.join(sorted(known))}")
    return args


def _command(argv: Sequence[str]) -> str:
    return " ".join(["python -m bench", *argv])


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    try:
        import matplotlib
        import rank_bm25  # noqa: F401
    except ImportError as exc:
        print(f"bench needs its extra dependencies: pip install -e '.[bench]' ({exc})", file=sys.stderr)
        return 2
    matplotlib.use("Agg")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings(args.quick, args.repeats or (2 if args.quick else 5), out)
    chosen = set(args.only.split(",")) if args.only else None

    files = code_files()
    head = report.header(machine(files), _command(argv))
    print(head, flush=True)
    parts: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="peerbot-bench-") as work:
        ctx = Context(settings, Path(work), load_real_entries(), load_questions())
        number = 0
        for bench in BENCHMARKS:
            if bench.run is None or (chosen is not None and bench.key not in chosen):
                continue
            number += 1
            print(f"\n[running {bench.key}]", file=sys.stderr, flush=True)
            begin = time.perf_counter()
            part = bench.run(ctx)
            part.seconds = time.perf_counter() - begin
            parts.append(part)
            print("\n" + report.section(number, part), flush=True)

    planned = [(b.title, b.plan) for b in BENCHMARKS if b.run is None]
    tail = [report.summary(parts), report.not_measured(planned)]
    changed = changed_files(files, code_files())
    if changed:  # figures from two versions of PeerBot must not pass as one
        warning = report.changed_during_run(changed)
        print("\n" + warning, flush=True)
        print("warning: PeerBot's code or knowledge changed during the run; rerun", file=sys.stderr)
        tail[0] = warning + "\n\n" + tail[0]
    for text in tail:
        print("\n" + text, flush=True)
    total = time.perf_counter() - started
    timing = report.timing(parts, total)
    print("\n" + timing, flush=True)
    body = [head, tail[0], *(report.section(n, p) for n, p in enumerate(parts, 1)), tail[1], timing]
    path = out / "benchmarks.md"
    path.write_text("\n\n".join(body) + "\n", encoding="utf-8")
    plots = sum(len(part.plots) for part in parts)
    print(f"\nWrote {path} and {plots} plot(s) in {out / 'bench'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
