"""The two baselines PeerBot is compared with, defined once for the quality and latency benchmarks.

Both see the same text of each entry as PeerBot (title, questions, tags, answer) but none of its work:
no accent folding, stop words, synonyms, field weights or typo expansion. That is the point: they show
what a textbook method gives for free, so PeerBot's extra machinery has to earn its keep.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from peerbot.core.knowledge import Entry

_WORD = re.compile(r"\w+")


def entry_text(entry: Entry) -> str:
    """Title, example questions, tags and answer joined: everything an entry says."""
    return " ".join([entry.title, *entry.questions, *entry.tags, entry.answer])


def bm25_tokens(text: str) -> list[str]:
    """Lower-cased word tokens (Unicode ``\\w+``), the usual BM25 preprocessing and nothing more."""
    return _WORD.findall(text.lower())


def bm25_corpus(entries: Sequence[Entry]) -> list[list[str]]:
    return [bm25_tokens(entry_text(entry)) for entry in entries]
