"""Index types: every type returns the exact top 10 documents on a seeded set, and loads back.

The comparison tolerates ties in the style of faiss's own tests: a returned list passes when
the exact scores of its documents equal the exact top-10 scores, so two documents with
(nearly) equal scores may trade places.
"""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest
from typer.testing import CliRunner

from medsearch.cli import app
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.faiss_gpu import faiss_gpu_count
from medsearch.indexer.index_types import (
    AUTO_EXACT_MAX_PASSAGES,
    HNSW_EF_SEARCH,
    IndexTypeError,
    ivf_list_count,
    parse_search_params,
    resolve_index_spec,
)

DIM = 32
K = 10
# Approximate types score with 8-bit codes, which were off by up to 4e-3 on this set.
SCORE_TOLERANCE = 5e-3


def clustered_passages(seed: int, num_docs: int = 1200, clusters: int = 40):
    """Unit vectors around ``clusters`` centres, 1-4 passages per document, and 25 queries."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
    passage_docs = np.repeat(np.arange(num_docs), rng.integers(1, 5, size=num_docs))
    labels = rng.integers(0, clusters, size=len(passage_docs))
    vectors = centres[labels] + 0.6 * rng.standard_normal((len(passage_docs), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = centres[rng.integers(0, clusters, size=25)] + 0.6 * rng.standard_normal((25, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return vectors, passage_docs, queries.astype(np.float32)


def exact_document_scores(vectors: np.ndarray, passage_docs: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Best passage score of every document, shape ``(num_docs,)``."""
    scores = np.full(passage_docs.max() + 1, -np.inf, dtype=np.float64)
    np.maximum.at(scores, passage_docs, vectors.astype(np.float64) @ query.astype(np.float64))
    return scores


def assert_exact_top_k(index: DenseIndex, vectors, passage_docs, queries, tolerance: float) -> None:
    for query, (rows, scores) in zip(queries, index.search(queries, k=K)):
        exact = exact_document_scores(vectors, passage_docs, query)
        expected = np.sort(exact)[::-1][:K]
        assert len(rows) == K
        assert len(set(rows.tolist())) == K
        np.testing.assert_allclose(np.sort(exact[rows])[::-1], expected, atol=tolerance)
        np.testing.assert_allclose(scores, exact[rows], atol=tolerance)


@pytest.fixture
def single_thread():
    # HNSW inserts in parallel, which makes the graph depend on thread timing; one thread
    # makes every run build the same graph.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(threads)


@pytest.mark.parametrize(
    ("index_type", "factory_prefix", "tolerance", "search_params"),
    [
        ("flat", "Flat", 1e-5, None),
        ("auto", "Flat", 1e-5, None),
        ("hnsw", "HNSW", 1e-5, None),
        ("ivfpq", "IVF", SCORE_TOLERANCE, None),
        # A factory string comes with FAISS's default search parameters: set them here.
        ("IVF16,Flat", "IVF16,Flat", 1e-5, {"nprobe": 16}),
        ("HNSW16,SQ8", "HNSW16,SQ8", SCORE_TOLERANCE, {"efSearch": 128}),
    ],
)
def test_index_type_finds_exact_top_10(single_thread, index_type, factory_prefix, tolerance, search_params):
    vectors, passage_docs, queries = clustered_passages(seed=11)
    index = DenseIndex.build(vectors, passage_docs, index_type=index_type)

    assert index.index_type.startswith(factory_prefix)
    assert index.requested_type == index_type
    if search_params is not None:
        assert index.search_params == {}
        index = DenseIndex(index.index, passage_docs, index.index_type, search_params)
    assert_exact_top_k(index, vectors, passage_docs, queries, tolerance)


@pytest.mark.parametrize("index_type", ["flat", "hnsw", "ivfpq"])
def test_save_load_keeps_type_and_results(single_thread, tmp_path, index_type):
    vectors, passage_docs, queries = clustered_passages(seed=4)
    built = DenseIndex.build(vectors, passage_docs, index_type=index_type)
    built.save(tmp_path)
    entry = built.manifest_entry()

    loaded = DenseIndex.load(
        tmp_path, entry["index_type"], search_params=entry["search_params"], requested_type=entry["requested_type"]
    )

    assert loaded.index_type == built.index_type
    assert loaded.search_params == built.search_params
    assert loaded.requested_type == index_type
    for (rows_a, scores_a), (rows_b, scores_b) in zip(built.search(queries, K), loaded.search(queries, K)):
        assert rows_a.tolist() == rows_b.tolist()
        np.testing.assert_allclose(scores_a, scores_b, rtol=1e-6)


def test_load_applies_overridden_search_params(tmp_path):
    vectors, passage_docs, _ = clustered_passages(seed=5, num_docs=300)
    built = DenseIndex.build(vectors, passage_docs, index_type="hnsw")
    built.save(tmp_path)

    loaded = DenseIndex.load(tmp_path, built.index_type, search_params={"efSearch": 300})

    assert built.search_params == {"efSearch": HNSW_EF_SEARCH}
    assert faiss.downcast_index(loaded.index).hnsw.efSearch == 300


