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
from peerbot.core.synonyms import canonical
from peerbot.core.text import fold, is_stop_word, stem


@dataclass(frozen=True, slots=True)
class Focus:
    """A kind of fact a question can ask for, and how to tell that an entry delivers it."""

    name: str  # what the PLP lessons give none of, e.g. "budgets or amounts of money"
    asks: re.Pattern[str]  # over the folded question
    delivers: re.Pattern[str] | None  # over the folded answer; None: no entry gives it
    raw: bool = False  # ``delivers`` reads the answer as written (capitals, punctuation), not folded

    def missing_from(self, entry: Entry) -> bool:
        if self.delivers is None:
            return True
        return not self.delivers.search(entry.answer if self.raw else fold(entry.answer))


def _words(*alternatives: str) -> re.Pattern[str]:
    """Whole folded words or phrases (small regexes): ``budget*`` any ending, `` * `` up to four words."""
    parts = [
        a.replace(" * ", r"(?:\s+\w+){0,4}\s+").replace("*", r"\w*").replace(" ", r"\s+")
        for a in alternatives
    ]
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b")


_DIGIT = re.compile(r"\b\d+\b")
MONEY = "budgets or amounts of money"
_CURRENCY = re.compile(r"[$€£¥]")
COUNTS = "figures for that"  # any number in an answer "gives" a count: too weak to pick another entry by
_NUMBER_IN_ANSWER = re.compile(
    r"\b\d+\b|\b(?:two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|dozen)\b"
)
# Four or more names in a row ("EU27, Brazil, Canada, Korea"): the answer names members, not a count
# (three can be a name: "Respond, Rebuild, Reinvent").
_NAMES_LISTED = re.compile(r"[A-Z][\w-]*(?: [A-Z][\w-]*)*(?:, (?:and )?[A-Z][\w-]*(?: [A-Z][\w-]*)*){3,}")
_DAY = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th)?,? (?:of )?(?:jan|feb|march|april|may|june|july|aug|sept?|oct|nov|dec)\w*"
    r"|\b(?:jan|feb|march|april|may|june|july|aug|sept?|oct|nov|dec)\w*\.? \d{1,2}(?:st|nd|rd|th)?\b"
)
_MEMBERS = (
    "countries|cities|organi[sz]ations|orgs|members|locations|partners|pays|villes|membres|paises|"
    "ciudades|organizaciones|miembros|socios|cidades|organizacoes|membros|paesi|citta|organizzazioni|"
    "membri|lander|stadte|organisationen|mitglieder"
)
# Countries members name when they ask about one country's law (the lessons compare, never quote, laws).
_COUNTRIES = (
    "spain|espana|espagne|spagna|spanien|mexico|messico|mexiko|korea|corea|coree|south korea|canada|"
    "kanada|brazil|brasil|bresil|brasile|brasilien|france|francia|frankreich|franca|italy|italia|italie|"
    "italien|germany|alemania|allemagne|germania|deutschland|alemanha|portugal|portogallo|"
    "united states|estados unidos|etats unis|stati uniti|usa|uk|united kingdom|reino unido|royaume uni|"
    "colombia|colombie|kolumbien|argentina|argentine|chile|chili|belgium|belgique|belgica|belgio|belgien|"
    "netherlands|pays bas|poland|polonia|pologne|greece|grecia|grece|india|inde|japan|japon|china|chine|"
    "australia|australie|kenya|nigeria|morocco|maroc|marruecos|senegal|quebec|ontario|ireland|irlande|"
    "sweden|suecia|suede|austria|autriche|switzerland|suisse|suiza"
)
_REGISTER = "register|registrar|enregistrer|registar|registrare|registrieren"
_LAW = (
    "laws?|ley|leyes|loi|lois|lei|leis|legge|leggi|gesetz*|legislation|legislacion|act|"
    "bodies|organi|organos|organes|orgaos|gremien"  # a country's consultative bodies: its institutions
)

_DATE = re.compile(r"\b(?:19|20)\d\d\b|\b(?:jan|feb|march|april|may|june|july|aug|sept?|oct|nov|dec)\w*\b")

