"""Tests of the reader's pure parts: SQuAD metrics, SQuAD files and splits, sentences, baseline, thresholds."""

from __future__ import annotations

import json
import logging
import math

import pytest

from medsearch.errors import InputFormatError, MedsearchError
from medsearch.reader.answers import snap_to_words
from medsearch.reader.baseline import baseline_answer
from medsearch.reader.evaluate import Prediction, choose_threshold, score_predictions
from medsearch.reader.metrics import best_scores, exact_match, f1_score, normalize_answer
from medsearch.reader.sentences import sentence_around, sentence_spans
from medsearch.reader.squad import (
    QAExample,
    Source,
    load_source,
    parse_source,
    read_squad,
    split_by_context,
)
from medsearch.reader.windows import check_window_sizes


def test_normalize_answer_squad_rules():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("an apple, a pear and the fig") == "apple pear and fig"
    assert normalize_answer("  Théâtre  ") == "théâtre"


def test_exact_match_and_f1_worked_examples():
    assert exact_match("the Metformin.", "metformin") == 1.0
    assert exact_match("metformin 500 mg", "metformin") == 0.0
    # prediction tokens {metformin, 500, mg}, gold {metformin}: precision 1/3, recall 1, F1 = 0.5
    assert f1_score("metformin 500 mg", "metformin") == pytest.approx(0.5)
    # "twice daily" vs "daily dose": overlap 1, precision 1/2, recall 1/2, F1 = 0.5
    assert f1_score("twice daily", "daily dose") == pytest.approx(0.5)
    assert f1_score("aspirin", "ibuprofen") == 0.0
    assert f1_score("", "ibuprofen") == 0.0


def test_best_scores_takes_max_over_golds():
    assert best_scores("insulin", ["metformin", "insulin glargine"]) == (0.0, pytest.approx(2 / 3))
    assert best_scores("", []) == (1.0, 1.0)
    assert best_scores("something", []) == (0.0, 0.0)


def _squad_file(tmp_path, paragraphs):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"version": "test", "data": [{"title": "t", "paragraphs": paragraphs}]}))
    return path


def test_read_squad_checks_offsets(tmp_path, caplog):
    context = "Statins lower LDL. Café au lait spots occur in NF1."
    path = _squad_file(
        tmp_path,
        [
            {
                "context": context,
                "qas": [
                    {"id": "q1", "question": "What do statins lower?", "answers": [{"text": "LDL", "answer_start": 14}]},
                    {"id": "q2", "question": "Bad offset?", "answers": [{"text": "LDL", "answer_start": 3}]},
                    {"id": "q3", "question": "Spots?", "answers": [{"text": "Café au lait", "answer_start": 19}]},
                    {"id": "q4", "question": "Unanswerable?", "answers": [], "is_impossible": True},
                ],
            }
        ],
    )

    with caplog.at_level(logging.WARNING):
        examples = read_squad(path)

    assert [example.example_id for example in examples] == ["q1", "q3", "q4"]
    assert examples[1].answers == (("Café au lait", 19),)
    assert examples[2].is_impossible and examples[2].answers == ()
    assert "dropped 1 answers" in caplog.text
    assert "1 questions left without an answer" in caplog.text


def test_read_squad_rejects_other_files(tmp_path):
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(InputFormatError, match="not a SQuAD file"):
        read_squad(tmp_path / "list.json")
    with pytest.raises(InputFormatError, match="not a JSON file"):
        read_squad(tmp_path / "broken.json")
    with pytest.raises(InputFormatError, match="file not found"):
        read_squad(tmp_path / "missing.json")


def _examples(contexts: int, per_context: int) -> list[QAExample]:
    return [
        QAExample(f"q{c}-{q}", "question?", f"context {c}", f"c{c:03d}", (("context", 0),))
        for c in range(contexts)
        for q in range(per_context)
    ]


