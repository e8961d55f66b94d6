from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medsearch.indexer.passages import split_passages, split_sentences


def count_words(text: str) -> int:
    return len(text.split())


def sentences_of(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def test_sentences_split_at_terminal_punctuation():
    text = "Aspirin lowers risk. Does it help? Yes! 12 trials agreed."
    assert sentences_of(text) == ["Aspirin lowers risk.", "Does it help?", "Yes!", "12 trials agreed."]


def test_sentences_not_split_at_abbreviations_or_decimals():
    text = "We used e.g. mice as in Smith et al. in Fig. 2 with 3.5 mg. J. Smith agreed."
    assert sentences_of(text) == ["We used e.g. mice as in Smith et al. in Fig. 2 with 3.5 mg.", "J. Smith agreed."]


def test_structured_abstract_labels_stay_with_their_sentence():
    text = "BACKGROUND: Asthma is common. METHODS: We enrolled 50 children."
    assert sentences_of(text) == ["BACKGROUND: Asthma is common.", "METHODS: We enrolled 50 children."]


def test_empty_text_has_no_sentences():
    assert split_sentences("") == []
    assert split_sentences("   \n ") == []


def test_short_abstract_is_one_passage_with_title():
    passages = split_passages("Title words", "One. Two.", max_tokens=64, count_tokens=count_words)
    assert passages == ["Title words\nOne. Two."]


def test_long_abstract_split_with_overlap():
    abstract = "Aa bb cc. Dd ee ff. Gg hh ii. Jj kk ll."
    # budget = 12 - 2 special tokens - (1 title word + 1 separator) = 8 words: two sentences.
    passages = split_passages("T", abstract, max_tokens=12, count_tokens=count_words, overlap_sentences=1)
    assert passages == [
        "T\nAa bb cc. Dd ee ff.",
        "T\nDd ee ff. Gg hh ii.",
        "T\nGg hh ii. Jj kk ll.",
    ]


def test_no_overlap_gives_disjoint_passages():
    abstract = "Aa bb cc. Dd ee ff. Gg hh ii. Jj kk ll."
    passages = split_passages("T", abstract, max_tokens=12, count_tokens=count_words, overlap_sentences=0)
    assert passages == ["T\nAa bb cc. Dd ee ff.", "T\nGg hh ii. Jj kk ll."]


def test_overlong_sentence_cut_at_words():
    abstract = " ".join(f"w{i}" for i in range(30)) + "."
    passages = split_passages("", abstract, max_tokens=12, count_tokens=count_words)
    assert [count_words(p) for p in passages] == [10, 10, 10]
    assert " ".join(passages) == abstract


def test_title_only_document():
    assert split_passages("Only a title", "", max_tokens=64, count_tokens=count_words) == ["Only a title"]


def test_real_tokenizer_budget_respected(encoder):
    abstract = " ".join(["Interleukin-6 signalling drives the acute phase response in hepatocytes."] * 60)
    passages = split_passages(
        "IL-6 and inflammation", abstract, max_tokens=encoder.max_seq_length, count_tokens=encoder.count_tokens
    )
    assert len(passages) > 1
    for passage in passages:
        assert encoder.count_tokens(passage) + 2 <= encoder.max_seq_length
        assert passage.startswith("IL-6 and inflammation\n")


words = st.text(alphabet="abcdefgh", min_size=1, max_size=6)
sentence = st.lists(words, min_size=1, max_size=12).map(lambda ws: " ".join(ws).capitalize() + ".")


@settings(max_examples=200, deadline=None)
@given(
    sentences=st.lists(sentence, min_size=0, max_size=15),
    max_tokens=st.integers(min_value=16, max_value=40),
    overlap=st.integers(min_value=0, max_value=3),
)
def test_passages_cover_every_word_within_budget(sentences, max_tokens, overlap):
    abstract = " ".join(sentences)
    passages = split_passages("T", abstract, max_tokens=max_tokens, count_tokens=count_words, overlap_sentences=overlap)

    assert passages
    for passage in passages:
        assert passage.startswith("T")
        assert count_words(passage) + 2 <= max_tokens
    bodies = " ".join(passage.split("\n", 1)[1] for passage in passages if "\n" in passage)
    assert set(abstract.split()) <= set(bodies.split())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_sentence_spans_ordered_trimmed_and_complete(text):
    spans = split_sentences(text)

    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace()
        assert not text[end - 1].isspace()
        previous_end = end
    # Only white space lies outside the spans.
    assert "".join(text.split()) == "".join("".join(text[start:end].split()) for start, end in spans)


@settings(max_examples=200, deadline=None)
@given(sentences=st.lists(sentence, min_size=1, max_size=15), max_tokens=st.integers(min_value=16, max_value=40))
def test_passages_without_overlap_partition_the_words(sentences, max_tokens):
    abstract = " ".join(sentences)
    passages = split_passages("", abstract, max_tokens=max_tokens, count_tokens=count_words, overlap_sentences=0)

    assert " ".join(passages).split() == abstract.split()


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(max_size=60),
    abstract=st.text(alphabet=st.characters(), max_size=400),
    overlap=st.integers(min_value=0, max_value=3),
)
def test_passages_of_any_text_fit_the_budget(title, abstract, overlap):
    passages = split_passages(title, abstract, max_tokens=24, count_tokens=count_words, overlap_sentences=overlap)

    assert passages
    for passage in passages:
        assert count_words(passage) + 2 <= 24
