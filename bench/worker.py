"""One measurement in a fresh process: build one engine's index over a pickled base, then time queries.

A fresh process per run keeps the engines from disturbing each other (a 100k-entry index left in
memory slows the other's garbage collection), starts every run with cold caches (PeerBot memoises typo
expansions), and gives a clean resident-memory reading: imports, then entries, then the index.

Usage: ``python -m bench.worker {peerbot|bm25} ENTRIES.pickle QUESTIONS.json``; prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def read_status_kib(name: str) -> int:
    """A ``VmRSS``-style field of /proc/self/status in KiB (Linux); here so the worker imports nothing."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{name} not in /proc/self/status")


Query = Callable[[str], str | None]  # a question -> the id of the best entry


def _peerbot(entries: list[Any]) -> tuple[Query, int]:
    from peerbot.core.retrieval import KnowledgeIndex

    index = KnowledgeIndex.build(entries)

    def query(text: str) -> str | None:
        matches = index.search(text, limit=5).matches
        return matches[0].entry.id if matches else None

    return query, len(index._vocabulary)  # private, but it is the vocabulary the index really holds


def _bm25(entries: list[Any]) -> tuple[Query, int]:
    import numpy as np
    from rank_bm25 import BM25Okapi

    from bench.baselines import bm25_corpus, bm25_tokens

    index = BM25Okapi(bm25_corpus(entries))
    ids = [entry.id for entry in entries]

    def query(text: str) -> str | None:
        scores = index.get_scores(bm25_tokens(text))
        return ids[int(np.argmax(scores))]

    return query, len(index.idf)


def _import(engine: str) -> None:
    """Import what the engine needs before the first memory reading, so it counts as 'imports'."""
    import peerbot.core.knowledge  # the pickled entries are peerbot Entry objects

    if engine == "peerbot":
        import peerbot.core.retrieval  # noqa: F401
    else:
        import numpy  # noqa: F401
        import rank_bm25  # noqa: F401

        import bench.baselines  # noqa: F401


def measure(engine: str, entries_path: Path, questions: list[str]) -> dict[str, Any]:
    _import(engine)
    rss = {"imports": read_status_kib("VmRSS")}
    with entries_path.open("rb") as stream:  # streamed: a 70 MB bytes copy would inflate the peak
        entries = pickle.load(stream)
    gc.collect()
    rss["entries"] = read_status_kib("VmRSS")
    build = _peerbot if engine == "peerbot" else _bm25
    start = time.perf_counter_ns()
    query, terms = build(entries)
    build_ns = time.perf_counter_ns() - start
    gc.collect()
    rss["index"] = read_status_kib("VmRSS")
    query("warm up the interpreter")  # first-call costs that are not the engine's (lazy imports)
    times, answers = [], []
    for text in questions:
        start = time.perf_counter_ns()
        answer = query(text)
        times.append(time.perf_counter_ns() - start)
        answers.append(answer)
    return {
        "engine": engine,
        "entries": len(entries),
        "build_ns": build_ns,
        "rss_kib": rss,
        "terms": terms,
        "query_ns": times,
        "top_ids": answers,
    }


def main(argv: list[str]) -> int:
    engine, entries_path, questions_path = argv
    if engine not in {"peerbot", "bm25"}:
        raise SystemExit(f"unknown engine {engine!r}")
    questions = json.loads(Path(questions_path).read_text(encoding="utf-8"))
    print(json.dumps(measure(engine, Path(entries_path), questions)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