def test_split_by_context_is_disjoint_and_stable():
    examples = _examples(contexts=50, per_context=3)

    parts = {split: split_by_context(examples, split) for split in ("train", "dev", "test")}

    ids = {split: set(context_ids) for split, (_, context_ids) in parts.items()}
    assert (len(ids["train"]), len(ids["dev"]), len(ids["test"])) == (40, 5, 5)
    assert ids["train"].isdisjoint(ids["test"])
    assert ids["dev"].isdisjoint(ids["test"])
    assert ids["train"].isdisjoint(ids["dev"])
    assert ids["train"] | ids["dev"] | ids["test"] == {example.context_id for example in examples}
    assert split_by_context(list(reversed(examples)), "test")[1] == parts["test"][1]
    assert all(len(kept) == 3 * len(ids[split]) for split, (kept, _) in parts.items())


def test_parse_source_options():
    assert parse_source("data/x.json") == Source(path=parse_source("data/x.json").path)
    source = parse_source("data/x.json@questions=20,split=test,repeat=2")
    assert (source.questions, source.split, source.repeat) == (20, "test", 2)
    assert parse_source(source.describe()) == source
    for bad in ("x.json@split=val", "x.json@questions=0", "x.json@size=3", "x.json@repeat=two"):
        with pytest.raises(MedsearchError):
            parse_source(bad)


def test_load_source_records_split_and_subsample(tmp_path):
    paragraphs = [
        {"context": f"Context number {i}.", "qas": [{"id": f"q{i}", "question": "Which?", "answers": [{"text": "Context", "answer_start": 0}]}]}
        for i in range(30)
    ]
    path = _squad_file(tmp_path, paragraphs)

    examples, record = load_source(parse_source(f"{path}@split=train,questions=5"), seed=1)
    again, _ = load_source(parse_source(f"{path}@split=train,questions=5"), seed=1)

    assert len(examples) == 5
    assert examples == again
    assert record["questions"] == 5
    assert record["split"] == "train"
    assert len(record["split_context_ids"]) == 24
    assert len(record["sha256"]) == 64


def test_sentence_spans_and_around():
    text = "Title here\n\nWe gave 2.5 mg daily. Pain fell (p<0.01). Results held."

    spans = [text[start:end] for start, end in sentence_spans(text)]
    start = text.index("Pain")

    assert spans == ["Title here", "We gave 2.5 mg daily.", "Pain fell (p<0.01).", "Results held."]
    assert text[slice(*sentence_around(text, start, start + 4))] == "Pain fell (p<0.01)."
    crossing = sentence_around(text, text.index("daily"), start + 4)
    assert text[slice(*crossing)] == "We gave 2.5 mg daily. Pain fell (p<0.01)."


def test_snap_to_words():
    text = "Metformin lowers glucose."
    assert snap_to_words(text, 0, 7) == (0, 9)
    assert snap_to_words(text, 12, 16) == (10, 16)
    assert snap_to_words(text, 17, 25) == (17, 25)


def test_baseline_picks_sentence_with_most_question_words():
    context = "Aspirin is cheap. Metformin lowers blood glucose in diabetes. Exercise helps."

    start, end = baseline_answer("What lowers blood glucose?", context)

    assert context[start:end] == "Metformin lowers blood glucose in diabetes."


def test_choose_threshold_maximises_f1():
    examples = [
        QAExample("a", "q", "c", "c", (("yes", 0),)),
        QAExample("b", "q", "c", "c", (("no", 0),)),
        QAExample("c", "q", "c", "c", (), is_impossible=True),
        QAExample("d", "q", "c", "c", (), is_impossible=True),
    ]
    predictions = [
        Prediction("a", "yes", 5.0),  # right, confident
        Prediction("b", "wrong", 1.0),  # wrong either way
        Prediction("c", "spurious", 2.0),  # unanswerable: better left out
        Prediction("d", "spurious", -1.0),
    ]

    threshold, f1 = choose_threshold(examples, predictions)

    # threshold 5.0 answers only "a": F1 = (1 + 0 + 1 + 1) / 4 = 75%; any lower one answers "c" too.
    assert threshold == 5.0
    assert f1 == pytest.approx(75.0)
    assert score_predictions(examples, predictions, threshold=threshold) == (pytest.approx(75.0), pytest.approx(75.0))
    assert score_predictions(examples, predictions, threshold=-math.inf) == (25.0, 25.0)


def test_window_sizes_checked():
    check_window_sizes(256, 96)
    with pytest.raises(MedsearchError, match="stride"):
        check_window_sizes(64, 45)
    with pytest.raises(MedsearchError, match="at least 32"):
        check_window_sizes(16, 2)
