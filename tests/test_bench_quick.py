"""``python -m bench --quick`` still runs end to end and writes a complete report.

A smoke test of the benchmark suite itself: it checks the report's shape and that it holds figures,
never how fast anything is (that is what the report is for, and test machines vary).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SECTIONS = (
    "## Machine",
    "## Headline figures",
    "## 1. Answer quality on the blind set",
    "### Answer / uncertain / decline on the test half",
    "### Reliability on the test half",
    "## 2. Answer quality",
    "### By kind of question",
    "### By consortium",
    "### Questions PeerBot gets wrong",
    "## 3. Retrieval latency vs knowledge-base size",
    "### Index build",
    "## 4. Resident memory",
    "## 5. Start-to-ready of the terminal chat",
    "## 6. End-to-end Discord latency",
    "## 7. /peers search",
    "## 8. Scheduler lateness: 1,000 reminders due together",
    "## 9. One failing channel: the healthy channel's lateness",
    "## 10. Bursts: 100 slash commands at once",
    "## Not measured yet",
    "## Run time",
)


def test_quick_run_writes_the_report_and_plots(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("rank_bm25")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a speed check
    )
    assert done.returncode == 0, done.stderr[-3000:]

    report = (tmp_path / "benchmarks.md").read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading in report, heading
    assert re.search(
        r"\| Top-1 accuracy \(\d+ answerable\) \| \d+\.\d% \| \d+\.\d% \| [+-]\d+\.\d pts", report
    )
    assert re.search(r"\| MRR@5 \| \d+\.\d% \|", report)
    # The blind set: the test half as the headline, BM25 and the dev half beside it.
    assert re.search(r"\| top-1 \| \d\.\d{3} \(\d+\) \| \d\.\d{3} \| \d\.\d{3} \(\d+\) \|", report)
    assert re.search(r"\| 1,000 \| \d+ × \d+ \| \d+\.\d{3} \| \d+\.\d{3} \| \d+\.\d{2}× \|", report)
    assert re.search(r"PeerBot p99 at 1,000 entries ≤ 2 ms: (✅ PASS|❌ FAIL)", report)
    assert re.search(
        r"\| PeerBot, bundled knowledge \(\d+ entries\) \| \d+ \| \d+\.\d{3} \| \d+\.\d{3} \|", report
    )
    assert re.search(r"\| 1,000 \| \d+\.\d \| \d+\.\d \|", report)  # memory: imports-only baselines
    # Discord: the real bot in a subprocess answered every question and every baseline message.
    assert re.search(r"\| PeerBot `!ask <question>` \| \d+ × \d+ \| \d+\.\d \| \d+\.\d \|", report)
    assert re.search(r"\| Baseline `!help` \(no retrieval\) \| \d+ × \d+ \| \d+\.\d \| \d+\.\d \|", report)
    assert re.search(r"\| PeerBot `!ask <question>` \| \d+ × \d+ \| \d+\.\d \|\n", report)  # replies/s
    assert "routes the fake does not know" not in report
    # /peers: 1k introductions only in --quick.
    assert re.search(r"\| 1,000 \| \d+ × \d+ \| \d+\.\d{2} \| \d+\.\d{2} \| \d+\.\d{2}× \|", report)
    assert "| 10,000 |" not in report.split("## 7. /peers search")[1].split("## 8.")[0]
    # Scheduler: every reminder delivered exactly once, by the scheduler and by the baseline.
    assert re.search(
        r"\| PeerBot `AnnouncementScheduler` \| \d+ \| -?\d+\.\d \| -?\d+\.\d \| -?\d+\.\d \| 0 \| 0 \|",
        report,
    )
    assert re.search(
        r"\| Baseline: `loop.call_at` \| \d+ \| -?\d+\.\d \| -?\d+\.\d \| -?\d+\.\d \| 0 \| 0 \|", report
    )
    assert "Jobs marked missed or failed by the scheduler: 0." in report
    # One failing channel: the healthy channel got every reminder, in each of the three runs.
    for run in ("(a) No fault", "(b) SICK returns 502s", "(c) SICK returns 502s, one delivery"):
        assert re.search(
            re.escape(run) + r"[^|]*\| \d+ × \d+ \| [\d,.]+ \| [\d,.]+ \| [\d,.]+ \| 0 \|", report
        ), run
    # Bursts: every interaction of both bursts was either answered or expired (the table adds up).
    for command in ("PeerBot `/ask <question>`", "Baseline `/help` (no retrieval)"):
        row = re.search(re.escape(command) + r" \| (\d+) × \d+ \| (\d+) \| (\d+) \|", report)
        assert row and int(row[2]) + int(row[3]) == int(row[1]), command
    assert re.search(r"## Not measured yet\n\n(Nothing|.*not measured yet)", report)
    for plot in ("latency.png", "quality.png", "memory.png", "reliability.png"):
        assert (tmp_path / "bench" / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", plot
    # The command prints the figures it writes.
    assert "| MRR@5 |" in done.stdout and "PeerBot p99 at 1,000 entries" in done.stdout
