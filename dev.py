#!/usr/bin/env python3
"""Quickstart for a fresh clone: `python3 dev.py start` runs PeerBot, `python3 dev.py test` runs every test.

Both create `.venv` beside this file on first use (standard library `venv`, then `pip install -e .[test]`)
and reinstall only when pyproject.toml changes, so the only thing a machine needs is Python 3.11+.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".peerbot-installed"
EXTRAS = "test,bench"  # bench: the quick benchmark run is one of the tests, so it cannot rot
USAGE = """usage: python3 dev.py start [peerbot arguments]   start PeerBot (terminal; Discord with a token)
       python3 dev.py test [pytest arguments]     lint, then run the whole test suite
       python3 dev.py install                     only create .venv and install"""


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_installed() -> Path:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + EXTRAS.encode()).hexdigest()
    python = venv_python()
    if python.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return python
    if not python.exists():
        print(f"Creating {VENV} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing PeerBot, its test and benchmark tools into .venv ...", file=sys.stderr)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[{EXTRAS}]"], check=True)
    STAMP.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before anything checks the version
        print("PeerBot needs Python 3.11 or newer.", file=sys.stderr)
        return 2
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command not in {"start", "test", "install"}:
        print(USAGE, file=sys.stderr)
        return 2
    python = str(ensure_installed())
    if command == "install":
        return 0
    if command == "start":
        return subprocess.call([python, "-m", "peerbot", *rest], cwd=ROOT)
    for lint in (["check", "."], ["format", "--check", "."]):
        if subprocess.call([python, "-m", "ruff", *lint], cwd=ROOT) != 0:
            print(
                "ruff found problems: run `.venv/bin/ruff format . && .venv/bin/ruff check --fix .`",
                file=sys.stderr,
            )
            return 1
    return subprocess.call([python, "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
