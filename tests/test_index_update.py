"""Index updates: new, revised and deleted documents, checked against a fresh build.

The update file is a real NLM update file sample with a DeleteCitation block. The index it
updates contains older versions of some of its records, some records unchanged, documents
under PMIDs that the file deletes, and SciFact abstracts that the file does not touch.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medsearch import (
    CorpusFile,
    Document,
    Index,
    MedsearchError,
    ReadStats,
    build_index,
    read_corpus_file,
    read_documents,
    update_index,
)
from medsearch.cli import app
from medsearch.errors import IndexMismatchError, IndexNotFoundError
from medsearch.indexer.changes import apply_changes
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.manifest import MANIFEST_FILENAME, sha256_file
from medsearch.indexer.update import _stored_vectors

TEST_DATA = Path(__file__).resolve().parent / "data"
UPDATE_FILE = TEST_DATA / "pubmed" / "pubmed21n1298-sample.xml.gz"
SCIFACT = TEST_DATA / "scifact-50.jsonl"
runner = CliRunner()

QUERIES = [
    "dopamine modulates responses to cocaine and ethanol in Drosophila",
    "DNA methylation in blood mononuclear cells",
    "glioma stem cells A20",
    "B vitamins homocysteine heart disease",
    "COVID-19 patients intensive care",
    "randomized controlled trial outcomes",
]


@pytest.fixture(scope="module", autouse=True)
def fp32_encoder(encoder):
    """Run the shared encoder in fp32 for this module.

    The comparisons with a fresh build allow 1e-5 in each vector component. bf16 autocast
    (the default on CPUs with bf16 instructions) gives differences near 1e-3 between the
    same text encoded in two differently padded batches, as the update and the fresh build do.
    """
    precision = encoder.precision
    encoder.precision = "fp32"
    yield encoder
    encoder.precision = precision


@pytest.fixture(scope="module")
def update_sample() -> tuple[list[Document], list[str]]:
    stats = ReadStats()
    documents = list(read_documents(UPDATE_FILE, stats=stats))
    return documents, list(stats.deleted_pmids)


@pytest.fixture(scope="module")
def base_documents(update_sample) -> list[Document]:
    """The index before the update: 8 older versions, 5 doomed PMIDs, 20 others, 2 unchanged."""
    sample, deleted = update_sample
    scifact = list(read_documents(SCIFACT))
    older = [
        dataclasses.replace(doc, title=f"{doc.title} (preliminary)", abstract=doc.abstract[: len(doc.abstract) // 2])
        for doc in sample[:8]
    ]
    doomed = [
        Document(doc_id=pmid, title=source.title, abstract=source.abstract, pmid=pmid)
        for pmid, source in zip(deleted[:5], scifact[:5])
    ]
    return older + doomed + scifact[5:15] + sample[8:10] + scifact[15:25]


@pytest.fixture(scope="module")
def expected_documents(update_sample, base_documents) -> list[Document]:
    """The final document set, worked out without medsearch: newest version wins, then deletions."""
    sample, deleted = update_sample
    by_id = {doc.doc_id: doc for doc in base_documents}
    for doc in sample:
        by_id[doc.doc_id] = doc
    for pmid in deleted:
        by_id.pop(pmid, None)
    return list(by_id.values())


@pytest.fixture(scope="module")
def base_index(tmp_path_factory, encoder, base_documents) -> Path:
    path = tmp_path_factory.mktemp("update") / "base"
    build_index(base_documents, path, encoder=encoder, index_type="flat")
    return path


@pytest.fixture(scope="module")
def updated(tmp_path_factory, encoder, base_index):
    """The base index updated with the sample, and the passage texts the update encoded."""
    path = tmp_path_factory.mktemp("update") / "updated"
    shutil.copytree(base_index, path)
    encoded_texts: list[str] = []
    original = encoder.encode_documents

    def recording_encode(texts):
        encoded_texts.extend(texts)
        return original(texts)

    encoder.encode_documents = recording_encode
    try:
        summary = update_index(path, [read_corpus_file(UPDATE_FILE)], encoder=encoder)
    finally:
        del encoder.encode_documents
    return path, summary, encoded_texts


@pytest.fixture(scope="module")
def fresh_index(tmp_path_factory, encoder, expected_documents) -> Path:
    path = tmp_path_factory.mktemp("update") / "fresh"
    build_index(expected_documents, path, encoder=encoder, index_type="flat")
    return path


def assert_same_hits(actual, expected, tolerance=1e-5):
    """Equal scores rank by rank; documents may differ only where their scores tie."""
    assert len(actual) == len(expected)
    np.testing.assert_allclose([hit.score for hit in actual], [hit.score for hit in expected], atol=tolerance)
    actual_scores = {hit.doc_id: hit.score for hit in actual}
    expected_scores = {hit.doc_id: hit.score for hit in expected}
    cutoff = expected[-1].score if expected else 0.0
    for doc_id in actual_scores.keys() ^ expected_scores.keys():
        score = actual_scores.get(doc_id, expected_scores.get(doc_id))
        assert abs(score - cutoff) <= tolerance, f"{doc_id} is a hit of one index only, with score {score}"
    for doc_id in actual_scores.keys() & expected_scores.keys():
        assert abs(actual_scores[doc_id] - expected_scores[doc_id]) <= tolerance


def test_update_counts(updated, update_sample):
    _, summary, _ = updated
    _, deleted = update_sample
    assert summary.changed
    assert summary.counts.added == 9
    assert summary.counts.replaced == 10
    assert summary.counts.deleted == 5
    assert summary.counts.deletions_not_found == len(deleted) - 5
    assert summary.encoded_documents == 17  # 8 revised + 9 new; 2 unchanged reuse their vectors
    assert summary.documents == 39


def test_update_encodes_only_new_and_changed(updated, base_documents, update_sample):
    _, _, encoded_texts = updated
    sample, _ = update_sample
    untouched = [doc for doc in base_documents if doc.doc_id not in {d.doc_id for d in sample}]
    joined = "\n".join(encoded_texts)
    for doc in untouched + sample[8:10]:
        assert doc.title not in joined, f"{doc.doc_id} was encoded again although its text is unchanged"
    for doc in sample[:8] + sample[10:]:
        assert doc.title in joined


def test_update_equals_fresh_build_store(updated, fresh_index, encoder, expected_documents):
    path, _, _ = updated
    after_update = Index.load(path, encoder=encoder)
    fresh = Index.load(fresh_index, encoder=encoder)
    assert after_update.documents.doc_ids == [doc.doc_id for doc in expected_documents]
    assert after_update.documents.doc_ids == fresh.documents.doc_ids
    rows = list(range(len(fresh)))
    assert after_update.documents.get_many(rows) == fresh.documents.get_many(rows)
    assert after_update.manifest.counts == fresh.manifest.counts


def test_update_equals_fresh_build_vectors(updated, fresh_index, encoder):
    path, _, _ = updated
    after_update = Index.load(path, encoder=encoder)
    fresh = Index.load(fresh_index, encoder=encoder)
    np.testing.assert_array_equal(after_update.dense.passage_docs, fresh.dense.passage_docs)
    np.testing.assert_allclose(_stored_vectors(after_update.dense), _stored_vectors(fresh.dense), atol=1e-5)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_update_equals_fresh_build_search(updated, fresh_index, encoder, update_sample, mode):
    path, _, _ = updated
    _, deleted = update_sample
    after_update = Index.load(path, encoder=encoder)
    fresh = Index.load(fresh_index, encoder=encoder)
    for query in QUERIES:
        actual = after_update.search(query, k=10, mode=mode)
        assert_same_hits(actual, fresh.search(query, k=10, mode=mode))
        assert not {hit.doc_id for hit in actual} & set(deleted)


def test_update_bm25_scores_equal_fresh_build(updated, fresh_index, encoder):
    path, _, _ = updated
    after_update = Index.load(path, encoder=encoder)
    fresh = Index.load(fresh_index, encoder=encoder)
    for query in QUERIES:
        np.testing.assert_allclose(after_update.bm25.scores(query), fresh.bm25.scores(query), rtol=1e-6)


def test_manifest_records_applied_file(updated):
    path, _, _ = updated
    manifest = json.loads((path / MANIFEST_FILENAME).read_text())
    entry = manifest["inputs"][-1]
    assert entry["path"] == str(UPDATE_FILE)
    assert entry["sha256"] == sha256_file(UPDATE_FILE)
    assert entry["documents"] == 19
    assert entry["deleted_ids"] == 20
    assert entry["applied"]


def test_same_file_twice_changes_nothing(updated, tmp_path, encoder, caplog):
    path, _, _ = updated
    copy = tmp_path / "again"
    shutil.copytree(path, copy)
    before = {file: file.read_bytes() for file in copy.rglob("*") if file.is_file()}
    caplog.set_level(logging.INFO, logger="medsearch")

    summary = update_index(copy, [read_corpus_file(UPDATE_FILE)], encoder=encoder)

    assert not summary.changed
    assert summary.skipped_inputs == (str(UPDATE_FILE),)
    assert summary.encoded_documents == 0
    assert {file: file.read_bytes() for file in copy.rglob("*") if file.is_file()} == before
    assert "a file with the same SHA-256 was already applied" in caplog.text
    assert "the index is unchanged" in caplog.text


def test_cli_update_then_repeat(base_index, tmp_path, updated):
    copy = tmp_path / "cli"
    shutil.copytree(base_index, copy)

    first = runner.invoke(app, ["index", str(UPDATE_FILE), "--out", str(copy), "--update", "--no-progress"])
    assert first.exit_code == 0, first.output
    assert "9 documents added, 10 replaced, 5 deleted (15 deleted ids were not in the index)" in first.output
    assert "encoded 17 new or changed documents" in first.output
    library_result, _, _ = updated
    assert Index.load(copy).documents.doc_ids == Index.load(library_result).documents.doc_ids

    second = runner.invoke(app, ["index", str(UPDATE_FILE), "--out", str(copy), "--update", "--no-progress"])
    assert second.exit_code == 0, second.output
    assert f"Skipped {UPDATE_FILE}: a file with the same SHA-256 was already applied" in second.output
    assert "Nothing to update" in second.output


def test_cli_build_applies_deletions_of_later_files(tmp_path, update_sample):
    _, deleted = update_sample
    base = tmp_path / "base.jsonl"
    records = [
        {"_id": deleted[0], "title": "Retracted report", "text": "This record is deleted by the update file."},
        {"_id": "kept-1", "title": "Kept report", "text": "This record stays in the index."},
    ]
    base.write_text("".join(json.dumps(record) + "\n" for record in records))

    result = runner.invoke(
        app, ["index", str(base), str(UPDATE_FILE), "--out", str(tmp_path / "idx"), "--no-progress"]
    )

    assert result.exit_code == 0, result.output
    doc_ids = Index.load(tmp_path / "idx").documents.doc_ids
    assert deleted[0] not in doc_ids
    assert "kept-1" in doc_ids
    assert len(doc_ids) == 20


def test_update_rejects_other_encoder(base_index, tmp_path, encoder, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(base_index, copy)
    monkeypatch.setattr(encoder, "name", "BAAI/bge-small-en-v1.5")
    with pytest.raises(IndexMismatchError, match="built with encoder 'sentence-transformers/all-MiniLM-L6-v2'"):
        update_index(copy, [read_corpus_file(UPDATE_FILE)], encoder=encoder)


def test_update_missing_index(tmp_path, encoder):
    with pytest.raises(IndexNotFoundError, match="no index at"):
        update_index(tmp_path / "absent", [read_corpus_file(UPDATE_FILE)], encoder=encoder)


def test_update_deleting_everything_rejected(base_index, base_documents, tmp_path, encoder):
    copy = tmp_path / "copy"
    shutil.copytree(base_index, copy)
    before = (copy / MANIFEST_FILENAME).read_text()
    wipe = CorpusFile(source="wipe", documents=[], deleted_ids=[doc.doc_id for doc in base_documents], sha256="0" * 64)

    with pytest.raises(MedsearchError, match="deletes every document"):
        update_index(copy, [wipe], encoder=encoder)

    assert (copy / MANIFEST_FILENAME).read_text() == before


def test_stored_vectors_exact_for_flat_and_hnsw():
    vectors = np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = np.arange(40, dtype=np.int64)
    for index_type in ("flat", "hnsw"):
        dense = DenseIndex.build(vectors, rows, index_type=index_type)
        np.testing.assert_array_equal(_stored_vectors(dense), vectors)


def test_stored_vectors_rejects_compressed_index():
    vectors = np.random.default_rng(0).normal(size=(1000, 8)).astype(np.float32)
    dense = DenseIndex.build(vectors, np.arange(1000, dtype=np.int64), index_type="IVF4,SQ8")
    with pytest.raises(MedsearchError, match="stores compressed vectors"):
        _stored_vectors(dense)


# --- apply_changes -------------------------------------------------------------------------


def doc(doc_id: str, title: str = "t") -> Document:
    return Document(doc_id=doc_id, title=title, abstract="")


def test_apply_changes_order_and_counts():
    base = [doc("1"), doc("2"), doc("3")]
    update = CorpusFile(source="u", documents=[doc("2", "new"), doc("4")], deleted_ids=["1", "9"])

    result = apply_changes(base, [update])

    assert [d.doc_id for d in result.documents] == ["2", "3", "4"]
    assert result.documents[0].title == "new"
    assert (result.counts.added, result.counts.replaced, result.counts.deleted) == (1, 1, 1)
    assert result.counts.deletions_not_found == 1
    assert [d.doc_id for d in base] == ["1", "2", "3"]


def test_apply_changes_later_file_readds_deleted_id():
    first = CorpusFile(source="a", documents=[], deleted_ids=["1"])
    second = CorpusFile(source="b", documents=[doc("1", "back")])

    result = apply_changes([doc("1"), doc("2")], [first, second])

    assert [d.doc_id for d in result.documents] == ["2", "1"]
    assert result.documents[1].title == "back"


def test_apply_changes_deletes_after_documents_of_same_file():
    update = CorpusFile(source="u", documents=[doc("5")], deleted_ids=["5"])
    assert apply_changes([], [update]).documents == []


def test_apply_changes_repeated_id_warns_with_count(caplog):
    update = CorpusFile(source="u", documents=[doc("1", "a"), doc("1", "b"), doc("1", "c")])

    result = apply_changes([], [update])

    assert [d.title for d in result.documents] == ["c"]
    assert result.counts.repeated == 2
    assert "2 documents repeated an id seen before in the same input file" in caplog.text


@pytest.mark.shared_data
def test_full_update_file_applies_versions_and_deletions(shared_data):
    """The whole 2021 update file (20,788 records) as changes; no encoding, so it stays cheap."""
    path = shared_data / "pubmed" / "pubmed21n1298.xml.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    corpus_file = read_corpus_file(path)

    result = apply_changes([], [corpus_file])

    last_versions = {d.doc_id: d for d in corpus_file.documents}
    expected = {doc_id for doc_id in last_versions if doc_id not in set(corpus_file.deleted_ids)}
    assert [d.doc_id for d in result.documents] == [doc_id for doc_id in last_versions if doc_id in expected]
    assert all(d is last_versions[d.doc_id] for d in result.documents)
    assert corpus_file.deleted_ids
    assert result.counts.deleted + result.counts.deletions_not_found == len(corpus_file.deleted_ids)
