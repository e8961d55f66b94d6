"""Build an index of 50 real SciFact abstracts with the bundled model and search it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medsearch import Document, HybridConfig, Index, MedsearchError, build_index, read_documents
from medsearch.errors import IndexFileError, IndexMismatchError, IndexNotFoundError
from medsearch.indexer.manifest import MANIFEST_FILENAME

TEST_DATA = Path(__file__).resolve().parent / "data"
CORPUS = TEST_DATA / "scifact-50.jsonl"

# Queries written by hand from one abstract's topic, with that abstract's id.
TOPIC_QUERIES = [
    ("methylation patterns in the DNA of blood mononuclear cells", "18670"),
    ("glioma stem cells die when A20 is targeted", "33370"),
    ("how long does LTP persist in the brain", "21257564"),
    ("B vitamins to prevent heart disease by lowering homocysteine", "16252863"),
]


@pytest.fixture(scope="module")
def index_path(tmp_path_factory, encoder) -> Path:
    path = tmp_path_factory.mktemp("index") / "scifact50"
    build_index(read_documents(CORPUS), path, encoder=encoder)
    return path


@pytest.fixture(scope="module")
def index(index_path, encoder) -> Index:
    return Index.load(index_path, encoder=encoder)


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
@pytest.mark.parametrize(("query", "doc_id"), TOPIC_QUERIES)
def test_topic_query_finds_its_abstract(index, mode, query, doc_id):
    hits = index.search(query, k=3, mode=mode)
    assert doc_id in [hit.doc_id for hit in hits]


def test_manifest_records_build(index_path):
    manifest = json.loads((index_path / MANIFEST_FILENAME).read_text())
    assert manifest["format_version"] == 1
    assert manifest["encoder"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["encoder"]["dim"] == 384
    assert manifest["counts"]["documents"] == 50
    assert manifest["counts"]["passages"] >= 50
    assert manifest["bm25"]["method"] == "lucene"
    assert manifest["dense"]["index_type"] == "Flat"
    assert set(manifest["files"]) >= {"documents.parquet", "dense.faiss", "passage_docs.npy"}


def test_hits_carry_both_retrievers(index):
    hits = index.search(TOPIC_QUERIES[0][0], k=10, mode="hybrid")
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
    top = hits[0]
    assert top.bm25_rank is not None
    assert top.dense_rank is not None
    keys = [(-hit.score, hit.doc_id) for hit in hits]
    assert keys == sorted(keys)
    assert top.document.title


def test_default_hybrid_is_convex_fusion(index):
    query = TOPIC_QUERIES[0][0]
    config = HybridConfig()
    assert config.fusion == "convex"
    assert config.bm25_weight == config.dense_weight
    assert config.depth == 200
    bm25 = index.search(query, k=config.depth, mode="bm25")
    dense = index.search(query, k=config.depth, mode="dense")

    def normalised(hits, doc_id):
        scores = [hit.score for hit in hits]
        score = next((hit.score for hit in hits if hit.doc_id == doc_id), None)
        return 0.0 if score is None else (score - min(scores)) / (max(scores) - min(scores))

    for hit in index.search(query, k=10, mode="hybrid"):
        expected = 0.5 * normalised(bm25, hit.doc_id) + 0.5 * normalised(dense, hit.doc_id)
        assert hit.score == pytest.approx(expected, abs=1e-6)
        assert hit.bm25_rank == next((other.rank for other in bm25 if other.doc_id == hit.doc_id), None)
        assert hit.dense_score == next((other.score for other in dense if other.doc_id == hit.doc_id), None)


def test_rrf_fusion_selectable(index_path, encoder):
    config = HybridConfig(fusion="rrf", rrf_k=60, bm25_weight=1.0, dense_weight=1.0)
    index = Index.load(index_path, encoder=encoder, hybrid=config)
    top = index.search(TOPIC_QUERIES[0][0], k=10, mode="hybrid")[0]
    assert top.score == pytest.approx(1 / (60 + top.bm25_rank) + 1 / (60 + top.dense_rank))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"fusion": "borda"}, "unknown fusion 'borda'"),
        ({"depth": 0}, "depth must be at least 1"),
        ({"bm25_weight": -1.0}, "weights must be >= 0"),
        ({"rrf_k": -5}, "rrf_k=-5"),
    ],
)
def test_hybrid_config_rejects_invalid(settings, message):
    with pytest.raises(ValueError, match=message):
        HybridConfig(**settings)


def test_search_many_equals_single_searches(index, encoder):
    queries = [query for query, _ in TOPIC_QUERIES]
    # In bf16, batching changes the rounding of the query vectors: in one CI run the hybrid
    # scores of search_many and search differed by up to 9e-4 relative.
    tolerance = 1e-5 if encoder.precision == "fp32" else 5e-3
    batched = index.search_many(queries, k=5, mode="hybrid")
    for query, hits in zip(queries, batched):
        single = index.search(query, k=5, mode="hybrid")
        assert [hit.doc_id for hit in hits] == [hit.doc_id for hit in single]
        assert [hit.score for hit in hits] == pytest.approx([hit.score for hit in single], rel=tolerance)


def test_long_abstract_split_into_passages(tmp_path, encoder):
    sentence = "Metformin lowers hepatic glucose output in patients with type 2 diabetes. "
    filler = "Unrelated remarks about hospital staffing and parking fill this sentence. "
    # The matching sentence sits at the end, past the 256 word pieces that truncation keeps.
    documents = [
        Document("long", "A long report", filler * 40 + sentence),
        Document("short", "Short note", "Hospital parking was discussed at length."),
    ]
    build_index(documents, tmp_path / "idx", encoder=encoder)
    index = Index.load(tmp_path / "idx", encoder=encoder)
    assert index.manifest.counts["passages"] > 2
    hits = index.search("metformin hepatic glucose output", k=1, mode="dense")
    assert hits[0].doc_id == "long"


def test_empty_query_rejected(index):
    with pytest.raises(MedsearchError, match="query 1 is empty"):
        index.search("   ", k=5)


def test_unknown_mode_rejected(index):
    with pytest.raises(MedsearchError, match="unknown search mode 'sparse'"):
        index.search("insulin", mode="sparse")


@pytest.mark.parametrize(
    "query",
    ["the of and", "x" * 10_000, "😀🧬💊", "肺癌的治疗", "'; DROP TABLE documents; --", "<script>alert(1)</script>"],
)
def test_unusual_queries_return_results_or_nothing(index, query):
    hits = index.search(query, k=5, mode="hybrid")
    assert len(hits) <= 5
    assert len(hits) > 0  # dense search always ranks every document


def test_stop_word_query_has_no_bm25_hits(index):
    assert index.search("the of and", k=5, mode="bm25") == []


def test_load_missing_index(tmp_path):
    with pytest.raises(IndexNotFoundError, match="no index at"):
        Index.load(tmp_path / "absent")
    with pytest.raises(IndexNotFoundError, match="manifest.json is missing"):
        Index.load(tmp_path)


def test_format_version_mismatch_named(index_path, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(index_path, copy)
    manifest = json.loads((copy / MANIFEST_FILENAME).read_text())
    manifest["format_version"] = 99
    (copy / MANIFEST_FILENAME).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="format version 99.*reads version 1"):
        Index.load(copy)


def test_encoder_mismatch_names_both(index_path, encoder, monkeypatch):
    monkeypatch.setattr(encoder, "name", "BAAI/bge-small-en-v1.5")
    with pytest.raises(IndexMismatchError, match="built with encoder 'sentence-transformers/all-MiniLM-L6-v2'.*'BAAI/bge-small-en-v1.5'"):
        Index.load(index_path, encoder=encoder)


def test_truncated_file_reported_by_name(index_path, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(index_path, copy)
    faiss_file = copy / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with pytest.raises(IndexFileError, match="dense.faiss has 100 bytes"):
        Index.load(copy)


def test_existing_index_needs_overwrite(index_path, encoder):
    with pytest.raises(MedsearchError, match="pass --overwrite"):
        build_index([Document("a", "t", "x")], index_path, encoder=encoder)


def test_refuses_to_write_into_unrelated_directory(tmp_path, encoder):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(MedsearchError, match="not a medsearch index"):
        build_index([Document("a", "t", "x")], tmp_path, encoder=encoder)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_failed_build_keeps_previous_index(tmp_path, encoder, monkeypatch):
    target = tmp_path / "idx"
    build_index([Document("old", "Old title", "Old text.")], target, encoder=encoder)

    def fail(texts):
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(encoder, "encode_documents", fail)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        build_index([Document("new", "New title", "New text.")], target, encoder=encoder, overwrite=True)

    monkeypatch.undo()
    assert Index.load(target, encoder=encoder).documents.doc_ids == ["old"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["idx"]


def test_duplicate_ids_keep_last(tmp_path, encoder, caplog):
    documents = [Document("1", "First", "a."), Document("2", "Other", "b."), Document("1", "Second", "c.")]
    build_index(documents, tmp_path / "idx", encoder=encoder)
    index = Index.load(tmp_path / "idx", encoder=encoder)
    assert index.documents.doc_ids == ["1", "2"]
    assert index.documents.get(0).title == "Second"
    assert "1 documents had an id seen before" in caplog.text


def test_no_documents_rejected(tmp_path, encoder):
    with pytest.raises(MedsearchError, match="no documents to index"):
        build_index([], tmp_path / "idx", encoder=encoder)
    assert not (tmp_path / "idx").exists()
