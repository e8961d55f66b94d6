"""The speed benchmark's parts on tiny inputs: correctness of what they build, never timings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medsearch.data import read_documents
from medsearch.eval.speed import Machine, ScaleReport, SpeedReport
from medsearch.eval.speed_ann import AnnResult, build_ann, evaluate_ann, exact_top_k
from medsearch.eval.speed_encoding import measure_encoding
from medsearch.eval.speed_report import format_scale, format_speed
from medsearch.eval.speed_scale import (
    ScaleBM25Result,
    build_synthetic_bm25,
    sentence_pool,
    synthetic_documents,
)
from medsearch.eval.speed_search import BM25Comparison, Latency, compare_bm25, index_bytes, measure_cold_start
from medsearch.eval.speed_vectors import pad_with_synthetic
from medsearch.indexer.bm25 import BM25Index
from medsearch.indexer.build import build_index
from medsearch.indexer.passages import split_passages

CORPUS = Path(__file__).resolve().parent / "data" / "scifact-50.jsonl"


def unit_rows(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_padding_keeps_real_rows_and_unit_norm():
    real = unit_rows(np.random.default_rng(0), 50, 16)

    padded = pad_with_synthetic(real, 300, seed=1)

    assert padded.shape == (300, 16)
    np.testing.assert_array_equal(padded[:50], real)
    np.testing.assert_allclose(np.linalg.norm(padded, axis=1), 1.0, atol=1e-5)
    assert len(np.unique(padded.round(6), axis=0)) == 300
    np.testing.assert_array_equal(padded, pad_with_synthetic(real, 300, seed=1))


def test_padding_below_real_count_truncates():
    real = unit_rows(np.random.default_rng(0), 50, 16)
    assert pad_with_synthetic(real, 20).shape == (20, 16)


def test_synthetic_bm25_equals_bm25_of_joined_sentences():
    # A synthetic document's token ids are its sentences' tokens in order, so indexing the
    # joined sentence texts with the normal pipeline must give the same scores.
    documents = list(read_documents(CORPUS))
    pool = sentence_pool(documents)
    corpus, _ = synthetic_documents(pool, 40, seed=3)
    synthetic = build_synthetic_bm25(pool, corpus)

    rng = np.random.default_rng(3)
    lengths = pool.sentences_per_document[rng.integers(0, len(pool.sentences_per_document), size=40)]
    rows = rng.integers(0, len(pool.sentences), size=int(lengths.sum()))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    texts = [" ".join(pool.sentences[row] for row in rows[start : start + length]) for start, length in zip(starts, lengths)]
    reference = BM25Index.build(texts)

    for query in ("stem cell differentiation", "DNA methylation in blood", "myelin basic protein"):
        np.testing.assert_allclose(synthetic.scores(query), reference.scores(query), rtol=1e-5)


def test_sentence_pool_counts_title_as_sentence():
    documents = list(read_documents(CORPUS))[:3]
    pool = sentence_pool(documents)
    assert len(pool.sentences_per_document) == 3
    assert pool.sentences[0] == documents[0].title
    assert int(pool.sentences_per_document.sum()) == len(pool.sentences)


def test_exact_index_has_full_recall():
    rng = np.random.default_rng(2)
    vectors, queries = unit_rows(rng, 500, 16), unit_rows(rng, 20, 16)
    flat, truth = exact_top_k(vectors, queries)
    spec, index, seconds = build_ann("flat", vectors)

    results = evaluate_ann(spec, index, seconds, flat, truth, queries, timing_queries=5, rounds=1)

    assert len(results) == 1
    assert results[0].recall_at_10 == 1.0
    assert results[0].bytes_per_vector >= 16 * 4


def test_evaluate_ann_measures_each_setting_and_restores_defaults():
    rng = np.random.default_rng(2)
    vectors, queries = unit_rows(rng, 2000, 16), unit_rows(rng, 20, 16)
    flat, truth = exact_top_k(vectors, queries)
    spec, index, seconds = build_ann("hnsw", vectors)

    results = evaluate_ann(spec, index, seconds, flat, truth, queries, param_grid=[{"efSearch": 16}], timing_queries=5, rounds=1)

    assert [result.search_params["efSearch"] for result in results] == [spec.search_params["efSearch"], 16]
    assert all(0.0 <= result.recall_at_10 <= 1.0 for result in results)
    assert results[0].recall_at_10 >= results[1].recall_at_10
    assert index.hnsw.efSearch == spec.search_params["efSearch"]


def test_compare_bm25_runs_both_engines():
    texts = [document.text for document in read_documents(CORPUS)]
    result = compare_bm25(texts, ["stem cells", "DNA methylation"], k=5, rounds=1)
    assert result.documents == 50
    assert result.medsearch_qps > 0
    assert result.rank_bm25_qps > 0


def test_cold_start_and_index_bytes(tmp_path, encoder):
    documents = list(read_documents(CORPUS))[:10]
    build_index(documents, tmp_path / "index", encoder=encoder)

    cold = measure_cold_start(tmp_path / "index", "stem cells", "bm25")
    parts = index_bytes(tmp_path / "index")

    assert cold.seconds > 0
    assert cold.peak_rss_mb > 0
    assert parts["documents"] > 0
    assert parts["bm25"] > 0
    assert parts["dense"] > 0


def test_cold_start_reports_failure(tmp_path):
    with pytest.raises(RuntimeError, match="failed with exit status 1"):
        measure_cold_start(tmp_path / "missing", "stem cells", "bm25")


def machine() -> Machine:
    return Machine(cpu="Test CPU", cores=2, python="3.12", date="2026-01-01", load_before=1.0, accelerator="none")


def test_speed_report_marks_targets():
    report = SpeedReport(
        machine=machine(),
        command="medsearch bench speed",
        bm25=BM25Comparison(documents=100, queries=10, k=10, medsearch_qps=600.0, rank_bm25_qps=10.0,
                            load_before=1.0, load_after=1.0),
        latency=[Latency("bm25", 10, 1.0, 2.0), Latency("hybrid", 10, 20.0, 30.0)],
        index_documents=100,
        index_parts={"documents": 1000, "bm25": 500, "dense": 2000, "other": 10},
    )

    text = format_speed(report)

    assert "| BM25 >= 50x rank-bm25 q/s | 60x | yes |" in text
    assert "| hybrid p50 <= 15 ms warm (100 docs) | 20.0 ms | no |" in text
    assert "| total | 3,510 | 35 |" in text
    assert "Test CPU, 2 cores" in text


def test_scale_report_flags_small_scale():
    result = AnnResult(index_type="ivfpq", factory="IVF64,PQ8x8,Refine(SQ8)", search_params={"nprobe": 8},
                       num_vectors=5000, build_seconds=1.0, bytes_per_vector=60.0, recall_at_10=0.97,
                       queries_per_second=2000.0, exact_queries_per_second=100.0)
    report = ScaleReport(
        machine=machine(),
        command="medsearch bench speed --scale 5000",
        bm25=ScaleBM25Result(documents=5000, build_seconds=2.0, bytes_on_disk=10_000_000, load_seconds=0.1,
                             queries=10, queries_per_second=900.0, load_average=1.0),
        ann=[result],
        real_vectors=1000,
    )

    text = format_scale(report)

    assert "(measured below 1,000,000 documents) | 900 q/s | yes |" in text
    assert "IVF64,PQ8x8,Refine(SQ8): 0.970 at 20.0x | yes |" in text


def test_measure_encoding_counts_passages(encoder):
    documents = list(read_documents(CORPUS))[:4]
    expected = sum(
        len(split_passages(doc.title, doc.abstract, max_tokens=encoder.max_seq_length, count_tokens=encoder.count_tokens))
        for doc in documents
    )

    result = measure_encoding(documents, encoder, rounds=1)

    assert result.documents == 4
    assert result.passages == expected
    assert len(result.plain_rates) == 1
    assert result.ratio > 0
    assert result.precision == encoder.precision
