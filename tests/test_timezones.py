"""Every IANA time-zone name PeerBot offers or documents resolves, even on a machine without a zone database.

``zoneinfo`` reads the system's database first; slim images and some systems have none, or a trimmed one.
PeerBot depends on the ``tzdata`` package so the same names work everywhere; these tests hide the system
database (``PYTHONTZPATH`` pointing at an empty folder) and resolve the names from the package alone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from peerbot.discord.cogs.events import zone_choices

REPO = Path(__file__).resolve().parents[1]
ZONE = re.compile(
    r"\b(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|US)/[A-Za-z_]+"
)
COMMON = ["UTC", "Europe/Paris", "America/New_York", "US/Central", "Asia/Kolkata", "America/Sao_Paulo"]

RESOLVE = """
import json, sys, zoneinfo
names = json.loads(sys.stdin.read()) or sorted(zoneinfo.available_timezones())
bad = []
for name in names:
    try:
        zoneinfo.ZoneInfo(name)
    except Exception as exc:
        bad.append(f"{name}: {exc}")
print(json.dumps({"checked": len(names), "bad": bad}))
"""


def resolve_without_system_database(names: list[str], tmp_path: Path) -> dict:
    """Resolve ``names`` (all available ones when empty) in a Python that sees no system zone database."""
    env = {**os.environ, "PYTHONTZPATH": str(tmp_path)}  # an empty folder: only the tzdata package remains
    done = subprocess.run(
        [sys.executable, "-c", RESOLVE],
        input=json.dumps(names),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def documented_zones() -> list[str]:
    texts = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    return sorted({name for path in texts for name in ZONE.findall(path.read_text(encoding="utf-8"))})


def test_documented_and_common_zones_resolve_from_the_package_alone(tmp_path: Path) -> None:
    names = sorted({*documented_zones(), *COMMON})
    assert "Europe/Paris" in names  # the README's example is among them
    assert resolve_without_system_database(names, tmp_path) == {"checked": len(names), "bad": []}


def test_every_zone_autocomplete_offers_resolves_from_the_package_alone(tmp_path: Path) -> None:
    offered = [
        choice.value for prefix in ("", "europe", "america", "us/", "utc") for choice in zone_choices(prefix)
    ]
    assert offered and "US/Central" in [choice.value for choice in zone_choices("us/cen")]
    result = resolve_without_system_database(sorted(set(offered)), tmp_path)
    assert result["bad"] == []


def test_the_package_alone_offers_the_whole_database(tmp_path: Path) -> None:
    result = resolve_without_system_database([], tmp_path)
    assert result["checked"] > 400 and result["bad"] == []
