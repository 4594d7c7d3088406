"""The knowledge currently served: a validated base and its index, swapped whole on reload.

A reload builds the new base and index off to the side and only then replaces the old pair, so a
broken file never leaves the bot half-loaded: it keeps answering from the last good knowledge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from peerbot.core.knowledge import KnowledgeBase
from peerbot.core.knowledge_loader import KnowledgeError, Problem, load_knowledge
from peerbot.core.retrieval import KnowledgeIndex, Thresholds

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReloadReport:
    ok: bool
    entries: int
    problems: tuple[Problem, ...] = ()


class KnowledgeLibrary:
    """Holds the served knowledge base and index; readers always see a consistent pair."""

    def __init__(self, directory: Path, thresholds: Thresholds | None = None) -> None:
        self.directory = directory
        self._thresholds = thresholds
        self._base, self._index = self._build(load_knowledge(directory))

    def _build(self, base: KnowledgeBase) -> tuple[KnowledgeBase, KnowledgeIndex]:
        return base, KnowledgeIndex.build(base.entries, self._thresholds)

    @property
    def base(self) -> KnowledgeBase:
        return self._base

    @property
    def index(self) -> KnowledgeIndex:
        return self._index

    def replace(self, base: KnowledgeBase) -> None:
        """Serve ``base`` from now on (used after an edit that was already validated)."""
        self._base, self._index = self._build(base)

    def reload(self) -> ReloadReport:
        """Re-read the directory; on any problem keep serving what was loaded before."""
        try:
            base = load_knowledge(self.directory)
        except KnowledgeError as exc:
            log.warning("Reload refused, keeping %d entries: %s", len(self._base), exc)
            return ReloadReport(False, len(self._base), tuple(exc.problems))
        self.replace(base)
        return ReloadReport(True, len(base))
