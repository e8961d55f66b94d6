"""Parquet reader: agreement with the JSONL reader on SciFact, column checks and row errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from medsearch.data import Document, ReadStats, read_jsonl, read_parquet
from medsearch.errors import InputFormatError

SCIFACT_50 = Path(__file__).resolve().parent / "data" / "scifact-50.jsonl"


def write_table(path: Path, columns: dict[str, list]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


@pytest.fixture()
def scifact_parquet(tmp_path) -> Path:
    records = [json.loads(line) for line in SCIFACT_50.read_text(encoding="utf-8").splitlines()]
    return write_table(
        tmp_path / "scifact-50.parquet",
        {
            "_id": [record["_id"] for record in records],
            "title": [record["title"] for record in records],
            "text": [record["text"] for record in records],
        },
    )


def test_matches_jsonl_reader(scifact_parquet):
    expected = list(read_jsonl(SCIFACT_50))
    stats = ReadStats()

    # 7 rows per batch: the 50 rows span 8 batches, the last one partial.
    documents = list(read_parquet(scifact_parquet, stats=stats, batch_size=7))

    assert documents == expected
    assert stats.records_read == 50
    assert stats.documents == 50


def test_custom_columns_int_ids_and_nulls(tmp_path):
    path = write_table(
        tmp_path / "custom.parquet",
        {
            "pmid": pa.array([11, 12, 13], type=pa.int64()),
            "heading": ["First", None, ""],
            "body": ["Alpha.", "Beta.", None],
            "extra": [1.0, 2.0, 3.0],
        },
    )
    stats = ReadStats()

    documents = list(read_parquet(path, id_field="pmid", title_field="heading", text_field="body", stats=stats))

    assert documents == [
        Document(doc_id="11", title="First", abstract="Alpha."),
        Document(doc_id="12", title="", abstract="Beta."),
    ]
    assert stats.records_read == 3
    assert stats.skipped_empty == 1
    assert stats.without_abstract == 1


def test_large_string_and_control_characters(tmp_path):
    path = write_table(
        tmp_path / "large.parquet",
        {
            "_id": pa.array(["a", "b"], type=pa.large_string()),
            "title": pa.array(["Nul\x00 title", "Plain"], type=pa.large_string()),
            "text": pa.array(["Text", "More"], type=pa.large_string()),
        },
    )

    documents = list(read_parquet(path))

    assert [document.title for document in documents] == ["Nul title", "Plain"]


def test_missing_title_column_warns(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="medsearch")
    path = write_table(tmp_path / "notitle.parquet", {"_id": ["1", "2"], "text": ["A", "B"]})

    documents = list(read_parquet(path))

    assert [document.title for document in documents] == ["", ""]
    assert any("2 records have no 'title' field" in message for message in caplog.messages)


def test_missing_id_column_lists_columns(tmp_path):
    path = write_table(tmp_path / "noid.parquet", {"doc": ["1"], "title": ["T"], "text": ["A"]})

    with pytest.raises(InputFormatError, match=r"no '_id' column \(columns: doc, title, text\).*--id-field"):
        list(read_parquet(path))


def test_missing_title_and_text_columns(tmp_path):
    path = write_table(tmp_path / "notext.parquet", {"_id": ["1"], "body": ["A"]})

    with pytest.raises(InputFormatError, match="--title-field and --text-field"):
        list(read_parquet(path))


def test_bad_id_type_names_row(tmp_path):
    path = write_table(tmp_path / "floatid.parquet", {"_id": [1.5, 2.5], "title": ["T", "U"], "text": ["A", "B"]})

    with pytest.raises(InputFormatError, match="row 0: field '_id' must be a string or an integer, got float"):
        list(read_parquet(path))


def test_null_id_names_row(tmp_path):
    path = write_table(tmp_path / "nullid.parquet", {"_id": ["1", None], "title": ["T", "U"], "text": ["A", "B"]})

    with pytest.raises(InputFormatError, match="row 1: field '_id' is null"):
        list(read_parquet(path))


def test_not_parquet(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_bytes(SCIFACT_50.read_bytes()[:2000])

    with pytest.raises(InputFormatError, match="not a readable Parquet file"):
        list(read_parquet(path))


def test_truncated_parquet(tmp_path, scifact_parquet):
    data = scifact_parquet.read_bytes()
    path = tmp_path / "truncated.parquet"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(InputFormatError):
        list(read_parquet(path))
