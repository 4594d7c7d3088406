"""/intro and /peers in the terminal: the same store and rules as Discord, asked field by field.

"Posting" a card in the terminal prints it: there is no channel to post in.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from peerbot.console.intro_render import card_text, peer_lines
from peerbot.core.intro_policy import (
    CANCELLED,
    NO_INTRO_SELF,
    NO_MATCH,
    NOTHING_FOUND,
    PAGE_SIZE,
    delete_refusal,
    no_intro_other,
    page_count,
    results_heading,
    shorten,
)
from peerbot.core.intros import (
    FIELD_LIMITS,
    INTRO_CONSORTIA,
    IntroDraft,
    IntroError,
    resolve_consortium,
    validate_draft,
)

if TYPE_CHECKING:
    from peerbot.console.chat import ConsoleChat

CLEAR = "-"  # typed for an optional field: empty it
INTRO_USAGE = "Usage: /intro (write or edit yours), /intro show [member id], /intro delete [member id]"
PEERS_USAGE = (
    "Usage: /peers impact measurement, /peers topic=... country=... consortium=... page=2, /peers match"
)
_FILTER = re.compile(r"\b(topic|country|consortium|page)=", re.IGNORECASE)
_YES = {"y", "yes", "o", "oui", "s", "si", "sí"}


async def confirm(chat: ConsoleChat, question: str) -> bool:
    """Ask a yes/no question; anything but yes (or the end of input) is no."""
    answer = await chat.read_line(f"{question} [y/n] ")
    return answer is not None and answer.strip().casefold() in _YES


def _field_problems(draft: IntroDraft, key: str) -> list[str]:
    label = FIELD_LIMITS[key].label
    return [problem for problem in validate_draft(draft) if problem.startswith(label)]


async def _ask_field(chat: ConsoleChat, draft: IntroDraft, key: str) -> IntroDraft | None:
    """Ask one field until it is acceptable; None when the input ended."""
    limit = FIELD_LIMITS[key]
    current: str = getattr(draft, key)
    hints = [limit.hint + ("" if limit.minimum else ", optional")]
    if current:
        hints.append(f"Enter keeps '{shorten(current, 40)}'")
        if not limit.minimum:
            hints.append(f"'{CLEAR}' empties it")
    while True:
        answer = await chat.read_line(f"{limit.label} ({'; '.join(hints)}): ")
        if answer is None:
            return None
        value = answer.strip()
        if not value and current:
            return draft
        if value == CLEAR and not limit.minimum:
            value = ""
        candidate = replace(draft, **{key: value})
        problems = _field_problems(candidate, key)
        if not problems:
            return candidate
        chat.write("\n".join(problems))


async def _ask_consortium(chat: ConsoleChat, draft: IntroDraft) -> IntroDraft | None:
    hints = ["one of: " + ", ".join(INTRO_CONSORTIA)]
    keep = f"Enter keeps '{draft.consortium}', '{CLEAR}' for none"
    hints.append(keep if draft.consortium else "Enter for none")
    while True:
        answer = await chat.read_line(f"Consortium ({'; '.join(hints)}): ")
        if answer is None:
            return None
        value = answer.strip()
        if not value:
            return draft
        if value == CLEAR:
            return replace(draft, consortium=None)
        try:
            return replace(draft, consortium=resolve_consortium(value))
        except IntroError as exc:
            chat.write("\n".join(exc.problems))


async def write_intro(chat: ConsoleChat) -> None:
    """Ask each field in turn (pre-filled when editing), preview the card, then post it on yes."""
    store = chat.services.intros
    existing = await store.get(chat.guild_id, chat.actor.member_id)
    draft: IntroDraft | None = existing.draft() if existing else IntroDraft(name="", country="", topics="")
    chat.write("Editing your introduction." if existing else "Let's write your introduction.")
    for key in FIELD_LIMITS:
        draft = await _ask_field(chat, draft, key) if draft else None
    draft = await _ask_consortium(chat, draft) if draft else None
    if draft is None:
        chat.write(CANCELLED)
        return
    chat.write("This is how your card will look:\n" + card_text(draft))
    if not await confirm(chat, "Post?"):
        chat.write("Not posted: " + ("your card is unchanged." if existing else "nothing was saved."))
        return
    try:
        intro = await store.save(chat.guild_id, chat.actor.member_id, draft)
    except IntroError as exc:
        chat.write("Please fix your introduction:\n" + "\n".join(f"- {p}" for p in exc.problems))
        return
    chat.write(("Updated" if existing else "Posted") + ":\n" + card_text(intro))


def _member(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) > 0 else None


async def show_intro(chat: ConsoleChat, arg: str) -> None:
    member_id = _member(arg) or chat.actor.member_id
    intro = await chat.services.intros.get(chat.guild_id, member_id)
    if intro is None:
        own = member_id == chat.actor.member_id
        chat.write(NO_INTRO_SELF if own else no_intro_other(f"Member {member_id}"))
        return
    chat.write(card_text(intro))


async def delete_intro(chat: ConsoleChat, arg: str) -> None:
    member_id = _member(arg) or chat.actor.member_id
    settings = await chat.services.guild_settings.get(chat.guild_id)
    refusal = delete_refusal(chat.actor, settings, member_id, None)
    if refusal is not None:
        chat.write(refusal)
        return
    own = member_id == chat.actor.member_id
    store = chat.services.intros
    if await store.get(chat.guild_id, member_id) is None:
        chat.write(NO_INTRO_SELF if own else no_intro_other(f"Member {member_id}"))
        return
    whose = "your" if own else f"member {member_id}'s"
    if not await confirm(chat, f"Delete {whose} introduction? This cannot be undone."):
        chat.write(CANCELLED)
        return
    await store.delete(chat.guild_id, member_id)
    chat.write("Introduction deleted.")


async def intro(chat: ConsoleChat, rest: str) -> None:
    sub, _, arg = rest.partition(" ")
    sub, arg = sub.casefold(), arg.strip()
    if sub in ("", "create", "edit"):
        await write_intro(chat)
    elif sub == "show":
        await show_intro(chat, arg)
    elif sub == "delete":
        await delete_intro(chat, arg)
    else:
        chat.write(INTRO_USAGE)


def parse_filters(text: str) -> dict[str, str]:
    """``topic=impact country=France`` -> filters; text without ``key=`` is the topic."""
    found = list(_FILTER.finditer(text))
    if not found:
        return {"topic": text.strip()} if text.strip() else {}
    filters: dict[str, str] = {}
    if text[: found[0].start()].strip():
        filters["topic"] = text[: found[0].start()].strip()
    for here, after in zip(found, [*found[1:], None], strict=True):
        end = after.start() if after else len(text)
        filters[here.group(1).casefold()] = text[here.end() : end].strip()
    return filters


async def peers(chat: ConsoleChat, rest: str) -> None:
    store = chat.services.intros
    if rest.strip().casefold() == "match":
        try:
            matches = await store.match(chat.guild_id, chat.actor.member_id)
        except IntroError as exc:
            chat.write("\n".join(exc.problems))
            return
        if not matches:
            chat.write(NO_MATCH)
            return
        chat.write("\n".join(["Peers who work on what you work on:", *peer_lines(matches, why=True)]))
        return
    words = rest.strip()
    if words.casefold() == "search" or words.casefold().startswith("search "):
        words = words[len("search") :]  # /peers search ... as in Discord
    filters = parse_filters(words)
    page_text = filters.pop("page", "1")
    if not page_text.isdigit() or int(page_text) < 1:
        chat.write(f"The page must be a number from 1. {PEERS_USAGE}")
        return
    page = int(page_text)
    try:
        found = await store.search(chat.guild_id, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    except IntroError as exc:
        chat.write("\n".join(exc.problems))
        return
    if not found.total:
        chat.write(NOTHING_FOUND)
        return
    pages = page_count(found.total)
    if not found.items:
        chat.write(f"There are only {pages} page(s) of results.")
        return
    first = (page - 1) * PAGE_SIZE + 1
    lines = [results_heading(found.total, page) + ":", *peer_lines(found.items, start=first)]
    if page < pages:
        lines.append(f"(page {page} of {pages}: add page={page + 1} to see more)")
    chat.write("\n".join(lines))


def register(chat: ConsoleChat) -> None:
    chat.add_command("intro", intro)
    chat.add_command("peers", peers)