FOCI: tuple[Focus, ...] = (
    Focus(
        "step-by-step procedures",
        _words(
            "how (?:do|can|should|could) (?:i|we) (?:register|apply|incorporate|set up|start|open|found|"
            "create|get|obtain|raise|file|fill)",
            "how to (?:register|apply|incorporate|set up|open|found|obtain|raise|fill)",
            "step by step",
            "steps to",
            "etapes pour",
            "pasos para",
            "passos para",
            "passi per",
            "schritte",
            "como (?:registro|registrar|solicito|solicitar|abro|abrir|creo|crear|constituir)",
            "comment (?:enregistrer|demander|creer|ouvrir|monter)",
            "procedur*",
            "procedimiento*",
            "demarches?",
            # joining a partnership: the lessons say who took part, never how to join one
            "(?:join|entrare|entrar|unirse|unirme|rejoindre|adherer|aderire|beitreten|participar) "
            "(?:\\w+ ){0,3}(?:plp|project|progetto|proyecto|projet|projeto|consorti|consorzio|consorcio|"
            "network|rete|reseau|rede|netzwerk)*",
            "mitglied * werden",
        ),
        None,
    ),
    Focus(
        MONEY,
        _words(
            "budget*",
            "how much money",
            "hw much",
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
            "fees?",
            "membership fee",
            "cotisation*",
            "cuota*",
            "mitgliedsbeitrag*",
            "price*",
            "prix",
            "precio*",
            "prezzo",
            "preis*",
            "kostet",
            "cuesta*",
            "custa*",
            "costa",
            "coute*",
            "cout",
            "frais",
            "subsid*",
            "subvention*",
            "subvencion*",
            "sovvenzion*",
            "aides publiques",
            "ayudas publicas",
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
            "contact details",
            "contact person",
            "person in charge",
            "name of the person",
            "personne responsable",
            "nom de la personne",
            "persona responsable",
            "nombre de la persona",
            "nome della persona",
            "ansprechpartner*",
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
            "how long",
            "how many months",
            "how many years",
            "next year",
            "cuando",
            "quand",
            "quando",
            "wann",
            "fecha",
            "what year",
            "which year",
            "in what year",
            "en que ano",
            "en quelle annee",
            "in welchem jahr",
            "em que ano",
            "in che anno",
        ),
        _DATE,
    ),
    Focus(
        "files to download",
        _words(
            "download*",
            "pdf",
            "descargar",
            "telecharger",
            "baixar",
            "scaricare",
            "herunterladen",
            "templates?",
            "plantilla*",
            "vorlage*",
            "recording*",
            "recorded",
            "aufzeichnung*",
            "grabacion*",
            "enregistrement*",
            "registrazione",
            "gravacao",
            "videos?",
            "websites?",
            "site web",
            "sitio web",
            "pagina web",
            "webseite",
        ),
        re.compile(r"\bwww\b|\bhttps?\b"),
    ),
    Focus(
        "names of the members, cities or countries taking part",
        _words(
            rf"(?:which|list|name|names of|quels|quelles|cuales|quais|quali|welche) (?:\w+ ){{0,2}}"
            rf"(?:{_MEMBERS})",
            rf"(?:que|qual) (?:{_MEMBERS})",  # adjacent only: "o que os membros aprenderam" asks no names
            rf"(?:{_MEMBERS}) (?:\w+ ){{0,2}}(?:names|list)",
            rf"(?:which|what|quels|quelles|cuales|quali|welche) (?:are|were|sont|son|sono|sind) "
            rf"(?:\w+ ){{0,2}}(?:{_MEMBERS})",
            "(?:their|the|leurs|les|sus|los|loro|ihre|die|seus|os) (?:names|noms|nombres|nomi|namen|nomes)",
        ),
        _NAMES_LISTED,
        raw=True,
    ),
    Focus(
        COUNTS,
        _words(
            "how man*",
            "combien",
            "cuant[oa]s",
            "quant[oa]s",
            "quant[ie]",
            "wie viele",
            "number of",
            "nombre de",
            "numero de",
            "anzahl",
        ),
        _NUMBER_IN_ANSWER,
    ),
    Focus(
        "exact days",
        _words(
            "which day",
            "what day",
            "exact day",
            "exact date",
            "quel jour",
            "que dia",
            "quale giorno",
            "welchem tag",
            "fecha exacta",
            "date exacte",
        ),
        _DAY,
        raw=True,
    ),
    Focus(
        "deadlines or calls for applications",
        _words(
            "deadline*",
            "date limite",
            "fecha limite",
            "prazo",
            "scadenza",
            "frist",
            "next call",
            "next wave",
            "prochaine vague",
            "candidater",
            "postular",
            "candidatar*",
            "bewerb*",
        ),
        None,
    ),
    Focus(
        "rankings or comparisons between the PLPs",
        _words(
            "most successful",
            "which (?:\\w+ ){0,3}(?:is|was) (?:the )?(?:best|better)",
            "is better",
            "was better",
            "the best one",
            "mas exitos[oa]",
            "es mejor",
            "el mejor",
            "plus reussi",
            "est meilleur",
            "le meilleur",
            "piu riuscit[oa]",
            "e migliore",
            "il migliore",
            "erfolgreichste*",
            "ist besser",
            "mais bem sucedid[oa]",
            "e melhor",
            "o melhor",
        ),
        None,
    ),
    Focus(
        "detailed contents of the tools",
        _words(
            "(?:exact|specific|concrete|full|complete|actual) (?:\\w+ ){0,2}"
            "(?:questions|indicators|criteria|items)",
            "(?:indicadores|indicateurs|indicatori|indikatoren|questions|preguntas|perguntas|domande|fragen) "
            "(?:\\w+ ){0,2}(?:concret*|exact*|precis*|specifi*|konkret*|genau*)",
            "(?:lista|liste) complet[ae]",
            "vollstandige liste",
            "first (?:five|three|ten|\\d+)",
            "(?:specific|specifiche|specifiques|especificas|especificas|konkrete) (?:\\w+ ){0,1}"
            "(?:recommendations|raccomandazioni|recommandations|recomendaciones|recomendacoes|empfehlungen)",
        ),
        None,
    ),
    Focus(
        "concrete examples by name",
        _words(
            "concrete example*",
            "specific example*",
            "ejemplo concreto",
            "exemple concret",
            "esempio concreto",
            "exemplo concreto",
            "konkretes beispiel",
            "citez en",
            "nombra uno",
            "name one",
            "give me an example",
            "dame un ejemplo",
            "donnez un exemple",
        ),
        re.compile(r"\bexamples?\b|\be g\b|\bsuch as\b|\bfor instance\b"),
    ),
    Focus(
        "account of a single country's laws or institutions",
        _words(
            rf"(?:{_LAW}) (?:\w+ ){{0,6}}(?:{_COUNTRIES})",
            rf"(?:{_COUNTRIES}) (?:\w+ ){{0,4}}(?:{_LAW})",
            rf"(?:en|in|na|no|im) (?:{_COUNTRIES}) (?:\w+ ){{0,8}}(?:{_REGISTER})",
            rf"(?:{_REGISTER}) (?:\w+ ){{0,8}}(?:en|in|na|no|im) (?:{_COUNTRIES})",
        ),
        None,
    ),
    Focus(
        "weather, recipes or entertainment",
        _words(
            "weather",
            "meteo",
            "wetter",
            "temps fera",
            "tiempo hara",
            "recip*",
            "recette*",
            "receta*",
            "ricetta*",
            "rezept*",
            "netflix",
            "movie*",
            "football",
            "soccer",
            "lottery",
        ),
        None,
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
NUMBERED = "such phase or tool"
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


_COUNTED = re.compile(r"\b(?:how many|combien de|cuant[oa]s|quant[oa]s|quant[ie]|wie viele) (\w+)")
_NUMBERED = re.compile(r"\b(phase|tool) (\d+)\b")  # over canonical terms: "fase 1", "herramienta 3"


def _canonical_text(text: str) -> str:
    """``text`` as the index sees its words (stemmed, synonyms folded), to compare across languages."""
    return " ".join(canonical(stem(word)) for word in fold(text).split())


def _count_missing(folded_question: str, entry: Entry) -> bool | None:
    """For "how many X": whether the entry lacks a number next to X (None: no counted noun found)."""
    found = _COUNTED.search(folded_question)
    if found is None:
        return None
    noun = canonical(stem(found[1]))
    if is_stop_word(noun):  # "how many of the ...": no noun to look for
        return None
    answer = _canonical_text(entry.title + " " + entry.answer)
    near = rf"\b(?:\d+|{'|'.join(_NUMBER_WORDS)}) (?:\w+ ){{0,2}}{re.escape(noun)}\b"
    return re.search(near, answer) is None


def _numbered_missing(question: str, entry: Entry) -> bool:
    """ "Phase 1" or "Tool 7" asked, and the entry speaks of no such phase or tool."""
    asked = set(_NUMBERED.findall(_canonical_text(question)))
    return bool(asked) and not asked <= set(
        _NUMBERED.findall(_canonical_text(entry.title + " " + entry.answer))
    )


def missing_focus(question: str, entry: Entry) -> str | None:
    """The kind of fact the question asks for that ``entry`` cannot give, or None when it can."""
    folded = fold(question)
    if _numbered_missing(question, entry):
        return NUMBERED
    for focus in FOCI:
        currency = focus.name == MONEY and _CURRENCY.search(question)  # "$$" folds to nothing
        if not (currency or focus.asks.search(folded)):
            continue
        if focus.name == COUNTS:
            by_noun = _count_missing(folded, entry)
            if by_noun is not None:
                if by_noun:
                    return COUNTS
                continue
        if focus.missing_from(entry):
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
