"""Query and qrels readers: BEIR and TREC layouts, splits, gzip and malformed lines."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pytest

from medsearch.errors import InputFormatError
from medsearch.eval import read_qrels, read_queries

DATA = Path(__file__).resolve().parent / "data" / "eval"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SCIFACT = SHARED_DATA / "scifact"
NFCORPUS = SHARED_DATA / "nfcorpus"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- queries ---------------------------------------------------------------------------------


def test_beir_queries_sample():
    queries = read_queries(DATA / "scifact-queries-sample.jsonl")
    assert len(queries) == 10
    assert queries["1"] == "0-dimensional biomaterials show inductive properties."


def test_beir_queries_split(caplog):
    caplog.set_level(logging.INFO, logger="medsearch.eval")
    test = read_queries(DATA / "scifact-queries-sample.jsonl", split="test")
    train = read_queries(DATA / "scifact-queries-sample.jsonl", split="train")
    assert sorted(test, key=int) == ["1", "3", "5", "13", "36", "42"]
    assert len(train) == 4
    assert "Kept 6 of 10 queries with split 'test'" in caplog.text


def test_beir_queries_unknown_split():
    with pytest.raises(InputFormatError, match=r"no query has split 'dev'.*\['test', 'train'\]"):
        read_queries(DATA / "scifact-queries-sample.jsonl", split="dev")


def test_beir_split_without_metadata(tmp_path):
    path = write(
        tmp_path / "q.jsonl",
        '{"_id": "1", "text": "a", "metadata": {"split": "test"}}\n{"_id": "2", "text": "b"}\n',
    )
    with pytest.raises(InputFormatError, match="has no 'metadata.split'") as caught:
        read_queries(path, split="test")
    assert caught.value.line == 2
    assert read_queries(path) == {"1": "a", "2": "b"}


def test_beir_queries_gzip_and_int_ids(tmp_path):
    path = tmp_path / "q.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"_id": 7, "text": " statins "}) + "\n")
    assert read_queries(path) == {"7": "statins"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"_id": "1", "text": "a"}\n{"_id": "2", "text": \n', 2, "invalid JSON"),
        ('["1", "a"]\n', 1, "expected a JSON object"),
        ('{"text": "a"}\n', 1, "'_id' must be a non-empty string"),
        ('{"_id": "1", "text": null}\n', 1, "'text' must be a string"),
        ('{"_id": "1", "text": "a"}\n{"_id": "1", "text": "b"}\n', 2, "repeats"),
        ('{"_id": "1", "text": "   "}\n', 1, "empty text"),
    ],
)
def test_beir_queries_reject(tmp_path, text, line, message):
    path = write(tmp_path / "q.jsonl", text)
    with pytest.raises(InputFormatError, match=message) as caught:
        read_queries(path)
    assert caught.value.line == line


def test_tsv_queries_nfcorpus_sample():
    queries = read_queries(DATA / "nfcorpus-test-sample.titles.queries")
    assert len(queries) == 33
    assert all(query_id.startswith("PLAIN-") for query_id in queries)


def test_tsv_queries_keep_tabs_in_text(tmp_path):
    path = write(tmp_path / "q.tsv", "q1\tvitamin d\tsupplements\r\n\nq2\tzinc\n")
    assert read_queries(path) == {"q1": "vitamin d\tsupplements", "q2": "zinc"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("q1\tfine\nq2 no tab here\n", 2, "has no tab"),
        ("q1\tfine\nq1\tagain\n", 2, r"repeats \(first on line 1\)"),
        ("q1\t \n", 1, "empty text"),
    ],
)
def test_tsv_queries_reject(tmp_path, text, line, message):
    path = write(tmp_path / "q.queries", text)
    with pytest.raises(InputFormatError, match=message) as caught:
        read_queries(path)
    assert caught.value.line == line


def test_tsv_queries_reject_split(tmp_path):
    path = write(tmp_path / "q.tsv", "q1\ta\n")
    with pytest.raises(InputFormatError, match="only BEIR .jsonl query files carry split"):
        read_queries(path, split="test")


def test_queries_empty_file(tmp_path):
    with pytest.raises(InputFormatError, match="contains no queries"):
        read_queries(write(tmp_path / "q.tsv", "\n"))


# --- qrels -----------------------------------------------------------------------------------


def test_beir_qrels_sample():
    qrels = read_qrels(DATA / "scifact-test-qrels-sample.tsv")
    assert qrels["36"] == {"5152028": 1, "11705328": 1}
    assert len(qrels) == 6


def test_trec_qrels_sample():
    qrels = read_qrels(DATA / "nfcorpus-test-sample.2-1-0.qrel")
    assert len(qrels) == 33
    assert sum(len(judgments) for judgments in qrels.values()) == 843


def test_trec_qrels_grades_and_gzip(tmp_path):
    path = tmp_path / "q.qrel.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("q1 0 d1 2\nq1 0 d2 0\n\nq2 Q0 d1 -1\n")
    assert read_qrels(path) == {"q1": {"d1": 2, "d2": 0}, "q2": {"d1": -1}}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("q1 0 d1 1\nq1 0 d2\n", 2, "expected 4 fields"),
        ("q1\td1\t1\n", 1, "must start with the header"),
        ("query-id\tcorpus-id\tscore\nq1\td1\n", 2, "expected 3 fields"),
        ("query-id\tcorpus-id\tscore\nq1\td1\t1\tx\n", 2, "expected 3 fields"),
        ("q1 0 d1 1.5\n", 1, "relevance '1.5' is not an integer"),
        ("q1 0 d1 1\nq1 0 d1 1\n", 2, r"judged twice .*first on line 1"),
    ],
)
def test_qrels_reject(tmp_path, text, line, message):
    path = write(tmp_path / "bad.qrels", text)
    with pytest.raises(InputFormatError, match=message) as caught:
        read_qrels(path)
    assert caught.value.line == line
    assert f"{path}:{line}:" in str(caught.value)


def test_qrels_header_only(tmp_path):
    with pytest.raises(InputFormatError, match="no relevance judgments"):
        read_qrels(write(tmp_path / "q.tsv", "query-id\tcorpus-id\tscore\n"))


def test_qrels_missing_file(tmp_path):
    with pytest.raises(InputFormatError, match="file not found"):
        read_qrels(tmp_path / "absent.tsv")


# --- the real collections --------------------------------------------------------------------

needs_scifact = pytest.mark.skipif(not SCIFACT.is_dir(), reason=f"{SCIFACT} is absent")
needs_nfcorpus = pytest.mark.skipif(not NFCORPUS.is_dir(), reason=f"{NFCORPUS} is absent")


@pytest.mark.shared_data
@needs_scifact
def test_scifact_full_files():
    assert len(read_queries(SCIFACT / "queries.jsonl")) == 1109
    assert len(read_queries(SCIFACT / "queries.jsonl", split="train")) == 809
    test_queries = read_queries(SCIFACT / "queries.jsonl", split="test")
    assert len(test_queries) == 300

    qrels = read_qrels(SCIFACT / "qrels" / "test.tsv")
    assert sum(len(judgments) for judgments in qrels.values()) == 339
    assert set(qrels) == set(test_queries)


@pytest.mark.shared_data
@needs_nfcorpus
def test_nfcorpus_full_files():
    queries = read_queries(NFCORPUS / "test.titles.queries")
    assert len(queries) == 325
    qrels = read_qrels(NFCORPUS / "test.2-1-0.qrel")
    assert sum(len(judgments) for judgments in qrels.values()) == 12_334
    assert set(qrels) <= set(queries)
