"""Reading the YAML knowledge base and reporting every problem in it at once.

Editors fix files by hand, so each problem names the file, the entry and (where YAML knows it)
the line, and all problems are reported together rather than one per run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import util
from pathlib import Path
from typing import Any

import yaml

from peerbot.core.knowledge import (
    CONSORTIA,
    ID_PATTERN,
    MAX_ANSWER,
    MAX_ID,
    MAX_TITLE,
    MIN_QUESTIONS,
    Entry,
    KnowledgeBase,
)
from peerbot.core.text import has_letter_or_digit

log = logging.getLogger(__name__)

REQUIRED_FIELDS = ("id", "title", "consortium", "tags", "questions", "answer", "source")
OPTIONAL_FIELDS = ("related",)
_ID_RE = re.compile(ID_PATTERN)
_LINE_KEY = "__line__"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the knowledge base, worded for the person who will fix it."""

    file: str
    message: str
    entry_id: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        entry = f" [{self.entry_id}]" if self.entry_id else ""
        return f"{where}{entry}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base cannot be used; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the knowledge base: " + "; ".join(map(str, problems))
        )


# libyaml's C loader when PyYAML has it (several times faster on big bases), else the pure-Python one.
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """A safe loader that remembers the line where each mapping starts."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[_LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def bundled_knowledge_dir() -> Path:
    """The knowledge shipped with PeerBot: the repository's folder, else the installed package data."""
    checkout = Path(__file__).resolve().parents[2] / "knowledge"
    if checkout.is_dir():
        return checkout
    spec = util.find_spec("peerbot_knowledge")  # installed as package data (a namespace package)
    if spec is None or not spec.submodule_search_locations:
        return checkout  # reported as "knowledge directory not found" by the loader
    return Path(next(iter(spec.submodule_search_locations)))


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)


def _check_entry(raw: Any, file: str, index: int, problems: list[Problem]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(
            Problem(file, f"entry #{index + 1} must be a mapping of fields, got {type(raw).__name__}")
        )
        return None
    line = raw.pop(_LINE_KEY, None)
    entry_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    before = len(problems)

    def report(message: str) -> None:
        problems.append(Problem(file, message, entry_id or f"entry #{index + 1}", line))

    for name in REQUIRED_FIELDS:
        if name not in raw:
            report(f"missing field '{name}'")
    for name in sorted(set(raw) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)):
        report(f"unknown field '{name}' (allowed: {', '.join(REQUIRED_FIELDS + OPTIONAL_FIELDS)})")

    for name in ("id", "title", "consortium", "answer", "source"):
        if name in raw and not (isinstance(raw[name], str) and raw[name].strip()):
            report(f"'{name}' must be a non-empty text, got {type(raw[name]).__name__}")
    for name in ("tags", "questions", "related"):
        if name in raw and not _is_str_list(raw[name]):
            report(f"'{name}' must be a list of non-empty texts")

    if entry_id is not None and not _ID_RE.match(entry_id):
        report("'id' must be a lowercase slug of letters, digits and dashes (like 'rrr-objectives')")
    if entry_id is not None and len(entry_id) > MAX_ID:
        report(f"'id' is {len(entry_id)} characters; the limit is {MAX_ID}")
    # Lengths are of the text as served (stripped): a ``|`` block's final newline is YAML, not answer.
    title = raw["title"].strip() if isinstance(raw.get("title"), str) else None
    if title and len(title) > MAX_TITLE:
        report(f"'title' is {len(title)} characters; the limit is {MAX_TITLE}")
    if title and not has_letter_or_digit(title):
        report("'title' needs at least one letter or digit (invisible characters do not count)")
    answer = raw["answer"].strip() if isinstance(raw.get("answer"), str) else None
    if answer and len(answer) > MAX_ANSWER:
        report(f"'answer' is {len(answer)} characters; the limit is {MAX_ANSWER}")
    if entry_id is not None and _is_str_list(raw.get("related")) and entry_id in raw["related"]:
        report("'related' lists the entry itself; name other entries only")
    if isinstance(raw.get("consortium"), str) and raw["consortium"] not in CONSORTIA:
        report(f"unknown consortium '{raw['consortium']}' (one of: {', '.join(CONSORTIA)})")
    if _is_str_list(raw.get("questions")) and len(raw["questions"]) < MIN_QUESTIONS:
        report(f"'questions' has {len(raw['questions'])}; give at least {MIN_QUESTIONS} ways to ask")

    if len(problems) > before:
        return None
    return Entry(
        id=raw["id"],
        title=raw["title"].strip(),
        consortium=raw["consortium"],
        tags=tuple(tag.strip() for tag in raw["tags"]),
        questions=tuple(question.strip() for question in raw["questions"]),
        answer=raw["answer"].strip(),
        source=raw["source"].strip(),
        related=tuple(raw.get("related") or ()),
        file=file,
        line=line or 0,
    )


def parse_file(text: str, file: str, problems: list[Problem]) -> list[Entry]:
    """Entries of one YAML document; problems are appended, never raised."""
    try:
        document = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(file, f"YAML syntax error: {reason}", line=mark.line + 1 if mark else None))
        return []
    if document is None:
        return []
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        problems.append(Problem(file, "the file must be a mapping with an 'entries' list"))
        return []
    document.pop(_LINE_KEY, None)
    extra = sorted(set(document) - {"entries"})
    if extra:
        problems.append(Problem(file, f"unknown top-level key(s): {', '.join(extra)}"))
    entries = []
    for index, raw in enumerate(document["entries"]):
        entry = _check_entry(raw, file, index, problems)
        if entry is not None:
            entries.append(entry)
    return entries


def check_entries(entries: list[Entry], problems: list[Problem]) -> None:
    """Checks across entries: unique ids and ``related`` ids that exist."""
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.id in seen:
            problems.append(
                Problem(entry.file, f"duplicate id, also used in {seen[entry.id]}", entry.id, entry.line)
            )
        else:
            seen[entry.id] = entry.file
    for entry in entries:
        for other in entry.related:
            if other not in seen:
                problems.append(
                    Problem(
                        entry.file, f"'related' names '{other}', which does not exist", entry.id, entry.line
                    )
                )


def read_directory(directory: Path) -> tuple[list[Entry], list[Problem]]:
    """Every entry under ``directory`` and every problem found, files in name order."""
    problems: list[Problem] = []
    if not directory.is_dir():
        return [], [Problem(str(directory), "knowledge directory not found")]
    entries: list[Entry] = []
    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    if not files:
        problems.append(Problem(str(directory), "no .yaml files in the knowledge directory"))
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(path.name, f"cannot read file: {exc}"))
            continue
        entries.extend(parse_file(text, path.name, problems))
    check_entries(entries, problems)
    return entries, problems


def load_knowledge(directory: Path) -> KnowledgeBase:
    """A validated knowledge base, or :class:`KnowledgeError` listing every problem."""
    entries, problems = read_directory(directory)
    if problems:
        raise KnowledgeError(problems)
    log.info("Loaded %d knowledge entries from %s", len(entries), directory)
    return KnowledgeBase.of(entries, directory)
