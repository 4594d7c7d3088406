"""The field's words in six languages meet the words the entries use, and no word means two things."""

from __future__ import annotations

import pytest

from peerbot.core.library import KnowledgeLibrary
from peerbot.core.retrieval import _terms
from peerbot.core.synonyms import _COMPOUNDS, _GROUPS


def test_no_variant_belongs_to_two_groups_and_no_group_word_is_another_groups_variant() -> None:
    owner: dict[str, str] = {}
    for group, variants in _GROUPS.items():
        for variant in variants:
            assert owner.setdefault(variant, group) == group, (variant, owner[variant], group)
    assert not set(_GROUPS) & {v for g, vs in _GROUPS.items() for v in vs if v != g}
    assert not set(_COMPOUNDS) & set(owner)


def test_a_compound_gives_both_words() -> None:
    assert _terms("Wirkungsmessung") == ["impact", "measurement"]
    assert _terms("os ODS") == ["sdg"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Wer finanziert das Social-Value-Projekt?", "social-value-overview"),
        ("¿Qué relaciones quieren construir las administraciones de las ciudades con la ESS?", None),
        ("Quali sono i pilastri delle lezioni di SILK?", "silk-lessons-overview"),
        ("Was zeigt das Flussdiagramm von SILK?", "silk-tool-1-flow-chart"),  # a compound
        ("Qu'est-ce que le plaidoyer dans le policy brief de SILK ?", "silk-tool-6-policy-brief"),
    ],
)
def test_questions_in_other_languages_find_the_entry(
    bundled_library: KnowledgeLibrary, question: str, expected: str | None
) -> None:
    found = bundled_library.index.search(question)
    assert found.best is not None
    if expected is not None:
        assert found.best.entry.id == expected, [m.entry.id for m in found.matches]
    else:
        assert found.best.entry.consortium == "UpSocial / RRR", found.best.entry.id
