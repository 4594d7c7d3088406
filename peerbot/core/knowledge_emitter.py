"""Writing entries back as YAML in the house style of ``knowledge/``, so a saved edit diffs as itself.

PyYAML's dumper reflows and re-quotes text, which would turn a one-line edit into a diff of the whole
file. This emitter writes exactly the layout editors use by hand: keys in a fixed order, titles,
sources and questions double-quoted, tags and related ids as flow lists, answers as ``|`` blocks,
one blank line between entries. Text a block scalar cannot carry exactly (tabs, carriage returns,
trailing spaces, unusual line breaks) falls back to a double-quoted string with escapes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import yaml

from peerbot.core.knowledge import Entry

_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# YAML's printable set (1.1, as PyYAML reads it) minus the characters YAML treats as line breaks.
_PRINTABLE = "\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"
_BREAKS = "\x85\u2028\u2029\ufeff"  # line breaks to YAML (and a BOM): never raw inside a scalar
_NOT_PRINTABLE = re.compile(f"[^\x09\x0a{_PRINTABLE}]|[{_BREAKS}]")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}
_BLOCK_UNSAFE = re.compile(f"[^\n{_PRINTABLE}]|[{_BREAKS}]")  # tabs and carriage returns included


def _escape_char(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quoted(text: str) -> str:
    """A double-quoted YAML scalar that reads back as exactly ``text`` (unicode kept as is)."""
    out = []
    for char in text:
        if char in _ESCAPES or _NOT_PRINTABLE.match(char):
            out.append(_escape_char(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _plain_in_flow(text: str) -> bool:
    """True when ``text`` can stand unquoted in a flow list and read back as the same string."""
    if not text or text != text.strip() or "\n" in text or _NOT_PRINTABLE.search(text):
        return False
    try:
        return yaml.load(f"[{text}]", Loader=_SafeLoader) == [text]
    except yaml.YAMLError:
        return False


def flow_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(item if _plain_in_flow(item) else quoted(item) for item in items) + "]"


def _block_ok(text: str) -> bool:
    """A literal block keeps every character of ``text`` only under these conditions."""
    if not text or text != text.strip() or _BLOCK_UNSAFE.search(text):
        return False
    return all(line == line.rstrip(" ") for line in text.split("\n"))


def _scalar_id(entry_id: str) -> str:
    return entry_id if _plain_in_flow(entry_id) else quoted(entry_id)


def entry_yaml(entry: Entry) -> str:
    """One entry as the lines of the ``entries:`` list, ending with a newline."""
    lines = [
        f"  - id: {_scalar_id(entry.id)}",
        f"    title: {quoted(entry.title)}",
        f"    consortium: {quoted(entry.consortium)}",
        f"    tags: {flow_list(entry.tags)}",
        "    questions:",
        *(f"      - {quoted(question)}" for question in entry.questions),
    ]
    if _block_ok(entry.answer):
        lines.append("    answer: |")
        lines.extend(f"      {line}" if line else "" for line in entry.answer.split("\n"))
    else:
        lines.append(f"    answer: {quoted(entry.answer)}")
    lines.append(f"    source: {quoted(entry.source)}")
    if entry.related:
        lines.append(f"    related: {flow_list(entry.related)}")
    return "\n".join(lines) + "\n"


def file_yaml(entries: Iterable[Entry]) -> str:
    """A whole knowledge file: ``entries:`` and each entry, separated by one blank line."""
    blocks = [entry_yaml(entry) for entry in entries]
    if not blocks:
        return "entries: []\n"
    return "entries:\n" + "\n".join(blocks)


def entry_version(entry: Entry) -> str:
    """A short fingerprint of the entry's content: an edit names the version it started from."""
    return hashlib.sha256(entry_yaml(entry).encode("utf-8")).hexdigest()[:12]
