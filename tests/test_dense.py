from __future__ import annotations

import numpy as np
import pytest

from medsearch.indexer.dense import DenseIndex


def unit_rows(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def brute_force(vectors, passage_docs, query, k):
    scores = vectors @ query
    best: dict[int, float] = {}
    for passage, doc in enumerate(passage_docs.tolist()):
        best[doc] = max(best.get(doc, -np.inf), float(scores[passage]))
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [doc for doc, _ in ranked], [score for _, score in ranked]


def test_document_score_is_best_passage():
    rng = np.random.default_rng(7)
    passage_counts = rng.integers(1, 5, size=200)
    passage_docs = np.repeat(np.arange(200), passage_counts)
    vectors = unit_rows(rng, len(passage_docs), 16)
    index = DenseIndex.build(vectors, passage_docs)
    queries = unit_rows(rng, 5, 16)

    results = index.search(queries, k=10)

    for query, (rows, scores) in zip(queries, results):
        expected_rows, expected_scores = brute_force(vectors, passage_docs, query, 10)
        assert rows.tolist() == expected_rows
        np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)


def test_search_deepens_when_one_document_holds_top_passages():
    # Document 0 has 50 passages nearly equal to the query, so the first search depth
    # (2k + 8 passages) returns passages of document 0 only and must search deeper to find 3 documents.
    rng = np.random.default_rng(3)
    query = unit_rows(rng, 1, 8)
    near = query + 0.01 * rng.standard_normal((50, 8)).astype(np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    far = unit_rows(rng, 20, 8)
    vectors = np.vstack([near, far])
    passage_docs = np.concatenate([np.zeros(50, dtype=np.int64), np.arange(1, 21)])
    index = DenseIndex.build(vectors, passage_docs)

    rows, _ = index.search(query, k=3)[0]

    expected, _ = brute_force(vectors, passage_docs, query[0], 3)
    assert rows.tolist() == expected


def test_k_larger_than_corpus_returns_all_documents():
    rng = np.random.default_rng(1)
    index = DenseIndex.build(unit_rows(rng, 4, 8), np.array([0, 0, 1, 2]))
    rows, _ = index.search(unit_rows(rng, 1, 8), k=10)[0]
    assert sorted(rows.tolist()) == [0, 1, 2]


def test_ties_broken_by_tie_order():
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    index = DenseIndex.build(vectors, np.array([0, 1, 2]))
    query = np.array([[1.0, 0.0]], dtype=np.float32)
    rows, _ = index.search(query, k=2, tie_order=np.array([1, 0, 2]))[0]
    assert rows.tolist() == [1, 0]


def test_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    vectors = unit_rows(rng, 30, 8)
    index = DenseIndex.build(vectors, np.arange(30) // 3)
    index.save(tmp_path)
    loaded = DenseIndex.load(tmp_path, "Flat")
    query = unit_rows(rng, 2, 8)
    for (rows_a, scores_a), (rows_b, scores_b) in zip(index.search(query, 5), loaded.search(query, 5)):
        assert rows_a.tolist() == rows_b.tolist()
        np.testing.assert_allclose(scores_a, scores_b)


def test_rejects_nonpositive_k():
    index = DenseIndex.build(np.eye(2, dtype=np.float32), np.array([0, 1]))
    with pytest.raises(ValueError, match="k must be a positive"):
        index.search(np.eye(2, dtype=np.float32)[:1], k=0)
