"""TREC run files: writing, reading back, and the errors for malformed lines."""

from __future__ import annotations

import gzip
import logging

import pytest

from medsearch.errors import InputFormatError, MedsearchError
from medsearch.eval import read_run, write_run


def test_write_run_lines(tmp_path):
    path = tmp_path / "a.run"
    results = {
        "q1": [("d3", 2.5), ("d1", 1.0), ("d2", 1.0)],
        "q2": [("d9", -0.125)],
    }
    assert write_run(path, results, tag="bm25") == 4
    assert path.read_text(encoding="utf-8").splitlines() == [
        "q1 Q0 d3 1 2.5 bm25",
        "q1 Q0 d1 2 1.0 bm25",
        "q1 Q0 d2 3 1.0 bm25",
        "q2 Q0 d9 1 -0.125 bm25",
    ]


def test_round_trip_keeps_exact_scores(tmp_path):
    path = tmp_path / "a.run.gz"
    scores = [0.1 + 0.2, 1 / 3, 12.345678901234567, 1e-300]
    results = {"q": [(f"d{index}", score) for index, score in enumerate(scores)]}
    write_run(path, results, tag="t")

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        assert handle.readline().startswith("q Q0 d0 1 ")
    run = read_run(path)
    assert run == {"q": {f"d{index}": score for index, score in enumerate(scores)}}


def test_empty_result_list_warns(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="medsearch.eval")
    path = tmp_path / "a.run"
    write_run(path, {"q1": [("d1", 1.0)], "q2": []}, tag="t")
    assert "1 of 2 queries have no results" in caplog.text
    assert read_run(path) == {"q1": {"d1": 1.0}}


@pytest.mark.parametrize(
    ("results", "tag", "message"),
    [
        ({"q 1": [("d1", 1.0)]}, "t", "query id 'q 1'"),
        ({"q1": [("d\t1", 1.0)]}, "t", "doc id for query 'q1'"),
        ({"q1": [("", 1.0)]}, "t", "doc id for query 'q1'"),
        ({"q1": [("d1", 1.0)]}, "my run", "run tag 'my run'"),
        ({"q1": [("d1", float("nan"))]}, "t", "not finite"),
        ({"q1": [("d1", 2.0), ("d1", 1.0)]}, "t", "appears twice"),
    ],
)
def test_write_run_rejects(tmp_path, results, tag, message):
    path = tmp_path / "a.run"
    with pytest.raises(MedsearchError, match=message):
        write_run(path, results, tag=tag)
    assert not path.exists()


def test_read_run_any_whitespace_and_blank_lines(tmp_path):
    path = tmp_path / "a.run"
    path.write_text("q1\tQ0\td1\t1\t3.5\tx\n\n  q1 0 d2 2 -1e2 x  \r\n", encoding="utf-8")
    assert read_run(path) == {"q1": {"d1": 3.5, "d2": -100.0}}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("q1 Q0 d1 1 1.0\n", 1, "expected 6 fields"),
        ("q1 Q0 d1 1 1.0 t\nq1 Q0 d2 1 1.0 t extra\n", 2, "found 7"),
        ("q1 Q0 d1 one 1.0 t\n", 1, "rank 'one' is not an integer"),
        ("q1 Q0 d1 1 high t\n", 1, "score 'high' is not a number"),
        ("q1 Q0 d1 1 nan t\n", 1, "not finite"),
        ("q1 Q0 d1 1 inf t\n", 1, "not finite"),
        ("q1 Q0 d1 1 1.0 t\nq2 Q0 d1 1 1.0 t\nq1 Q0 d1 2 0.5 t\n", 3, "first on line 1"),
    ],
)
def test_read_run_rejects(tmp_path, text, line, message):
    path = tmp_path / "bad.run"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFormatError, match=message) as caught:
        read_run(path)
    assert caught.value.line == line
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_read_run_empty_file(tmp_path):
    path = tmp_path / "empty.run"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="contains no run lines"):
        read_run(path)


def test_read_run_missing_file(tmp_path):
    with pytest.raises(InputFormatError, match="file not found"):
        read_run(tmp_path / "nope.run")


def test_read_run_not_utf8(tmp_path):
    path = tmp_path / "latin1.run"
    path.write_bytes("q1 Q0 d1 1 1.0 t\nq1 Q0 caf\xe9 2 0.5 t\n".encode("latin-1"))
    with pytest.raises(InputFormatError, match="not valid UTF-8"):
        read_run(path)


def test_read_run_bad_gzip(tmp_path):
    path = tmp_path / "broken.run.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(InputFormatError, match="not a valid gzip file"):
        read_run(path)
