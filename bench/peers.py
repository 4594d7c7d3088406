"""/peers search over many introductions, beside a plain SQL ``LIKE`` query on the same table.

``IntroStore.search`` reads the server's introductions from SQLite and scores every one in Python
(typo-tolerant topic words, accent-folded countries), so its time grows with the number of members.
The introductions are synthetic (seeded): topics drawn from the knowledge base's tags and titles,
countries from a fixed list; they are written with ``IntroStore.save`` into a temporary database.
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.common import Context, Section, median, percentile, ratio, table
from peerbot.core.intros import INTRO_CONSORTIA, IntroDraft, IntroStore
from peerbot.core.knowledge import Entry
from peerbot.core.storage import Database
from peerbot.core.text import normalise

SIZES = (1_000, 10_000)
QUICK_SIZES = (1_000,)
LARGE = 10_000  # from here on: at most 3 runs and every 2nd query (~0.3 s each), for the time budget
LARGE_RUNS = 3
LARGE_QUERY_STEP = 2
SEED = 20240601
GUILD = 1
PAGE = 10
COUNTRIES = (
    "France", "Spain", "Portugal", "Italy", "Germany", "Belgium", "Netherlands", "Ireland", "Poland",
    "Austria", "Australia", "Sweden", "Finland", "Denmark", "Greece", "Romania", "Bulgaria", "Croatia",
    "Slovenia", "Czechia", "Hungary", "Estonia", "Latvia", "Lithuania", "Luxembourg", "Malta", "Cyprus",
    "Côte d'Ivoire", "Türkiye", "United Kingdom", "Canada", "Mexico", "Brazil", "Colombia", "Chile",
    "Morocco", "Tunisia", "Senegal", "Kenya", "South Africa",
)  # fmt: skip
COUNTRY_QUERIES = ("France", "spain", "Cote d'Ivoire", "Frnace", "United Kingdom", "turkiye")
TOPIC_QUERIES = 18  # tags of the knowledge base, one or two words, some with a typo
COMBINED_QUERIES = 6  # topic and country together
_WORD = re.compile(r"[a-z]{3,}")


@dataclass(frozen=True)
class Query:
    topic: str | None = None
    country: str | None = None

    def __str__(self) -> str:
        return " + ".join(f"{k}={v!r}" for k, v in (("topic", self.topic), ("country", self.country)) if v)


def _topic_pool(entries: Sequence[Entry]) -> tuple[list[str], list[str]]:
    """Tags (short phrases) and titles of the knowledge base, the raw material of topics."""
    tags = sorted(
        {
            tag.strip()
            for entry in entries
            for tag in entry.tags
            if 3 <= len(tag.strip()) <= 40 and normalise(tag)  # "list", "s.e": nothing a member searches by
        }
    )
    titles = sorted({entry.title for entry in entries})
    return tags, titles


def synthetic_intros(entries: Sequence[Entry], count: int) -> list[IntroDraft]:
    """``count`` introductions, the same for the same count (one seeded generator)."""
    rng = random.Random(SEED)
    tags, titles = _topic_pool(entries)
    drafts = []
    for number in range(count):
        topics = ", ".join(rng.sample(tags, rng.randint(2, 5)))[:300].rstrip(", ")
        offer = f"Offering: {rng.choice(titles)}. Looking for: {rng.choice(titles)}."[:500]
        drafts.append(
            IntroDraft(
                name=f"Member {number:05d}",
                country=rng.choice(COUNTRIES),
                topics=topics,
                organisation=f"Organisation {rng.randint(1, count // 4 + 1)}",
                offer_seek=offer if rng.random() < 0.7 else "",
                consortium=rng.choice((*INTRO_CONSORTIA, None)),
            )
        )
    return drafts


def _typo(word: str, rng: random.Random) -> str:
    """Two neighbouring letters swapped, the commonest typo; short words are left alone."""
    if len(word) < 6:
        return word
    at = rng.randrange(1, len(word) - 2)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def queries(entries: Sequence[Entry]) -> list[Query]:
    rng = random.Random(SEED + 1)
    tags, _ = _topic_pool(entries)
    chosen = rng.sample(tags, TOPIC_QUERIES + COMBINED_QUERIES)
    topics = [
        " ".join(tag.split()[:2]) if index % 3 else _typo(tag.split()[0], rng)
        for index, tag in enumerate(chosen)
    ]
    found = [Query(topic=topic) for topic in topics[:TOPIC_QUERIES]]
    found += [Query(country=country) for country in COUNTRY_QUERIES]
    found += [Query(topic=topic, country=rng.choice(COUNTRY_QUERIES)) for topic in topics[TOPIC_QUERIES:]]
    return found


async def _like(database: Database, query: Query) -> tuple[list[object], int]:
    """The baseline: every query word as a case-insensitive substring, first page by member id."""
    where, params = ["guild_id = ?"], [GUILD]
    for word in _WORD.findall((query.topic or "").lower()):
        where.append("(topics LIKE ? OR offer_seek LIKE ?)")
        params += [f"%{word}%", f"%{word}%"]
    if query.country:
        where.append("country LIKE ?")
        params.append(f"%{query.country}%")
    rows = await database.fetch_all(
        f"SELECT * FROM introduction WHERE {' AND '.join(where)} ORDER BY member_id", params
    )
    return rows[:PAGE], len(rows)


@dataclass
class SizeResult:
    size: int
    asked: list[Query]
    insert_s: float
    peerbot_ms: list[list[float]]  # per run, per query
    like_ms: list[list[float]]
    peerbot_total: list[int]  # per query (deterministic)
    like_total: list[int]

    def stat(self, engine: str, pct: float) -> float:
        runs = self.peerbot_ms if engine == "peerbot" else self.like_ms
        return median(percentile(run, pct) for run in runs)


async def _measure(ctx: Context, size: int, everything: list[Query]) -> SizeResult:
    asked = everything[:: LARGE_QUERY_STEP if size >= LARGE else 1]
    path = ctx.work / f"peers-{size}.sqlite3"
    path.unlink(missing_ok=True)
    database = await Database.open(path)
    try:
        store = IntroStore(database)
        begin = time.perf_counter()
        for member, draft in enumerate(synthetic_intros(ctx.real, size), start=1):
            await store.save(GUILD, member, draft)
        insert_s = time.perf_counter() - begin
        for query in asked[:2]:  # warm-up, not counted: page cache, rapidfuzz and SQLite statements
            await store.search(GUILD, topic=query.topic, country=query.country, limit=PAGE)
            await _like(database, query)
        peerbot_runs: list[list[float]] = []
        like_runs: list[list[float]] = []
        peerbot_total: list[int] = []
        like_total: list[int] = []
        total = min(ctx.settings.repeats, LARGE_RUNS) if size >= LARGE else ctx.settings.repeats
        for number in range(total):
            print(f"  {size:>7,} introductions: run {number + 1}/{total}", file=sys.stderr, flush=True)
            ours, theirs = [], []
            for query in asked:  # interleaved per query, so a slow spell hits both
                start = time.perf_counter_ns()
                page = await store.search(GUILD, topic=query.topic, country=query.country, limit=PAGE)
                ours.append((time.perf_counter_ns() - start) / 1e6)
                start = time.perf_counter_ns()
                _, like_count = await _like(database, query)
                theirs.append((time.perf_counter_ns() - start) / 1e6)
                if number == 0:
                    peerbot_total.append(page.total)
                    like_total.append(like_count)
            peerbot_runs.append(ours)
            like_runs.append(theirs)
    finally:
        await database.close()
    return SizeResult(size, asked, insert_s, peerbot_runs, like_runs, peerbot_total, like_total)


def run(ctx: Context) -> Section:
    asked = queries(ctx.real)
    sizes = QUICK_SIZES if ctx.settings.quick else SIZES
    results = [asyncio.run(_measure(ctx, size, asked)) for size in sizes]
    rows = []
    for r in results:
        p50, b50 = r.stat("peerbot", 50), r.stat("like", 50)
        p99, b99 = r.stat("peerbot", 99), r.stat("like", 99)
        rows.append(
            [
                f"{r.size:,}",
                f"{len(r.asked)} × {len(r.peerbot_ms)}",
                *(f"{p50:.2f}", f"{b50:.2f}", ratio(p50, b50)),
                *(f"{p99:.2f}", f"{b99:.2f}", ratio(p99, b99)),
                f"{r.insert_s:.1f}",
            ]
        )
    last = results[-1]
    kinds = (
        ("topic only", lambda q: q.topic and not q.country),
        ("country only", lambda q: q.country and not q.topic),
        ("topic + country", lambda q: q.topic and q.country),
    )
    kind_rows = []
    for name, wanted in kinds:
        picked = [i for i, q in enumerate(last.asked) if wanted(q)]
        ours = median(median(run[i] for i in picked) for run in last.peerbot_ms)
        theirs = median(median(run[i] for i in picked) for run in last.like_ms)
        found = median(last.peerbot_total[i] for i in picked)
        like_found = median(last.like_total[i] for i in picked)
        kind_rows.append(
            [
                *(name, len(picked), f"{ours:.2f}", f"{theirs:.2f}", ratio(ours, theirs)),
                *(f"{found:g}", f"{like_found:g}"),
            ]
        )
    misses = [i for i in range(len(last.asked)) if last.like_total[i] == 0 and last.peerbot_total[i] > 0]
    missed = ", ".join(f"{last.asked[i]} ({last.peerbot_total[i]})" for i in misses)
    small = min(len(r.asked) for r in results)
    few = f" With {small} queries a run, p99 is close to the run's slowest query." if small < 100 else ""
    large = [r for r in results if r.size >= LARGE]
    subset = (
        f" At {LARGE:,} introductions every {LARGE_QUERY_STEP}nd query is asked ({len(large[0].asked)} of "
        f"{len(asked)}) and at most {LARGE_RUNS} runs are made, to keep the whole run within its budget."
        if large
        else ""
    )
    body = "\n\n".join(
        [
            "Time of one `IntroStore.search(guild, topic=…, country=…, limit=10)` (the first page of "
            "/peers, with the total over all pages) beside the baseline, a plain SQL query through the "
            "same aiosqlite connection: every query word as `topics LIKE '%word%' OR offer_seek LIKE "
            "'%word%'` and the country as `country LIKE '%…%'`, all matching rows fetched in member "
            "order (so it also knows the total). The baseline has no typo tolerance, accent folding or "
            "ranking; it is the floor of reading the table. "
            f"{len(asked)} queries ({TOPIC_QUERIES} topics from the knowledge base's tags, every third "
            f"one word with two neighbouring letters swapped; {len(COUNTRY_QUERIES)} countries, three "
            f"misspelt or without their accents; {COMBINED_QUERIES} topic + country); a run asks each "
            "once, p50/p99 are over the queries of a run, and the table gives the median over runs, "
            f"after an uncounted warm-up.{few} "
            f"Synthetic introductions (seed {SEED}): 2-5 knowledge-base tags as topics, 70% with an "
            f"offer/seek line made of entry titles, a country from {len(COUNTRIES)}, a consortium or "
            "none; written one by one with `IntroStore.save` into a fresh SQLite file." + subset,
            table(
                [
                    *("Introductions", "Queries × runs"),
                    *("PeerBot p50 ms", "LIKE p50 ms", "p50 ratio"),
                    *("PeerBot p99 ms", "LIKE p99 ms", "p99 ratio"),
                    "Writing them s",
                ],
                rows,
            ),
            f"By kind of query at {last.size:,} introductions (median ms per query; *matches* is the "
            "median number of members found, over all pages):",
            table(
                [
                    *("Query", "Queries", "PeerBot ms", "LIKE ms", "ratio"),
                    *("PeerBot matches", "LIKE matches"),
                ],
                kind_rows,
            ),
            f"What the typo tolerance buys: {len(misses)} of the {len(last.asked)} queries find nobody "
            "with `LIKE` but members with PeerBot (PeerBot's matches in brackets): "
            + (missed or "none")
            + ".",
        ]
    )
    headline = {
        f"/peers search p99 at {r.size:,} introductions (PeerBot / LIKE)": (
            f"{r.stat('peerbot', 99):.1f} ms / {r.stat('like', 99):.1f} ms "
            f"({ratio(r.stat('peerbot', 99), r.stat('like', 99))})"
        )
        for r in results
    }
    return Section("/peers search", body, [], headline)
