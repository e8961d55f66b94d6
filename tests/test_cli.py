"""The index and query commands, run in-process with typer's CliRunner."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medsearch.cli import app

TEST_DATA = Path(__file__).resolve().parent / "data"
CORPUS = TEST_DATA / "scifact-50.jsonl"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "idx"
    result = invoke("index", CORPUS, "--out", path, "--no-progress")
    assert result.exit_code == 0, result.output
    return path


def test_index_prints_summary(index_dir):
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["counts"]["documents"] == 50
    assert manifest["inputs"][0]["path"].endswith("scifact-50.jsonl")
    assert len(manifest["inputs"][0]["sha256"]) == 64
    assert manifest["inputs"][0]["documents"] == 50


def test_query_text_output(index_dir):
    result = invoke("query", "DNA methylation in blood mononuclear cells", "--index", index_dir, "-k", "3")
    assert result.exit_code == 0, result.output
    assert "1. id 18670" in result.output
    assert "**methylation**" in result.output.lower() or "**methylom" in result.output.lower()


def test_query_json_output(index_dir):
    result = invoke("query", "ADAR1 Dicer microRNA", "--index", index_dir, "-k", "4", "--json", "--mode", "bm25")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["mode"] == "bm25"
    assert len(document["hits"]) == 4
    assert document["hits"][0]["rank"] == 1
    assert document["hits"][0]["doc_id"] in {"5953485", "7029990", "5702790"}
    assert document["hits"][0]["dense_rank"] is None


def test_queries_file_writes_trec_run(index_dir, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tfolic acid and homocysteine\nq2\tprion disease\n")
    run = tmp_path / "run.trec"
    result = invoke("query", "--queries", queries, "--run-out", run, "--index", index_dir, "-k", "5")
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in run.read_text().splitlines()]
    assert len(lines) == 10
    assert lines[0][:2] == ["q1", "Q0"]
    assert lines[0][3] == "1"
    assert lines[0][5] == "medsearch-hybrid"
    assert {line[0] for line in lines} == {"q1", "q2"}


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1
    message = result.output.strip()
    assert message.startswith("Error: ")
    assert "\n" not in message
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment in message


def test_query_missing_index(tmp_path):
    result = invoke("query", "insulin", "--index", tmp_path / "nowhere")
    assert_one_line_error(result, "no index at", "nowhere")


def test_query_empty_text(index_dir):
    assert_one_line_error(invoke("query", "   ", "--index", index_dir), "query 1 is empty")


def test_index_missing_path(tmp_path):
    result = invoke("index", tmp_path / "absent.jsonl", "--out", tmp_path / "idx")
    assert_one_line_error(result, "absent.jsonl", "not found")
    assert not (tmp_path / "idx").exists()


def test_index_empty_file(tmp_path):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    result = invoke("index", empty, "--out", tmp_path / "idx")
    assert_one_line_error(result, "empty.xml")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty.xml"]


def test_index_truncated_gzip(tmp_path):
    sample = (TEST_DATA / "pubmed" / "pubmed21n1298-sample.xml.gz").read_bytes()
    truncated = tmp_path / "cut.xml.gz"
    truncated.write_bytes(sample[: len(sample) // 2])
    result = invoke("index", truncated, "--out", tmp_path / "idx")
    assert_one_line_error(result, "cut.xml.gz")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.xml.gz"]


def test_index_bad_json_line(tmp_path):
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text('{"_id": "1", "title": "ok", "text": "fine"}\n{not json}\n')
    result = invoke("index", corpus, "--out", tmp_path / "idx")
    assert_one_line_error(result, "bad.jsonl:2")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.jsonl"]


def test_index_unknown_extension(tmp_path):
    corpus = tmp_path / "corpus.csv"
    corpus.write_text("id,text\n1,hello\n")
    assert_one_line_error(invoke("index", corpus, "--out", tmp_path / "idx"), "corpus.csv")


def test_failed_rebuild_keeps_old_index(index_dir, tmp_path):
    corpus = tmp_path / "bad.jsonl.gz"
    with gzip.open(corpus, "wt") as handle:
        handle.write('{"_id": "1", "title": "t"}\n[1, 2]\n')
    before = (index_dir / "manifest.json").read_text()
    result = invoke("index", corpus, "--out", index_dir, "--overwrite")
    assert result.exit_code == 1
    assert (index_dir / "manifest.json").read_text() == before


def test_help_explains_options():
    result = invoke("query", "--help")
    assert result.exit_code == 0
    for option in ("--index", "--mode", "--json", "--queries", "--run-out"):
        assert option in result.output
