"""The dense index: one FAISS vector per passage, scored per document by the best passage."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import faiss
import numpy as np

from medsearch.indexer.faiss_gpu import index_to_cpu, index_to_gpu
from medsearch.indexer.index_types import (
    FLAT_FACTORY,
    apply_search_params,
    create_index,
    resolve_index_spec,
)

logger = logging.getLogger(__name__)

FAISS_FILENAME = "dense.faiss"
PASSAGE_DOCS_FILENAME = "passage_docs.npy"
EXACT_INDEX_TYPE = FLAT_FACTORY


class DenseIndex:
    """Passage vectors in FAISS plus the document row of each passage.

    Args:
        index: a FAISS index with inner-product metric over unit vectors (cosine).
        passage_docs: ``(num_passages,)`` int64 array; entry ``i`` is the document row of
            passage ``i``. Passages of one document are contiguous.
        index_type: the FAISS factory string the index was built with.
        search_params: ``faiss.ParameterSpace`` settings such as ``{"efSearch": 128}``,
            applied to ``index`` here (see :mod:`medsearch.indexer.index_types`).
        requested_type: the index type asked for at build time (``"auto"``, ``"hnsw"``, ...);
            ``None`` means ``index_type``.

    Raises:
        ValueError: ``index`` and ``passage_docs`` hold different numbers of passages.
        IndexTypeError: a search parameter does not apply to ``index``.
    """

    def __init__(
        self,
        index: faiss.Index,
        passage_docs: np.ndarray,
        index_type: str = EXACT_INDEX_TYPE,
        search_params: dict[str, float] | None = None,
        requested_type: str | None = None,
    ):
        if index.ntotal != passage_docs.shape[0]:
            raise ValueError(
                f"FAISS index has {index.ntotal} vectors but {passage_docs.shape[0]} passage rows"
            )
        self.index = index
        self.passage_docs = passage_docs
        self.index_type = index_type
        self.requested_type = requested_type or index_type
        self.search_params = dict(search_params or {})
        apply_search_params(index, self.search_params)

    @classmethod
    def build(cls, vectors: np.ndarray, passage_docs: np.ndarray, *, index_type: str = "flat") -> DenseIndex:
        """Index ``(num_passages, dim)`` float32 unit vectors for inner-product search.

        Args:
            vectors: one unit vector per passage.
            passage_docs: ``(num_passages,)`` document row of each passage.
            index_type: ``"flat"`` (exact), ``"hnsw"``, ``"ivfpq"``, ``"auto"`` or a FAISS
                factory string; see :mod:`medsearch.indexer.index_types`.

        Raises:
            IndexTypeError: FAISS cannot build ``index_type`` for these vectors.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        spec = resolve_index_spec(index_type, num_vectors=len(vectors), dim=vectors.shape[1])
        started = time.perf_counter()
        index = create_index(spec, vectors)
        if not spec.is_exact:
            logger.info(
                "Built a %s index over %d passages in %.1f s", spec.factory, len(vectors), time.perf_counter() - started
            )
        return cls(
            index,
            np.asarray(passage_docs, dtype=np.int64),
            spec.factory,
            spec.search_params,
            requested_type=spec.requested,
        )

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

    def set_search_params(self, params: dict[str, float]) -> None:
        """Apply search-time parameters such as ``{"nprobe": 64}`` on top of the current ones.

        Raises:
            IndexTypeError: a parameter does not apply to this index type.
        """
        apply_search_params(self.index, params)
        self.search_params.update(params)

    def to_gpu(self) -> DenseIndex:
        """Return a copy whose FAISS index runs on GPU 0.

        Raises:
            FaissGpuError: faiss has no GPU support or cannot run this index type on a GPU.
        """
        return DenseIndex(
            index_to_gpu(self.index),
            self.passage_docs,
            self.index_type,
            self.search_params,
            requested_type=self.requested_type,
        )

    def save(self, directory: Path) -> None:
        """Write the FAISS index and the passage-to-document rows under ``directory``."""
        faiss.write_index(index_to_cpu(self.index), str(directory / FAISS_FILENAME))
        np.save(directory / PASSAGE_DOCS_FILENAME, self.passage_docs, allow_pickle=False)

    @classmethod
    def load(
        cls,
        directory: Path,
        index_type: str,
        *,
        search_params: dict[str, float] | None = None,
        requested_type: str | None = None,
        mmap: bool = True,
    ) -> DenseIndex:
        """Load an index written by :meth:`save`.

        Args:
            directory: the index directory.
            index_type: the factory string recorded at build time.
            search_params: search-time parameters, usually those recorded at build time
                updated with the caller's overrides.
            requested_type: the index type asked for at build time.
            mmap: map the FAISS file instead of reading it into memory.
        """
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        index = faiss.read_index(str(directory / FAISS_FILENAME), flags)
        passage_docs = np.load(directory / PASSAGE_DOCS_FILENAME, allow_pickle=False)
        return cls(index, passage_docs, index_type, search_params, requested_type=requested_type)

    def manifest_entry(self) -> dict[str, object]:
        """Settings recorded under ``dense`` in the index manifest."""
        return {
            "index_type": self.index_type,
            "requested_type": self.requested_type,
            "search_params": dict(self.search_params),
            "metric": "inner_product",
        }


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
