"""What a question asks *for*, so PeerBot can say "I don't know that" instead of answering beside the point.

A member who asks where DIESIS is headquartered, what budget the PLPs had or who presides a network
asks for a kind of fact (a place, an amount, a person) that the PLP lessons never give. Fuzzy
retrieval still finds an entry about DIESIS or the PLPs, with a good score: the topic matches, the
focus does not. Each kind below has the words members use for it (in the languages members write)
and a test of whether an entry can deliver it; when the best entry cannot, the question is declined
with what PeerBot knows nearby.

Hand-written rather than a model: no embedding model separated these questions from answerable
ones (measured on the blind set), and the list is short, reviewable and never adds a fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peerbot.core.knowledge import Entry
from peerbot.core.text import fold


@dataclass(frozen=True, slots=True)
class Focus:
    """A kind of fact a question can ask for, and how to tell that an entry delivers it."""

    name: str  # what the PLP lessons give none of, e.g. "budgets or amounts of money"
    asks: re.Pattern[str]  # over the folded question
    delivers: re.Pattern[str] | None  # over the folded answer; None: no entry gives it

    def missing_from(self, entry: Entry) -> bool:
        return self.delivers is None or not self.delivers.search(fold(entry.answer))


def _words(*alternatives: str) -> re.Pattern[str]:
    """Whole folded words or phrases (small regexes): ``budget*`` any ending, `` * `` up to four words."""
    parts = [
        a.replace(" * ", r"(?:\s+\w+){0,4}\s+").replace("*", r"\w*").replace(" ", r"\s+")
        for a in alternatives
    ]
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b")


_DIGIT = re.compile(r"\b\d+\b")
_DATE = re.compile(r"\b(?:19|20)\d\d\b|\b(?:jan|feb|march|april|may|june|july|aug|sept?|oct|nov|dec)\w*\b")

FOCI: tuple[Focus, ...] = (
    Focus(
        "step-by-step procedures",
        _words(
            "how (?:do|can|should|could) (?:i|we) (?:register|apply|incorporate|set up|start|open|found|"
            "create|get|obtain|raise|file|fill)",
            "how to (?:register|apply|incorporate|set up|open|found|obtain|raise|fill)",
            "step by step",
            "como (?:registro|registrar|solicito|solicitar|abro|abrir|creo|crear|constituir)",
            "comment (?:enregistrer|demander|creer|ouvrir|monter)",
        ),
        None,
    ),
    Focus(
        "budgets or amounts of money",
        _words(
            "budget*",
            "how much money",
            "money",
            "cost*",
            "costs",
            "salar*",
            "euros?",
            "eur",
            "dollars?",
            "usd",
            "minimum capital",
            "share capital",
            "amount of funding",
            "funding amount",
            "how much funding",
            "how much did",
            "grant size",
            "presupuesto*",
            "dinero",
            "cuanto dinero",
            "argent",
            "combien d argent",
            "orcamento*",
            "dinheiro",
            "bilancio",
            "soldi",
            "quanto denaro",
            "geld",
            "wie viel geld",
            "kosten",
        ),
        _words("eur", "euros?", "dollars?", "budget*", "usd"),
    ),
    Focus(
        "headquarters or addresses",
        _words(
            "headquarter*",
            "hq",
            "head office",
            "based in",
            "where is * based",
            "located",
            "location",
            "postal address",
            "street address",
            "siege",
            "sede",
            "donde esta",
            "onde fica",
            "dove si trova",
            "hauptsitz",
            "sitz",
        ),
        None,
    ),
    Focus(
        "names of people in roles",
        _words(
            "president*",
            "presidente",
            "director*",
            "directeur*",
            "directora",
            "ceo",
            "chair*",
            "founder*",
            "fundador*",
            "fondateur*",
            "authors?",
            "autor",
            "autora",
            "autores",
            "authored",
            "auteurs?",
            "wrote",
            "written by",
            "redige*",
            "escribio",
            "secretary general",
            "spokesperson",
            "vorsitz*",
            "leiter*",
            "presidenza",
        ),
        None,
    ),
    Focus(
        "phone numbers",
        _words("phone*", "telephone*", "telefono*", "telefone", "whatsapp", "fax", "call them", "numero de"),
        None,
    ),
    Focus(
        "statistics",
        _words(
            "statistic*",
            "percent*",
            "percentage",
            "porcentaje",
            "pourcentage",
            "share of",
            "most often",
            "how often",
            "rate of",
            "jobs created",
            "how many jobs",
            "how many people",
            "how many workers",
            "estadistica*",
            "statistique*",
            "estatistica*",
            "statistiche",
            "statistik*",
        ),
        re.compile(r"%|\bper ?cent\b"),
    ),
    Focus(
        "dates or durations",
        _words(
            "when did",
            "when will",
            "when is",
            "when does",
            "what date",
            "which date",
            "start date",
            "deadline",
            "how long",
            "how many months",
            "how many years",
            "next year",
            "cuando",
            "quand",
            "quando",
            "wann",
            "fecha",
            "date limite",
        ),
        _DATE,
    ),
    Focus(
        "files to download",
        _words("download*", "pdf", "descargar", "telecharger", "baixar", "scaricare", "herunterladen"),
        re.compile(r"\bwww\b|\bhttps?\b"),
    ),
    Focus(
        "texts of national laws",
        _words(
            r"article \d+",
            r"ley \d+",
            "loi n",
            "lei n",
            "law no",
            "name of * law",
            "what does the law",
            "which law",
            "que dice la ley",
            "quelle loi",
            "gesetz*",
            "legge",
        ),
        None,
    ),
)

NUMBER = "that number"
# A number in the question ("the seven principles") that the entry does not have is a focus too.
_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "twelve": "12", "twenty": "20",
}  # fmt: skip


def _numbers(text: str) -> set[str]:
    folded = fold(text)
    found = set(_DIGIT.findall(folded))
    found |= {digit for word, digit in _NUMBER_WORDS.items() if re.search(rf"\b{word}\b", folded)}
    return found


def missing_focus(question: str, entry: Entry) -> str | None:
    """The kind of fact the question asks for that ``entry`` cannot give, or None when it can."""
    folded = fold(question)
    for focus in FOCI:
        if focus.asks.search(folded) and focus.missing_from(entry):
            return focus.name
    # Counts up to six name items members ask for ("tool 3", "the 2nd objective"); larger ones are facts.
    asked = {number for number in _numbers(question) if int(number) > 6}
    if asked and not asked <= _numbers(entry.answer) | _numbers(entry.title):
        return NUMBER
    return None


def missing_text(missing: str) -> str:
    """The member-facing sentence for a declined focus: what is not known, in the lessons' terms."""
    if missing == NUMBER:
        return "I don't know that: the PLP lessons don't mention that number."
    return f"I don't know that: the PLP lessons give no {missing}."
