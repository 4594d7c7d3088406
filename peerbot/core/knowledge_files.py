"""Where entries live on disk, and replacing a knowledge file so a crash never leaves half of one.

A file is written next to itself under a hidden temporary name (``.rrr.yaml.tmp-XXXX``: the loader
reads only ``*.yaml``/``*.yml``, so a leftover is ignored), flushed and fsynced, renamed over the
original with ``os.replace`` (atomic on POSIX) and the directory fsynced so the rename survives a
power cut. Until the rename the original is untouched; if anything fails the temporary is removed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

from peerbot.core.knowledge import Entry

log = logging.getLogger(__name__)

# The files of the bundled knowledge base, used for a consortium that has no entry yet anywhere.
HOUSE_FILES: dict[str, str] = {
    "DIESIS / SILK": "silk.yaml",
    "Impact Hub": "impact-hub.yaml",
    "CEPES / PL4SE": "pl4se.yaml",
    "French Impact": "french-impact.yaml",
    "Social Value": "social-value.yaml",
    "UpSocial / RRR": "rrr.yaml",
    "General": "overview.yaml",
}


def knowledge_files(directory: Path) -> list[Path]:
    """The files the loader reads, in the loader's order (so entry order matches a fresh load)."""
    return sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))


def file_for_consortium(consortium: str, entries: tuple[Entry, ...] | list[Entry]) -> str:
    """The file a new entry of ``consortium`` goes to: the one already holding most of its entries.

    Ties go to the house file name, then to the first name in order; a consortium with no entries
    gets its house file (created if needed).
    """
    counts = Counter(entry.file for entry in entries if entry.consortium == consortium)
    house = HOUSE_FILES.get(consortium) or _slug(consortium) + ".yaml"
    if not counts:
        return house
    best = max(counts.values())
    candidates = sorted(name for name, count in counts.items() if count == best)
    return house if house in candidates else candidates[0]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "knowledge"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) all at once; raises OSError and leaves ``path`` intact."""
    directory = path.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            # Keep the original's permissions: mkstemp creates the temporary as 0600.
            with contextlib.suppress(OSError):
                os.chmod(temporary, path.stat().st_mode & 0o777)
        else:
            with contextlib.suppress(OSError):
                os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory, which is then skipped."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        log.debug("fsync of %s not supported", directory)
    finally:
        os.close(fd)


def seed_from_bundled(directory: Path) -> bool:
    """Create ``directory`` as a copy of the bundled knowledge when it does not exist yet.

    Editors' changes are written back to the knowledge files, so an installation whose bundled copy
    is read-only (a wheel, the Docker image) points PEERBOT_KNOWLEDGE_DIR at a writable folder,
    which starts as the bundled knowledge.
    """
    from peerbot.core.knowledge_loader import bundled_knowledge_dir

    if directory.exists():
        return False
    directory.mkdir(parents=True)
    for source in knowledge_files(bundled_knowledge_dir()):
        (directory / source.name).write_bytes(source.read_bytes())
    log.info("Created the knowledge directory %s from the bundled knowledge", directory)
    return True
