"""The knowledge base as plain data: entries and the limits every entry must respect."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# The six Peer Learning Partnerships of the source document, plus "General" for the overview,
# the glossary and the OECD contact points. Fixed so a typo in a consortium name is caught at load.
CONSORTIA: tuple[str, ...] = (
    "DIESIS / SILK",
    "Impact Hub",
    "CEPES / PL4SE",
    "French Impact",
    "Social Value",
    "UpSocial / RRR",
    "General",
)
GENERAL = "General"

MAX_TITLE = 100  # Discord caps autocomplete choice names at 100 characters.
MAX_ANSWER = 1500  # Short enough to read in chat; well under an embed description's 4,096.
MIN_QUESTIONS = 3
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_ID = 64  # ids travel in button custom ids (Discord: at most 100) and autocomplete values


@dataclass(frozen=True, slots=True)
class Entry:
    """One curated answer with the ways members ask for it and where it comes from."""

    id: str
    title: str
    consortium: str
    tags: tuple[str, ...]
    questions: tuple[str, ...]
    answer: str
    source: str
    related: tuple[str, ...] = ()
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class KnowledgeBase:
    """An immutable, validated set of entries in a stable order (file name, then position)."""

    entries: tuple[Entry, ...]
    directory: Path | None = None
    _by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {entry.id: entry for entry in self.entries})

    @classmethod
    def of(cls, entries: Iterable[Entry], directory: Path | None = None) -> KnowledgeBase:
        return cls(tuple(entries), directory)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def consortia(self) -> list[str]:
        """Consortia that have entries, in the canonical order."""
        present = {entry.consortium for entry in self.entries}
        return [name for name in CONSORTIA if name in present]

    def in_consortium(self, consortium: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.consortium == consortium]
