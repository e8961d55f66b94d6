"""The dense index: one FAISS vector per passage, scored per document by the best passage."""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

logger = logging.getLogger(__name__)

FAISS_FILENAME = "dense.faiss"
PASSAGE_DOCS_FILENAME = "passage_docs.npy"
EXACT_INDEX_TYPE = "Flat"


class DenseIndex:
    """Passage vectors in FAISS plus the document row of each passage.

    Args:
        index: a FAISS index with inner-product metric over unit vectors (cosine).
        passage_docs: ``(num_passages,)`` int64 array; entry ``i`` is the document row of
            passage ``i``. Passages of one document are contiguous.
        index_type: the FAISS factory string the index was built with.
    """

    def __init__(self, index: faiss.Index, passage_docs: np.ndarray, index_type: str = EXACT_INDEX_TYPE):
        if index.ntotal != passage_docs.shape[0]:
            raise ValueError(
                f"FAISS index has {index.ntotal} vectors but {passage_docs.shape[0]} passage rows"
            )
        self.index = index
        self.passage_docs = passage_docs
        self.index_type = index_type

    @classmethod
    def build(cls, vectors: np.ndarray, passage_docs: np.ndarray) -> DenseIndex:
        """Index ``(num_passages, dim)`` float32 unit vectors for exact inner-product search."""
        index = faiss.index_factory(vectors.shape[1], EXACT_INDEX_TYPE, faiss.METRIC_INNER_PRODUCT)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, np.asarray(passage_docs, dtype=np.int64))

    @property
    def dim(self) -> int:
        """Vector length."""
        return int(self.index.d)

    @property
    def num_passages(self) -> int:
        """Vectors in the index."""
        return int(self.index.ntotal)

    def search(
        self, query_vectors: np.ndarray, k: int, tie_order: np.ndarray | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return, per query, the rows and scores of the ``k`` best documents.

        Args:
            query_vectors: ``(num_queries, dim)`` float32 unit vectors.
            k: documents per query.
            tie_order: sort key per document row that breaks equal scores (ascending);
                ``None`` breaks ties by row number.

        Returns:
            One ``(rows, scores)`` pair per query, ordered by descending score then
            ``tie_order``. A document's score is the maximum over its passages.
        """
        if k <= 0:
            raise ValueError(f"k must be a positive number of results, got {k}")
        query_vectors = np.ascontiguousarray(query_vectors, dtype=np.float32)
        depth = min(self.num_passages, 2 * k + 8)
        results: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(query_vectors)
        pending = np.arange(len(query_vectors))
        while pending.size:
            scores, passages = self.index.search(query_vectors[pending], depth)
            still_short = []
            for position, query in enumerate(pending):
                rows, doc_scores = _best_per_document(
                    passages[position], scores[position], self.passage_docs, k, tie_order
                )
                if rows.size < k and depth < self.num_passages:
                    # The top passages came from too few documents: search deeper.
                    still_short.append(query)
                else:
                    results[query] = (rows, doc_scores)
            pending = np.asarray(still_short, dtype=np.int64)
            depth = min(self.num_passages, depth * 4)
        return results  # type: ignore[return-value]

    def save(self, directory: Path) -> None:
        """Write the FAISS index and the passage-to-document rows under ``directory``."""
        faiss.write_index(self.index, str(directory / FAISS_FILENAME))
        np.save(directory / PASSAGE_DOCS_FILENAME, self.passage_docs, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, index_type: str, *, mmap: bool = True) -> DenseIndex:
        """Load an index written by :meth:`save`."""
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        index = faiss.read_index(str(directory / FAISS_FILENAME), flags)
        passage_docs = np.load(directory / PASSAGE_DOCS_FILENAME, allow_pickle=False)
        return cls(index, passage_docs, index_type)


def _best_per_document(
    passages: np.ndarray,
    scores: np.ndarray,
    passage_docs: np.ndarray,
    k: int,
    tie_order: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    valid = passages >= 0
    passages, scores = passages[valid], scores[valid]
    rows = passage_docs[passages]
    # FAISS returns passages by descending score, so the first passage seen for a
    # document is its best one: keep first occurrences.
    unique_rows, first = np.unique(rows, return_index=True)
    best = scores[first]
    ties = unique_rows if tie_order is None else tie_order[unique_rows]
    order = np.lexsort((ties, -best))[:k]
    return unique_rows[order], best[order].astype(np.float32)
