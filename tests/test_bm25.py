"""BM25 scores checked against rank-bm25 and against the Lucene formula on real abstracts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from medsearch.indexer.bm25 import BM25Config, BM25Index, top_k
from medsearch.indexer.tokenizer import BiomedicalTokenizer

TEST_DATA = Path(__file__).resolve().parent / "data"

QUERIES = [
    "folic acid supplementation lowers homocysteine",
    "ADAR1 and Dicer in microRNA processing",
    "prion protein in appendix tissue after BSE",
    "neonatal mortality in Indonesia and rural China",
]


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    with (TEST_DATA / "scifact-50.jsonl").open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    return [f"{record['title']}\n\n{record['text']}" for record in records]


def test_robertson_equals_rank_bm25_okapi(corpus_texts):
    tokenizer = BiomedicalTokenizer()
    corpus_tokens = tokenizer.tokenize_many(corpus_texts)
    config = BM25Config(k1=1.5, b=0.75, method="robertson")
    index = BM25Index.build(corpus_texts, config=config, tokenizer=tokenizer)
    reference = BM25Okapi(corpus_tokens, k1=1.5, b=0.75)

    for query in QUERIES:
        terms = tokenizer.tokenize(query)
        # rank-bm25 floors negative idf at epsilon * mean idf while bm25s floors it at 0:
        # keep to terms in fewer than half the documents, where both idfs agree.
        assert all(reference.idf[term] > 0 for term in terms if term in reference.idf)
        ours = index.scores(query)
        # BM25Okapi multiplies every term by the constant (k1 + 1); bm25s leaves it out,
        # as Lucene does, which changes no ranking.
        np.testing.assert_allclose(ours * (1.5 + 1), reference.get_scores(terms), rtol=1e-5, atol=1e-6)


def test_lucene_variant_matches_formula(corpus_texts):
    tokenizer = BiomedicalTokenizer()
    corpus_tokens = tokenizer.tokenize_many(corpus_texts)
    k1, b = 0.9, 0.4
    index = BM25Index.build(corpus_texts, config=BM25Config(k1=k1, b=b, method="lucene"), tokenizer=tokenizer)
    n_docs = len(corpus_tokens)
    average_length = sum(map(len, corpus_tokens)) / n_docs

    query = QUERIES[0]
    expected = np.zeros(n_docs)
    for term in tokenizer.tokenize(query):
        df = sum(term in tokens for tokens in corpus_tokens)
        if df == 0:
            continue
        # Lucene BM25 (Kamphuis et al., ECIR 2020): idf = ln(1 + (N - df + 0.5) / (df + 0.5)).
        idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        for row, tokens in enumerate(corpus_tokens):
            tf = tokens.count(term)
            expected[row] += idf * tf / (tf + k1 * (1 - b + b * len(tokens) / average_length))

    np.testing.assert_allclose(index.scores(query), expected, rtol=1e-5, atol=1e-6)


def test_search_returns_matching_documents_only(corpus_texts):
    index = BM25Index.build(corpus_texts)
    rows, scores = index.search("ADAR1 Dicer", k=10)
    assert 0 < len(rows) < 10
    assert all(score > 0 for score in scores)
    assert all("adar1" in corpus_texts[row].lower() or "dicer" in corpus_texts[row].lower() for row in rows)


def test_unknown_and_stop_word_queries_score_zero(corpus_texts):
    index = BM25Index.build(corpus_texts)
    assert not index.scores("zzzyxq").any()
    rows, _ = index.search("the of and", k=5)
    assert len(rows) == 0


def test_save_and_load_memory_mapped(corpus_texts, tmp_path):
    index = BM25Index.build(corpus_texts)
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path, index.config, mmap=True)
    for query in QUERIES:
        np.testing.assert_allclose(loaded.scores(query), index.scores(query))


def test_top_k_breaks_ties_and_keeps_boundary():
    scores = np.array([0.0, 2.0, 1.0, 2.0, 2.0, 0.5], dtype=np.float32)
    rows, values = top_k(scores, 2)
    assert rows.tolist() == [1, 3]
    assert values.tolist() == [2.0, 2.0]
    rows, _ = top_k(scores, 2, tie_order=np.array([0, 5, 0, 4, 1, 0]))
    assert rows.tolist() == [4, 3]
    rows, _ = top_k(scores, 10)
    assert rows.tolist() == [1, 3, 4, 2, 5]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="unknown BM25 method"):
        BM25Config(method="okapi")
    with pytest.raises(ValueError, match="0 <= b <= 1"):
        BM25Config(b=1.5)
