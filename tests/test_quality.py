"""Retrieval quality bars on the bundled SciFact test split, with the library defaults.

The module indexes the 5,183 bundled abstracts once with the bundled all-MiniLM-L6-v2 and
the default settings, searches the 300 test queries in each mode for the top 100 hits, and
checks nDCG@10 and recall@100 against fixed bars. Encoding the corpus dominates the run
time: one run with bf16 encoding took 14 CPU-minutes, and 26 minutes of wall-clock time on 2
cores shared with other jobs (1-minute load average about 10). Deselect the module with
``pytest -m "not quality"``.
"""

from __future__ import annotations

import pytest

from medsearch import Index, build_index, read_documents
from medsearch.data import bundled_corpus_path, bundled_qrels_path, bundled_queries_path
from medsearch.eval import EvaluationResult, evaluate, read_qrels, read_queries, results_to_run, search_queries

pytestmark = pytest.mark.quality

TOP_K = 100
MIN_BM25_NDCG = 0.68
MIN_DENSE_NDCG = 0.645
MIN_HYBRID_NDCG = 0.72
MIN_HYBRID_RECALL = 0.955


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Index:
    path = tmp_path_factory.mktemp("quality") / "scifact"
    build_index(read_documents(bundled_corpus_path()), path)
    return Index.load(path)


@pytest.fixture(scope="module")
def queries() -> dict[str, str]:
    return read_queries(bundled_queries_path(), split="test")


@pytest.fixture(scope="module")
def results(index, queries) -> dict[str, EvaluationResult]:
    qrels = read_qrels(bundled_qrels_path("test"))
    evaluated = {}
    for mode in ("bm25", "dense", "hybrid"):
        ranked = search_queries(index, queries, mode=mode, top_k=TOP_K)
        evaluated[mode] = evaluate(
            results_to_run(ranked), qrels, ["ndcg@10", "recall@100"], corpus_ids=index.documents.doc_ids
        )
    return evaluated


def test_bundled_scifact_sizes(index, queries, results):
    assert len(index) == 5183
    assert len(queries) == 300
    assert results["hybrid"].num_queries == 300
    assert results["hybrid"].queries_missing_from_run == ()


def test_bm25_ndcg_bar(results):
    ndcg = results["bm25"].means["ndcg@10"]
    assert ndcg >= MIN_BM25_NDCG, f"BM25 nDCG@10 {ndcg:.4f} is below {MIN_BM25_NDCG}"


def test_dense_ndcg_bar(results):
    ndcg = results["dense"].means["ndcg@10"]
    assert ndcg >= MIN_DENSE_NDCG, f"dense nDCG@10 {ndcg:.4f} is below {MIN_DENSE_NDCG}"


def test_hybrid_ndcg_bar(results):
    ndcg = results["hybrid"].means["ndcg@10"]
    assert ndcg >= MIN_HYBRID_NDCG, f"hybrid nDCG@10 {ndcg:.4f} is below {MIN_HYBRID_NDCG}"


def test_hybrid_recall_bar(results):
    recall = results["hybrid"].means["recall@100"]
    assert recall >= MIN_HYBRID_RECALL, f"hybrid recall@100 {recall:.4f} is below {MIN_HYBRID_RECALL}"


def test_hybrid_beats_bm25(results):
    hybrid, bm25 = results["hybrid"].means["ndcg@10"], results["bm25"].means["ndcg@10"]
    assert hybrid > bm25, f"hybrid nDCG@10 {hybrid:.4f} is not above BM25's {bm25:.4f}"


def test_hybrid_beats_dense(results):
    hybrid, dense = results["hybrid"].means["ndcg@10"], results["dense"].means["ndcg@10"]
    assert hybrid > dense, f"hybrid nDCG@10 {hybrid:.4f} is not above dense's {dense:.4f}"
