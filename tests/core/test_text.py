from peerbot.core.text import fold, normalise, strip_invisible, tokens


def test_fold_accents_case_and_punctuation() -> None:
    assert fold("Économie SOCIALE, et solidaire!") == "economie sociale et solidaire"


def test_zero_width_characters_do_not_split_words() -> None:
    assert strip_invisible("so\u200bcial") == "social"
    assert tokens("so\u200bcial e\u200dconomy") == ["social", "economy"]


def test_stop_words_in_six_languages_are_dropped() -> None:
    assert normalise("What is the RRR project?") == "rrr project"
    assert normalise("Qu'est-ce que l'ESS ?") == "ess"
    assert normalise("¿Qué es el proyecto RRR?") == "proyecto rrr"
    assert normalise("O que é o projeto RRR?") == "projeto rrr"
    assert normalise("Di cosa si occupa il progetto RRR?") == "si occupa progetto rrr"
    assert normalise("Was ist das RRR-Projekt?") == "rrr projekt"


def test_emoji_only_has_no_tokens() -> None:
    assert tokens("🎉🎉🔥") == []
