"""Text normalisation shared by the index and the queries, so both sides are folded the same way."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Zero-width and direction marks that users paste from other apps; they split words invisibly.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u00ad"), None)
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Mentions, channel links and custom emoji carry ids, not meaning: <@1>, <@!1>, <@&1>, <#1>, <:name:1>.
_CHAT_MARKUP = re.compile(r"<(?:@[!&]?|#)\d+>|<a?:\w+:\d+>|@(?:everyone|here)\b")

# Small English, French, Spanish, Portuguese, Italian and German stop-word lists: question words
# carry no topic, and members ask in all of these. Kept short on purpose: "social", "economy" and the
# like stay searchable. Hand-written rather than a library's lists, which run to hundreds of words per
# language and would drop words that are topics here.
STOP_WORDS: frozenset[str] = frozenset(
    """
    a about an and any are as at be been being but by can could did do does doing for from had has
    have how i if in into is it its me my of on or our please should so tell than that the their them
    then there these they this those to us was we were what when where which who whom why will with
    would you your yours know explain describe give show list mean means meaning
    le la les l un une des du de d et ou est sont que qu qui quoi quel quelle quels quelles comment
    pourquoi au aux en dans pour par sur avec ce cette ces se sa son ses leur leurs nous vous il elle
    ils elles je j ne pas c s est-ce
    el los las lo una unos unas del al y o es son que cual cuales como por para con se su sus en
    sobre qué cómo cuál cuáles soy esto esta este estos estas más mas yo tu mi mis nuestro nuestra
    nos hay fue
    a y ont été être fait ça ca mon ma mes notre nos votre vos on
    o os as um uma uns umas do da dos das no na nas com qual quais e seu sua seus suas ele ela eles
    elas eu você vocês tem foi são ao aos pelo pela pelos pelas isso isto esse essa algo minha meu
    il lo gli le uno di della dei degli delle dal dalla nel nella sul sulla per che chi cosa come
    quale quali suo loro io noi voi ha hanno sono è alla ai agli questo questa quello quella ci
    der die das den dem des ein eine einen einem einer und oder ist sind war waren wer wie wo welche
    welcher welches warum für fur mit von zu zum zur im auf aus bei nach über uber ich wir sie es er
    hat haben wird werden nicht auch
    """.split()
)


def strip_invisible(text: str) -> str:
    """Remove zero-width characters and soft hyphens."""
    return text.translate(_INVISIBLE)


def has_letter_or_digit(text: str) -> bool:
    """Whether a name says anything once invisible marks are gone (a title of joiners or "!!!" does not)."""
    return any(ch.isalnum() for ch in strip_invisible(text))


def strip_chat_markup(text: str) -> str:
    """Remove mentions and custom emoji, which say nothing about what is asked."""
    return _CHAT_MARKUP.sub(" ", text)


def fold(text: str) -> str:
    """Lower-case, fold accents (é -> e) and turn punctuation into spaces."""
    lowered = strip_invisible(text).casefold()
    if not lowered.isascii():  # most of the knowledge base is plain ASCII: skip the per-character pass
        decomposed = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", lowered).strip()


_FOLDED_STOP_WORDS = frozenset(fold(word) for word in STOP_WORDS)


def is_stop_word(word: str) -> bool:
    """Whether a folded word carries no topic ("the", "de", "welche")."""
    return word in _FOLDED_STOP_WORDS


def stem(word: str) -> str:
    """A light plural fold: "cities"/"city", "SDGs"/"SDG", "lecciones"/"leccion", "licoes"/"licao"."""
    if len(word) > 6 and word.endswith("iones"):  # Spanish: relaciones, administraciones
        return word[:-2]
    if len(word) > 5 and word.endswith("coes"):  # Portuguese (folded -ções): licoes, organizacoes
        return word[:-3] + "ao"
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """Fold ``text`` and drop stop words: the form both the index and the queries are compared in."""
    return " ".join(word for word in fold(text).split() if word not in _FOLDED_STOP_WORDS)


def tokens(text: str) -> list[str]:
    """The content words of ``text`` after normalisation."""
    return normalise(text).split()
