from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from medsearch.indexer.tokenizer import BiomedicalTokenizer

TOKENIZER = BiomedicalTokenizer()


def test_compounds_kept_whole_and_split():
    terms = TOKENIZER.tokenize("COVID-19 raises IL-6 and TNF-α")
    assert terms[:3] == ["covid-19", "covid", "19"]
    assert "il-6" in terms
    assert "il" in terms
    assert "6" in terms
    assert "tnf-α" in terms
    assert "tnf" in terms
    assert "α" in terms


def test_stop_words_dropped_and_words_stemmed():
    assert TOKENIZER.tokenize("The patients were treated with statins") == ["patient", "were", "treat", "statin"]


def test_nfkc_folds_micro_sign_and_lowercases():
    # U+00B5 MICRO SIGN becomes U+03BC GREEK SMALL LETTER MU under NFKC.
    assert TOKENIZER.tokenize("5 \u00b5g") == ["5", "\u03bcg"]
    assert TOKENIZER.tokenize("ＣＯＶＩＤ") == ["covid"]


def test_en_dash_compound_normalised_to_hyphen():
    assert TOKENIZER.tokenize("IL‐6 and IL–6")[:1] == ["il-6"]
    assert TOKENIZER.tokenize("IL–6").count("il-6") == 1


def test_greek_letters_are_terms():
    assert TOKENIZER.tokenize("β blockers") == ["β", "blocker"]


def test_query_of_stop_words_gives_no_terms():
    assert TOKENIZER.tokenize("the and of to") == []


def test_punctuation_and_markup_ignored():
    assert TOKENIZER.tokenize("<b>insulin</b>; DROP TABLE") == ["b", "insulin", "b", "drop", "tabl"]


def test_non_latin_scripts_kept():
    assert TOKENIZER.tokenize("肺癌 治疗") == ["肺癌", "治疗"]


def test_config_round_trip():
    tokenizer = BiomedicalTokenizer(stem=False, split_compounds=False)
    restored = BiomedicalTokenizer.from_config(tokenizer.config())
    assert restored.tokenize("IL-6 treated") == ["il-6", "treated"]


@given(st.text(max_size=300))
def test_tokens_never_empty_or_spaced(text):
    for term in TOKENIZER.tokenize(text):
        assert term
        assert not any(character.isspace() for character in term)


@given(st.text(max_size=300))
def test_tokenize_is_deterministic(text):
    assert TOKENIZER.tokenize(text) == TOKENIZER.tokenize(text)
