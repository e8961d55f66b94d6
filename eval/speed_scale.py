"""Scale benchmarks: a synthetic corpus of real PubMed sentences, BM25 served memory-mapped,
and hybrid search over it.

A synthetic document is a random draw of real abstract sentences, as many as a random real
abstract has, so term frequencies, document lengths and the vocabulary follow real
abstracts while the corpus grows to any size. The sentences are tokenized once and the
documents are assembled from their token ids, which makes a million documents fast to
index. The synthetic corpus has no relevance judgments: it measures speed and size only.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import pyarrow as pa

from medsearch.data.document import Document
from medsearch.indexer.bm25 import BM25Config, BM25Index
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.encoder import Encoder
from medsearch.indexer.manifest import Manifest
from medsearch.indexer.passages import split_sentences
from medsearch.indexer.store import DocumentStore
from medsearch.indexer.tokenizer import BiomedicalTokenizer
from medsearch.retriever.index import Index

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentencePool:
    """Tokenized real sentences to draw synthetic documents from.

    Attributes:
        sentences: the sentence texts.
        token_ids: per sentence, its terms as ids into ``vocabulary``.
        vocabulary: term to id.
        sentences_per_document: the sentence count of each real abstract, title included.
    """

    sentences: list[str]
    token_ids: list[list[int]]
    vocabulary: dict[str, int]
    sentences_per_document: np.ndarray


@dataclass(frozen=True)
class ScaleBM25Result:
    """A synthetic BM25 index: size, build time, and memory-mapped search speed."""

    documents: int
    build_seconds: float
    bytes_on_disk: int
    load_seconds: float
    queries: int
    queries_per_second: float
    load_average: float


def sentence_pool(documents: Iterable[Document], tokenizer: BiomedicalTokenizer | None = None) -> SentencePool:
    """Split the titles and abstracts of ``documents`` into sentences and tokenize each once."""
    tokenizer = tokenizer or BiomedicalTokenizer()
    sentences: list[str] = []
    counts: list[int] = []
    for document in documents:
        parts = [document.abstract[start:end] for start, end in split_sentences(document.abstract)]
        if document.title:
            parts.insert(0, document.title)
        if parts:
            sentences.extend(parts)
            counts.append(len(parts))
    vocabulary: dict[str, int] = {}
    token_ids = [[vocabulary.setdefault(term, len(vocabulary)) for term in tokenizer.tokenize(text)] for text in sentences]
    logger.info("Sentence pool: %d sentences from %d abstracts, %d terms", len(sentences), len(counts), len(vocabulary))
    return SentencePool(sentences, token_ids, vocabulary, np.asarray(counts, dtype=np.int64))


def synthetic_documents(pool: SentencePool, num_docs: int, *, seed: int = 0) -> tuple[list[list[int]], np.ndarray]:
    """Draw ``num_docs`` documents; return their token ids and each one's first sentence row.

    The first sentence of each document serves as its title in the document store.
    """
    rng = np.random.default_rng(seed)
    lengths = pool.sentences_per_document[rng.integers(0, len(pool.sentences_per_document), size=num_docs)]
    rows = rng.integers(0, len(pool.sentences), size=int(lengths.sum()))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    token_ids = pool.token_ids
    corpus = []
    for start, length in zip(starts.tolist(), lengths.tolist()):
        ids: list[int] = []
        for row in rows[start : start + length].tolist():
            ids.extend(token_ids[row])
        corpus.append(ids)
    return corpus, rows[starts]


def build_synthetic_bm25(pool: SentencePool, corpus: list[list[int]], config: BM25Config | None = None) -> BM25Index:
    """Index token-id documents from :func:`synthetic_documents` with medsearch's BM25 settings."""
    config = config or BM25Config()
    model = bm25s.BM25(k1=config.k1, b=config.b, method=config.method)
    model.index((corpus, dict(pool.vocabulary)), show_progress=False)
    return BM25Index(model, BiomedicalTokenizer(), config)


def measure_scale_bm25(
    pool: SentencePool, num_docs: int, queries: Sequence[str], directory: Path, *, k: int = 10
) -> tuple[ScaleBM25Result, list[list[int]], np.ndarray]:
    """Build a ``num_docs``-document synthetic BM25 index, save it, load it memory-mapped and time queries.

    Returns:
        The result, the synthetic corpus's token ids and its title sentence rows (see
        :func:`synthetic_documents`), for building a hybrid index on the same documents.
    """
    started = time.perf_counter()
    corpus, title_rows = synthetic_documents(pool, num_docs)
    built = build_synthetic_bm25(pool, corpus)
    built.save(directory)
    build_seconds = time.perf_counter() - started
    del built
    size = sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
    logger.info("Synthetic BM25 over %d documents built in %.1f s, %.0f MB", num_docs, build_seconds, size / 1e6)

    started = time.perf_counter()
    loaded = BM25Index.load(directory, BM25Config(), mmap=True)
    load_seconds = time.perf_counter() - started
    loaded.search(queries[0], k)
    started = time.perf_counter()
    for query in queries:
        loaded.search(query, k)
    rate = len(queries) / (time.perf_counter() - started)
    result = ScaleBM25Result(
        documents=num_docs,
        build_seconds=build_seconds,
        bytes_on_disk=size,
        load_seconds=load_seconds,
        queries=len(queries),
        queries_per_second=rate,
        load_average=os.getloadavg()[0],
    )
    return result, corpus, title_rows


def assemble_index(
    pool: SentencePool,
    title_rows: np.ndarray,
    bm25_dir: Path,
    dense: DenseIndex,
    encoder: Encoder,
) -> Index:
    """Open a hybrid :class:`Index` over the synthetic documents without writing a document store.

    The BM25 part is loaded memory-mapped from ``bm25_dir``, and ``dense`` has one vector per
    document. Each stored document has its first sentence as title and no abstract.
    """
    num_docs = len(title_rows)
    table = pa.table(
        {
            "doc_id": pa.array([f"s{row}" for row in range(num_docs)]),
            "title": pa.array([pool.sentences[row] for row in title_rows.tolist()]),
            "abstract": pa.array([""] * num_docs),
            "pmid": pa.nulls(num_docs, pa.string()),
            "year": pa.nulls(num_docs, pa.int32()),
            "journal": pa.nulls(num_docs, pa.string()),
            "mesh_terms": pa.array([[]] * num_docs, type=pa.list_(pa.string())),
            "publication_types": pa.array([[]] * num_docs, type=pa.list_(pa.string())),
            "doi": pa.nulls(num_docs, pa.string()),
        }
    )
    bm25 = BM25Index.load(bm25_dir, BM25Config(), mmap=True)
    manifest = Manifest(
        medsearch_version="benchmark",
        encoder={"name": encoder.name, "dim": encoder.dim},
        passages={},
        bm25=bm25.manifest_entry(),
        dense=dense.manifest_entry(),
        counts={"documents": num_docs, "passages": dense.num_passages},
    )
    return Index(bm25_dir, manifest, DocumentStore(table), bm25, dense, encoder=encoder)
