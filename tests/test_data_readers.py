"""read_documents dispatch, path errors, skip accounting, logging and the bundled SciFact files."""

from __future__ import annotations

import csv
import gzip
import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import medsearch.data
from medsearch.data import (
    ReadStats,
    bundled_corpus_path,
    bundled_qrels_path,
    bundled_queries_path,
    corpus_format,
    read_documents,
    read_jsonl,
    read_pubmed_xml,
)
from medsearch.errors import InputFormatError, MedsearchError

TEST_DATA = Path(__file__).resolve().parent / "data"
SCIFACT_50 = TEST_DATA / "scifact-50.jsonl"
PUBMED_SAMPLE = TEST_DATA / "pubmed" / "pubmed21n1298-sample.xml.gz"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pubmed.xml", "pubmed-xml"),
        ("pubmed21n1298.xml.gz", "pubmed-xml"),
        ("PUBMED.XML", "pubmed-xml"),
        ("corpus.jsonl", "jsonl"),
        ("corpus.jsonl.gz", "jsonl"),
        ("corpus.parquet", "parquet"),
    ],
)
def test_corpus_format_by_extension(name, expected):
    assert corpus_format(name) == expected


@pytest.mark.parametrize("name", ["corpus.json", "corpus.csv", "corpus.gz", "corpus.tsv.gz", "corpus"])
def test_unknown_extension_lists_supported(tmp_path, name):
    path = tmp_path / name
    path.write_text("{}", encoding="utf-8")

    with pytest.raises(InputFormatError) as caught:
        read_documents(path)

    message = str(caught.value)
    for extension in (".xml", ".xml.gz", ".jsonl", ".jsonl.gz", ".parquet"):
        assert extension in message
    assert caught.value.path == str(path)


def test_missing_path_raises_at_call(tmp_path):
    with pytest.raises(InputFormatError, match="file not found"):
        read_documents(tmp_path / "absent.jsonl")


def test_directory_raises_at_call(tmp_path):
    folder = tmp_path / "corpus.jsonl"
    folder.mkdir()

    with pytest.raises(InputFormatError, match="is a directory"):
        read_documents(folder)


def test_dispatch_pubmed_xml_plain_and_gzip(tmp_path):
    plain = tmp_path / "sample.xml"
    plain.write_bytes(gzip.decompress(PUBMED_SAMPLE.read_bytes()))
    stats = ReadStats()

    documents = list(read_documents(PUBMED_SAMPLE, stats=stats))

    assert documents == list(read_pubmed_xml(PUBMED_SAMPLE))
    assert list(read_documents(plain)) == documents
    assert documents[0].pmid == "10704411"
    assert len(stats.deleted_pmids) == 20
    assert stats.path == str(PUBMED_SAMPLE)


def test_dispatch_jsonl_and_parquet_agree(tmp_path):
    records = [json.loads(line) for line in SCIFACT_50.read_text(encoding="utf-8").splitlines()]
    parquet_path = tmp_path / "corpus.parquet"
    pq.write_table(
        pa.table({"id": [r["_id"] for r in records], "t": [r["title"] for r in records], "x": [r["text"] for r in records]}),
        parquet_path,
    )
    gzip_path = tmp_path / "corpus.jsonl.gz"
    gzip_path.write_bytes(gzip.compress(SCIFACT_50.read_bytes()))

    from_jsonl = list(read_documents(SCIFACT_50))

    assert len(from_jsonl) == 50
    assert list(read_documents(gzip_path)) == from_jsonl
    assert list(read_documents(parquet_path, id_field="id", title_field="t", text_field="x")) == from_jsonl


def test_field_names_reach_jsonl_reader(tmp_path):
    path = tmp_path / "custom.jsonl"
    path.write_text(json.dumps({"pmid": 7, "name": "N", "abstract": "A"}) + "\n", encoding="utf-8")

    [document] = read_documents(path, id_field="pmid", title_field="name", text_field="abstract")

    assert (document.doc_id, document.title, document.abstract) == ("7", "N", "A")


def test_require_abstract_reaches_reader():
    stats = ReadStats()

    documents = list(read_documents(PUBMED_SAMPLE, require_abstract=True, stats=stats))

    assert all(document.abstract for document in documents)
    assert stats.skipped_without_abstract == 1
    assert stats.skipped_empty == 1
    assert stats.records_read == stats.documents + stats.skipped_without_abstract + stats.skipped_empty


