"""``medsearch eval`` on run files, on a fake index, and end to end on a real SciFact index."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

import medsearch.retriever
from medsearch.cli import app
from medsearch.eval import evaluate, read_qrels, read_run

TEST_DATA = Path(__file__).resolve().parent / "data"
NFCORPUS_QRELS = TEST_DATA / "eval" / "nfcorpus-test-sample.2-1-0.qrel"

runner = CliRunner()

QRELS_TEXT = "q1 0 a 2\nq1 0 b 1\nq2 0 c 1\nq3 0 d 1\n"
# Baseline: q1 finds a (grade 2) at rank 2, q2 misses c, q3 finds d at rank 1.
RUN_A = "q1 Q0 x 1 3.0 A\nq1 Q0 a 2 2.0 A\nq2 Q0 y 1 1.0 A\nq3 Q0 d 1 5.0 A\n"
# Better: a at rank 1 for q1, c at rank 1 for q2, and q3 as before.
RUN_B = "q1 Q0 a 1 3.0 B\nq1 Q0 x 2 2.0 B\nq2 Q0 c 1 1.0 B\nq3 Q0 d 1 5.0 B\n"


@pytest.fixture()
def files(tmp_path):
    qrels = tmp_path / "test.qrels"
    qrels.write_text(QRELS_TEXT, encoding="utf-8")
    run_a = tmp_path / "a.run"
    run_a.write_text(RUN_A, encoding="utf-8")
    run_b = tmp_path / "b.run"
    run_b.write_text(RUN_B, encoding="utf-8")
    return qrels, run_a, run_b


def invoke(*args: object):
    return runner.invoke(app, ["eval", *(str(arg) for arg in args)])


def table_rows(output: str) -> dict[str, dict[str, str]]:
    """Parse the first table of the output into {run: {column: cell}}."""
    lines = output.strip().split("\n\n")[0].splitlines()
    header = lines[0].split()
    return {cells[0]: dict(zip(header[1:], cells[1:])) for cells in (line.split() for line in lines[1:])}


def test_one_run_table(files):
    qrels, run_a, _ = files
    result = invoke("--run", run_a, "--qrels", qrels, "--metrics", "precision,map", "--k", "1,2")

    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    # precision@1: q1 0, q2 0, q3 1 -> 1/3. map: q1 (1/2)/2 = 0.25, q2 0, q3 1 -> 0.4167.
    assert rows["a.run"] == {
        "precision@1": "0.3333",
        "precision@2": "0.3333",
        "map": "0.4167",
        "queries": "3",
    }
    assert "against" not in result.stdout


def test_two_runs_with_tests_and_outputs(files, tmp_path):
    qrels, run_a, run_b = files
    out = tmp_path / "out" / "results.json"
    per_query = tmp_path / "out" / "per-query.tsv"
    result = invoke(
        "--run", run_a, "--run", run_b, "--qrels", qrels,
        "--metrics", "ndcg@10,recall@1,map", "--out", out, "--per-query", per_query,
        "--permutations", 500, "--seed", 3,
    )

    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert list(rows) == ["a.run", "b.run"]
    assert rows["b.run"]["recall@1"] == "0.8333"  # q1 1/2, q2 1, q3 1 -> 2.5 / 3
    assert "b.run against a.run: paired two-sided tests over 3 queries" in result.stdout
    assert "randomization p" in result.stdout

    summary = json.loads(out.read_text(encoding="utf-8"))
    assert [run["name"] for run in summary["runs"]] == ["a.run", "b.run"]
    assert summary["settings"]["metrics"] == ["ndcg@10", "recall@1", "map"]
    assert summary["settings"]["missing_queries"] == "zero"
    (comparison,) = summary["comparisons"]
    tests = {test["metric"]: test for test in comparison["tests"]}
    # recall@1 of a.run: q1 0, q2 0, q3 1 -> 1/3; b.run 2.5/3; difference 0.5.
    assert tests["recall@1"]["difference"] == pytest.approx(0.5)
    assert 0 < tests["recall@1"]["randomization_p"] <= 1
    assert 0 < tests["map"]["t_test_p"] <= 1

    lines = per_query.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "run\tquery_id\tmetric\tvalue"
    assert len(lines) == 1 + 2 * 3 * 3  # 2 runs x 3 queries x 3 metrics
    assert "b.run\tq2\trecall@1\t1.0" in lines


def test_table_equals_library_means(files):
    qrels, run_a, _ = files
    result = invoke("--run", run_a, "--qrels", qrels)
    assert result.exit_code == 0, result.output

    expected = evaluate(read_run(run_a), read_qrels(qrels))
    row = table_rows(result.stdout)["a.run"]
    assert list(row)[:-1] == list(expected.metrics)
    for metric in expected.metrics:
        assert row[metric] == f"{expected.means[metric]:.4f}", metric


def test_missing_query_warning_and_skip(files, tmp_path):
    qrels, run_a, _ = files
    partial = tmp_path / "partial.run"
    partial.write_text("q3 Q0 d 1 5.0 P\nq7 Q0 d 1 1.0 P\n", encoding="utf-8")

    zero = invoke("--run", partial, "--qrels", qrels, "--metrics", "precision@1")
    assert zero.exit_code == 0, zero.output
    assert "2 of 3 qrels queries are missing from the run" in zero.stderr
    assert "1 of 2 run queries have no qrels" in zero.stderr
    assert table_rows(zero.stdout)["partial.run"]["precision@1"] == "0.3333"

    skip = invoke("--run", partial, "--qrels", qrels, "--metrics", "precision@1", "--missing", "skip")
    assert skip.exit_code == 0, skip.output
    assert table_rows(skip.stdout)["partial.run"] == {"precision@1": "1.0000", "queries": "1"}


def test_malformed_run_names_file_and_line(files, tmp_path):
    qrels, _, _ = files
    bad = tmp_path / "bad.run"
    bad.write_text("q1 Q0 a 1 2.0 T\nq1 Q0 b 2 high T\n", encoding="utf-8")
    result = invoke("--run", bad, "--qrels", qrels)
    assert result.exit_code == 1
    assert f"Error: {bad}:2: score 'high' is not a number" in result.stderr


def test_malformed_qrels_names_file_and_line(files, tmp_path):
    _, run_a, _ = files
    bad = tmp_path / "bad.qrels"
    bad.write_text("q1 0 a 1\nq1 a 1\n", encoding="utf-8")
    result = invoke("--run", run_a, "--qrels", bad)
    assert result.exit_code == 1
    assert f"{bad}:2: expected 4 fields" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k", "10,x"], "cut-off 'x' is not a positive integer"),
        (["--k", "0"], "cut-off '0' is not a positive integer"),
        (["--metrics", "bpref"], "unknown metric 'bpref@1'"),
        (["--queries", "q.tsv"], "--queries only apply with --index"),
        (["--mode", "bm25", "-k", "10"], "--mode, --depth only apply with --index"),
    ],
)
def test_invalid_options(files, args, message):
    qrels, run_a, _ = files
    result = invoke("--run", run_a, "--qrels", qrels, *args)
    assert result.exit_code == 1
    assert message in result.stderr


def test_needs_run_or_index(files, tmp_path):
    qrels, run_a, _ = files
    neither = invoke("--qrels", qrels)
    assert neither.exit_code == 1
    assert "give either --run FILE" in neither.stderr

    both = invoke("--qrels", qrels, "--run", run_a, "--index", tmp_path)
    assert both.exit_code == 1
    assert "give either --run FILE" in both.stderr

    no_queries = invoke("--qrels", qrels, "--index", tmp_path)
    assert no_queries.exit_code == 1
    assert "--index needs --queries" in no_queries.stderr


def test_same_run_names_use_paths(files, tmp_path):
    qrels, run_a, _ = files
    other = tmp_path / "other"
    other.mkdir()
    copy = other / "a.run"
    copy.write_text(RUN_A, encoding="utf-8")
    result = invoke("--run", run_a, "--run", copy, "--qrels", qrels, "--metrics", "map", "--permutations", 100)
    assert result.exit_code == 0, result.output
    assert list(table_rows(result.stdout)) == [str(run_a), str(copy)]


def test_nfcorpus_sample_run(tmp_path):
    qrels = read_qrels(NFCORPUS_QRELS)
    # Each query retrieves its judged documents by grade, then one unjudged document.
    lines = []
    for query_id, judgments in sorted(qrels.items()):
        ranked = sorted(judgments, key=lambda doc_id: (-judgments[doc_id], doc_id))
        for rank, doc_id in enumerate([*ranked, "MED-UNJUDGED"], start=1):
            lines.append(f"{query_id} Q0 {doc_id} {rank} {100 - rank} ideal\n")
    run = tmp_path / "ideal.run"
    run.write_text("".join(lines), encoding="utf-8")

    result = invoke("--run", run, "--qrels", NFCORPUS_QRELS, "--metrics", "ndcg,recall,map", "--k", "10,1000")
    assert result.exit_code == 0, result.output
    # An ideal ranking scores 1 on nDCG at every cut-off, on full recall and on MAP.
    assert table_rows(result.stdout)["ideal.run"] == {
        "ndcg@10": "1.0000",
        "ndcg@1000": "1.0000",
        "recall@10": table_rows(result.stdout)["ideal.run"]["recall@10"],
        "recall@1000": "1.0000",
        "map": "1.0000",
        "queries": "33",
    }


# --- --index with a fake index -----------------------------------------------------------------


@dataclass(frozen=True)
class FakeHit:
    doc_id: str
    score: float
    rank: int


class FakeDocuments:
    doc_ids = ["a", "b", "c", "d", "x", "y"]


class FakeIndex:
    """Ranks a fixed list per mode; 'dense' and 'hybrid' put the relevant documents first."""

    loaded_from: list[tuple[Path, str | None]] = []
    documents = FakeDocuments()

    @classmethod
    def load(cls, path, device=None):
        cls.loaded_from.append((Path(path), device))
        return cls()

    def search_many(self, queries, k, mode, show_progress=False):
        orders = {
            "bm25": ["x", "y", "a", "b", "c", "d"],
            "dense": ["a", "c", "d", "b", "x", "y"],
            "hybrid": ["a", "b", "c", "d", "x", "y"],
        }
        ranked = orders[mode][:k]
        return [
            [FakeHit(doc_id, float(len(ranked) - rank), rank + 1) for rank, doc_id in enumerate(ranked)]
            for _ in queries
        ]


def test_index_mode_with_fake_index(files, tmp_path, monkeypatch):
    qrels, _, _ = files
    monkeypatch.setattr(medsearch.retriever, "Index", FakeIndex)
    FakeIndex.loaded_from.clear()
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\tfirst\nq2\tsecond\nq3\tthird\n", encoding="utf-8")
    run_dir = tmp_path / "runs"

    result = invoke(
        "--index", tmp_path / "idx", "--queries", queries, "--qrels", qrels,
        "--run-dir", run_dir, "-k", 4, "--metrics", "precision@1,recall@4", "--permutations", 200,
    )

    assert result.exit_code == 0, result.output
    assert FakeIndex.loaded_from == [(tmp_path / "idx", None)]
    rows = table_rows(result.stdout)
    assert list(rows) == ["bm25", "dense", "hybrid"]
    # bm25 ranks x, y first: precision@1 is 0 for every query.
    assert rows["bm25"]["precision@1"] == "0.0000"
    # dense ranks a, c, d, b: each query finds its relevant documents in the top 4.
    assert rows["dense"]["recall@4"] == "1.0000"
    assert "dense against bm25" in result.stdout
    assert "hybrid against bm25" in result.stdout
    assert "--depth 4 is below the largest cut-off" not in result.stderr

    written = read_run(run_dir / "dense.run")
    assert written["q1"] == {"a": 4.0, "c": 3.0, "d": 2.0, "b": 1.0}
    assert (run_dir / "dense.run").read_text(encoding="utf-8").split("\n")[0] == "q1 Q0 a 1 4.0 medsearch-dense"


def test_index_mode_one_mode_and_depth_warning(files, tmp_path, monkeypatch):
    qrels, _, _ = files
    monkeypatch.setattr(medsearch.retriever, "Index", FakeIndex)
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\tfirst\nq2\tsecond\nq3\tthird\nq4\tno qrels\n", encoding="utf-8")

    result = invoke(
        "--index", tmp_path, "--queries", queries, "--qrels", qrels,
        "--mode", "hybrid", "--depth", 2, "--k", "1,5", "--metrics", "recall",
    )

    assert result.exit_code == 0, result.output
    assert list(table_rows(result.stdout)) == ["hybrid"]
    assert "--depth 2 is below the largest cut-off 5" in result.stderr
    assert "1 of 4 run queries have no qrels" in result.stderr


# --- end to end on a real index ----------------------------------------------------------------


@pytest.fixture(scope="module")
def scifact_index(tmp_path_factory, encoder) -> Path:
    from medsearch import build_index, read_documents

    path = tmp_path_factory.mktemp("eval-index") / "scifact50"
    build_index(read_documents(TEST_DATA / "scifact-50.jsonl"), path, encoder=encoder)
    return path


def test_index_mode_end_to_end(scifact_index, tmp_path):
    run_dir = tmp_path / "runs"
    out = tmp_path / "results.json"
    result = invoke(
        "--index", scifact_index,
        "--queries", TEST_DATA / "scifact-queries-8.jsonl", "--split", "test",
        "--qrels", TEST_DATA / "scifact-qrels-8.tsv",
        "--depth", 20, "--k", "1,10,20", "--run-dir", run_dir, "--out", out,
        "--permutations", 1000,
    )

    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert list(rows) == ["bm25", "dense", "hybrid"]
    # The 8 queries' relevant abstracts are all in the 50-document corpus, and each query was
    # written from its abstract, so every mode should find most of them in the top 10.
    for mode, row in rows.items():
        assert float(row["recall@10"]) >= 0.5, (mode, row)
        assert row["queries"] == "8"
    assert "not in the corpus" not in result.stderr

    # The written runs reproduce the printed numbers when evaluated from the files.
    qrels = read_qrels(TEST_DATA / "scifact-qrels-8.tsv")
    summary = json.loads(out.read_text(encoding="utf-8"))
    for run in summary["runs"]:
        from_file = evaluate(read_run(run_dir / f"{run['name']}.run"), qrels, ["ndcg@10"])
        assert from_file.means["ndcg@10"] == pytest.approx(run["means"]["ndcg@10"], abs=1e-12)