def test_ivfpq_search_params_reach_faiss():
    vectors, passage_docs, _ = clustered_passages(seed=6)
    index = DenseIndex.build(vectors, passage_docs, index_type="ivfpq")
    ivf = faiss.extract_index_ivf(index.index)
    assert ivf.nprobe == index.search_params["nprobe"]
    assert faiss.downcast_index(index.index).k_factor == index.search_params["k_factor_rf"]


def test_deepening_works_with_hnsw(single_thread):
    # Document 0 holds the 60 passages nearest the query, so the first search depth
    # (2k + 8 passages) sees one document and must search deeper to find 3.
    rng = np.random.default_rng(3)
    query = rng.standard_normal((1, DIM)).astype(np.float32)
    query /= np.linalg.norm(query)
    near = query + 0.01 * rng.standard_normal((60, DIM)).astype(np.float32)
    far = rng.standard_normal((400, DIM)).astype(np.float32)
    vectors = np.vstack([near, far])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    passage_docs = np.concatenate([np.zeros(60, dtype=np.int64), np.arange(1, 401)])
    index = DenseIndex.build(vectors, passage_docs, index_type="hnsw")

    rows, _ = index.search(query, k=3)[0]

    exact = exact_document_scores(vectors, passage_docs, query[0])
    assert rows.tolist() == np.argsort(-exact)[:3].tolist()


def test_auto_switches_to_approximate_above_limit():
    assert resolve_index_spec("auto", AUTO_EXACT_MAX_PASSAGES, 384).factory == "Flat"
    assert resolve_index_spec("auto", AUTO_EXACT_MAX_PASSAGES + 1, 384).is_exact is False


def test_ivfpq_spec_sizes_itself():
    spec = resolve_index_spec("ivfpq", 1_000_000, 384)
    assert spec.factory == "IVF4096,PQ96x4fs,Refine(SQ8)"
    small = resolve_index_spec("ivfpq", 2_000, 384)
    assert small.factory == "IVF32,PQ96x4fs,Refine(SQ8)"
    assert resolve_index_spec("ivfpq", 2_000, 30).factory == "IVF32,PQ6x4fs,Refine(SQ8)"


def test_ivf_list_count_keeps_39_points_per_list():
    for num_vectors in (100, 2_000, 50_000, 1_000_000, 36_000_000):
        lists = ivf_list_count(num_vectors)
        assert lists & (lists - 1) == 0
        assert num_vectors >= 39 * lists or lists == 1


def test_ivfpq_rejects_tiny_corpus():
    with pytest.raises(IndexTypeError, match="at least 624 passages"):
        resolve_index_spec("ivfpq", 100, 384)


def test_invalid_factory_string_names_choices():
    vectors, passage_docs, _ = clustered_passages(seed=1, num_docs=50)
    with pytest.raises(IndexTypeError, match="FAISS cannot build index type 'NoSuchIndex'"):
        DenseIndex.build(vectors, passage_docs, index_type="NoSuchIndex")


def test_inapplicable_search_param_is_rejected():
    vectors, passage_docs, _ = clustered_passages(seed=1, num_docs=50)
    index = DenseIndex.build(vectors, passage_docs, index_type="flat")
    with pytest.raises(IndexTypeError, match="nprobe=8 does not apply"):
        DenseIndex(index.index, passage_docs, index.index_type, {"nprobe": 8})


def test_parse_search_params():
    assert parse_search_params("efSearch=256") == {"efSearch": 256}
    assert parse_search_params("nprobe=64, k_factor_rf=2.5") == {"nprobe": 64, "k_factor_rf": 2.5}
    assert parse_search_params("") == {}
    with pytest.raises(IndexTypeError, match="name=number"):
        parse_search_params("nprobe")


def test_cli_index_type_recorded_and_overridable(tmp_path):
    runner = CliRunner()
    corpus = Path(__file__).resolve().parent / "data" / "scifact-50.jsonl"
    out = tmp_path / "idx"

    built = runner.invoke(app, ["index", str(corpus), "--out", str(out), "--no-progress", "--index-type", "hnsw"])
    assert built.exit_code == 0, built.output
    dense = json.loads((out / "manifest.json").read_text())["dense"]
    assert dense["index_type"] == "HNSW32"
    assert dense["requested_type"] == "hnsw"
    assert dense["search_params"] == {"efSearch": HNSW_EF_SEARCH}

    query = ["query", "DNA methylation", "--index", str(out), "--mode", "dense", "-k", "3"]
    overridden = runner.invoke(app, [*query, "--search-params", "efSearch=300"])
    assert overridden.exit_code == 0, overridden.output
    assert "3 results" in overridden.output

    wrong = runner.invoke(app, [*query, "--search-params", "nprobe=4"])
    assert wrong.exit_code == 1
    assert "nprobe=4 does not apply to a IndexHNSWFlat index" in wrong.output

    if faiss_gpu_count() == 0:
        gpu = runner.invoke(app, [*query, "--index-device", "cuda"])
        assert gpu.exit_code == 1
        assert "no GPU support" in gpu.output or "sees no GPU" in gpu.output
