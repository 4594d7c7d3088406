"""No date that can pass is written into the product, its docs or the tests that run on the real clock.

A fixed date in a prompt or an example becomes "in the past" one day, and a test on such a date turns red
on that day with no change of code. Examples are computed when shown; tests inject a clock.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATE = re.compile(r"(?<![\d-])((?:19|20|2[1-9])\d\d)-(0[1-9]|1[0-2])-([0-3]\d)(?![\d])")
# Dates before this one passed before PeerBot existed: "a start in 2020" is in the past whatever today is.
ALWAYS_PAST = date(2025, 1, 1)
# Only these modules inject a clock (``now=``/``clock=``), so their dates never come due on the machine.
CLOCK_WORDS = ("now=", "clock=")


def dates_in(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        found += [(number, match.group(0)) for match in DATE.finditer(line)]
    return found


def test_the_product_and_its_readme_show_no_fixed_date() -> None:
    files = [*sorted((REPO / "peerbot").rglob("*.py")), *sorted((REPO / "bench").rglob("*.py"))]
    files.append(REPO / "README.md")
    found = [
        f"{path.relative_to(REPO)}:{number}: {text}" for path in files for number, text in dates_in(path)
    ]
    assert found == [], "computed examples or a format (YYYY-MM-DD HH:MM) instead of these dates"


def test_tests_on_the_real_clock_use_only_dates_long_past() -> None:
    """End-to-end tests run a bot on the machine's clock; a future date there would one day pass."""
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {text}"
        for path in sorted((REPO / "tests" / "e2e").rglob("*.py"))
        for number, text in dates_in(path)
        if date.fromisoformat(text) >= ALWAYS_PAST
    ]
    assert offenders == [], "compute the start from now (see soon() in test_event_journeys.py)"


def test_other_tests_with_future_dates_inject_a_clock() -> None:
    offenders = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        if "e2e" in path.parts or path.name == Path(__file__).name:
            continue
        future = [text for _, text in dates_in(path) if date.fromisoformat(text) >= ALWAYS_PAST]
        if future and not any(word in path.read_text(encoding="utf-8") for word in CLOCK_WORDS):
            offenders.append(f"{path.relative_to(REPO)}: {future[0]}")
    assert offenders == [], "pass now= or clock= so these dates are measured against a fixed time"


def test_the_scan_finds_a_date() -> None:
    """The pattern itself: a scan that matches nothing would pass for the wrong reason."""
    assert DATE.findall("Start (e.g. 2026-12-03 15:00)") == [("2026", "12", "03")]
    assert DATE.findall("version 1.2026-12-031, 12026-01-01, YYYY-MM-DD") == []
