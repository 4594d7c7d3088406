"""Synthetic knowledge bases of any size, grown from the real entries.

Latency and memory depend on how many entries and how many distinct words the index holds, so a
synthetic base must grow both the way a real one would. Each synthetic entry is a copy of a real
entry (new id) whose title, questions, tags and answer have words recombined with a second real
entry, plus a few invented proper-noun-like words (project or city names) so that the vocabulary
grows like Heaps' law, ``V(n) = V(81) * sqrt(n / 81)``, instead of staying at the real 763 terms.
The real entries come first, so the evaluation questions still have their right answers inside.
Everything is drawn from one seeded ``random.Random``: the same size always gives the same entries.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path

import yaml

from peerbot.core.knowledge import MAX_ANSWER, MAX_TITLE, Entry
from peerbot.core.retrieval import _terms

SEED = 20211130
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: 10k entries in 1 s, not 6
_CONSONANTS = "bcdfgklmnprtvz"
_VOWELS = "aeiou"


def vocabulary_size(entries: Sequence[Entry]) -> int:
    """Distinct index terms of ``entries`` (folded, stemmed, synonyms merged), as PeerBot counts them."""
    terms: set[str] = set()
    for entry in entries:
        for text in (entry.title, entry.answer, *entry.questions, *entry.tags):
            terms.update(_terms(text))
    return len(terms)


def _invented_words(count: int, taken: set[str], rng: random.Random) -> list[str]:
    """``count`` distinct pronounceable pseudo-words (3-4 syllables) unknown to the real base."""
    words: list[str] = []
    seen = set(taken)
    while len(words) < count:
        syllables = rng.randint(3, 4)
        word = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables))
        # Ending in a vowel keeps PeerBot's plural folding and synonym table from touching them.
        if word not in seen and _terms(word) == [word]:
            seen.add(word)
            words.append(word)
    return words


def _mix(own: str, donor: str, rng: random.Random, share: float = 0.35) -> list[str]:
    """The words of ``own`` with about ``share`` of them replaced by words of ``donor``, lightly shuffled."""
    words = own.split()
    other = donor.split()
    if other:
        for position in range(len(words)):
            if rng.random() < share:
                words[position] = rng.choice(other)
    for _ in range(len(words) // 4):  # a few swaps: recombined, but still sentence-shaped
        a, b = rng.randrange(len(words)), rng.randrange(len(words))
        words[a], words[b] = words[b], words[a]
    return words


def _clip(words: list[str], limit: int) -> str:
    text = ""
    for word in words:
        candidate = f"{text} {word}" if text else word
        if len(candidate) > limit:
            break
        text = candidate
    return text


def synthetic_entries(real: Sequence[Entry], size: int, seed: int = SEED) -> list[Entry]:
    """``size`` entries: the real ones first, then recombined copies (deterministic for a seed)."""
    rng = random.Random(f"{seed}-{size}")
    base = list(real)
    if size <= len(base):
        return base[:size]
    real_vocabulary = vocabulary_size(base)
    extra = size - len(base)
    wanted = round(real_vocabulary * math.sqrt(size / len(base))) - real_vocabulary
    taken = {term for entry in base for text in (entry.title, entry.answer) for term in _terms(text)}
    pool = _invented_words(max(wanted, 0), taken, rng)
    per_entry = max(2, math.ceil(len(pool) / extra)) if pool else 0
    entries = list(base)
    for number in range(extra):
        own = base[number % len(base)]
        donor = base[rng.randrange(len(base))]
        # Each pool word is used at least once (round robin), then again at random: names recur.
        names = [pool[(number * per_entry + k) % len(pool)] for k in range(per_entry)] if pool else []
        if pool:
            names[-1] = rng.choice(pool)
        title = _clip(names[:1] + _mix(own.title, donor.title, rng), MAX_TITLE)
        questions = tuple(
            " ".join(_mix(question, rng.choice(donor.questions), rng)) for question in own.questions
        )
        answer_words = _mix(own.answer, donor.answer, rng)
        for name in names:
            answer_words.insert(rng.randrange(len(answer_words) + 1), name.capitalize())
        tags = tuple(dict.fromkeys([*own.tags[:3], *rng.sample(donor.tags, min(2, len(donor.tags)))]))
        entries.append(
            Entry(
                id=f"syn-{number:06d}-{own.id}",  # the real entry it copies, for rank checks
                title=title or own.title,
                consortium=own.consortium,
                tags=tags,
                questions=questions,
                answer=_clip(answer_words, MAX_ANSWER),
                source=own.source,
            )
        )
    return entries


def original_id(entry_id: str) -> str:
    """The real entry a synthetic one was copied from (a real id is its own original)."""
    return entry_id.split("-", 2)[2] if entry_id.startswith("syn-") else entry_id


def write_knowledge_dir(entries: Sequence[Entry], directory: Path, per_file: int = 1000) -> Path:
    """Write ``entries`` as YAML files PeerBot's loader accepts (related ids dropped: they may not exist)."""
    directory.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(entries), per_file):
        chunk = [
            {
                "id": entry.id,
                "title": entry.title,
                "consortium": entry.consortium,
                "tags": list(entry.tags),
                "questions": list(entry.questions),
                "answer": entry.answer,
                "source": entry.source,
            }
            for entry in entries[start : start + per_file]
        ]
        path = directory / f"part-{start // per_file:04d}.yaml"
        text = yaml.dump({"entries": chunk}, Dumper=_DUMPER, allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
    return directory