def test_empty_documents_skipped_with_warning(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="medsearch")
    path = tmp_path / "empty.jsonl"
    lines = [
        {"_id": "1", "title": "", "text": ""},
        {"_id": "2", "title": "Kept", "text": ""},
        {"_id": "3", "title": None, "text": None},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    stats = ReadStats()

    documents = list(read_documents(path, stats=stats))

    assert [document.doc_id for document in documents] == ["2"]
    assert stats.skipped_empty == 2
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "skipped 2 records whose title and abstract are both empty" in warnings[0].getMessage()


def test_no_document_text_in_logs_above_debug(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="medsearch")
    path = tmp_path / "logged.jsonl"
    lines = [
        {"_id": "1", "title": "Zebrafish\u0000 heart regeneration", "text": "Cardiomyocytes proliferate."},
        {"_id": "2", "text": "Untitled abstract about kinases."},
        {"_id": "3", "title": "", "text": ""},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    list(read_documents(path))
    list(read_documents(PUBMED_SAMPLE))

    logged = " ".join(record.getMessage() for record in caplog.records if record.levelno > logging.DEBUG)
    assert logged
    for fragment in ("Zebrafish", "Cardiomyocytes", "kinases", "Dopamine", "Drugs of abuse"):
        assert fragment not in logged


def test_stats_are_filled_while_iterating():
    stats = ReadStats()
    iterator = read_documents(SCIFACT_50, stats=stats)

    next(iterator)
    next(iterator)

    assert stats.documents == 2
    assert stats.records_read == 2


def test_public_api():
    assert set(medsearch.data.__all__) >= {
        "Document",
        "ReadStats",
        "read_documents",
        "bundled_corpus_path",
        "read_pubmed_xml",
        "read_jsonl",
        "read_parquet",
    }
    for name in medsearch.data.__all__:
        assert hasattr(medsearch.data, name)


# --- bundled SciFact files ------------------------------------------------------------------


def test_bundled_corpus_reads_5183_abstracts():
    path = bundled_corpus_path()
    stats = ReadStats()

    documents = list(read_documents(path, stats=stats))

    assert path.name == "scifact-corpus.jsonl.gz"
    assert stats.documents == 5183
    assert len({document.doc_id for document in documents}) == 5183
    assert stats.without_abstract == 0
    assert documents[0].doc_id == "4983"


def test_bundled_corpus_contains_test_sample():
    bundled = {document.doc_id: document for document in read_jsonl(bundled_corpus_path())}

    for document in read_jsonl(SCIFACT_50):
        assert bundled[document.doc_id] == document


def test_bundled_queries_and_qrels():
    with gzip.open(bundled_queries_path(), "rt", encoding="utf-8") as stream:
        queries = [json.loads(line) for line in stream]
    splits = [query["metadata"]["split"] for query in queries]

    assert len(queries) == 1109
    assert splits.count("test") == 300
    assert splits.count("train") == 809

    corpus_ids = {document.doc_id for document in read_jsonl(bundled_corpus_path())}
    for split, judgments, query_count in (("test", 339, 300), ("train", 919, 809)):
        with gzip.open(bundled_qrels_path(split), "rt", encoding="utf-8") as stream:
            rows = list(csv.reader(stream, delimiter="\t"))
        assert rows[0] == ["query-id", "corpus-id", "score"]
        assert len(rows) - 1 == judgments
        assert len({row[0] for row in rows[1:]}) == query_count
        assert {row[1] for row in rows[1:]} <= corpus_ids


def test_bundled_qrels_unknown_split():
    with pytest.raises(ValueError, match="choose one of: test, train"):
        bundled_qrels_path("dev")


@pytest.mark.shared_data
def test_bundled_files_equal_shared_copies(shared_data):
    scifact = shared_data / "scifact"
    if not scifact.is_dir():
        pytest.skip(f"{scifact} not found")

    pairs = [
        (bundled_corpus_path(), scifact / "corpus.jsonl"),
        (bundled_queries_path(), scifact / "queries.jsonl"),
        (bundled_qrels_path("test"), scifact / "qrels" / "test.tsv"),
        (bundled_qrels_path("train"), scifact / "qrels" / "train.tsv"),
    ]
    for bundled, original in pairs:
        assert gzip.decompress(bundled.read_bytes()) == original.read_bytes()


def test_missing_bundled_file_raises(monkeypatch, tmp_path):
    package_copy = tmp_path / "data"
    (package_copy / "bundled").mkdir(parents=True)
    monkeypatch.setattr("medsearch.data.bundled.resources.files", lambda package: package_copy)

    with pytest.raises(MedsearchError, match="bundled file scifact-corpus.jsonl.gz not found"):
        bundled_corpus_path()


def test_scifact_sample_queries_have_relevant_documents():
    queries = [json.loads(line) for line in (TEST_DATA / "scifact-queries-8.jsonl").read_text(encoding="utf-8").splitlines()]
    with (TEST_DATA / "scifact-qrels-8.tsv").open(encoding="utf-8") as stream:
        rows = list(csv.reader(stream, delimiter="\t"))[1:]
    sample_ids = {document.doc_id for document in read_jsonl(SCIFACT_50)}

    assert len(queries) == 8
    assert {row[0] for row in rows} == {query["_id"] for query in queries}
    assert {row[1] for row in rows} <= sample_ids
