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


# Words of letters and digits (Greek included) separated by white space and punctuation
# other than hyphens, so that no compound can span the join of two texts.
separated_text = st.text(alphabet="abcXYZ019αβμ .,;:()!?\n\t", max_size=200)


@given(separated_text, separated_text)
def test_tokenize_is_local_to_words(first, second):
    assert TOKENIZER.tokenize(f"{first} {second}") == TOKENIZER.tokenize(first) + TOKENIZER.tokenize(second)


@given(st.text(alphabet=st.characters(), max_size=300))
def test_any_code_point_tokenizes(text):
    # st.characters() includes control characters and lone surrogates, which corpus
    # readers strip but library callers may pass.
    terms = TOKENIZER.tokenize(text)
    assert all(isinstance(term, str) and term for term in terms)


@given(st.text(max_size=300))
def test_terms_are_lower_case(text):
    for term in TOKENIZER.tokenize(text):
        assert term == term.lower()


@given(st.booleans(), st.booleans(), st.frozensets(st.text(alphabet="abc", min_size=1, max_size=3), max_size=5))
def test_config_round_trip_keeps_analysis(stem, split_compounds, stop_words):
    tokenizer = BiomedicalTokenizer(stem=stem, stop_words=stop_words, split_compounds=split_compounds)
    restored = BiomedicalTokenizer.from_config(tokenizer.config())
    text = "Running abc-ab cells ca b IL-6"
    assert restored.tokenize(text) == tokenizer.tokenize(text)
