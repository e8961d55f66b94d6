"""Approximate nearest-neighbour search measured against exact search on the same vectors.

Recall@10 is the share of the exact top 10 passages (by inner product, from a flat index)
that the approximate index also returns in its top 10, averaged over the queries. Speed is
measured one query per call on one thread, the way an interactive search runs, with the
exact and the approximate index timed in alternating rounds so that a change in machine
load hits both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from medsearch.indexer.index_types import (
    IndexSpec,
    apply_search_params,
    create_index,
    resolve_index_spec,
)

logger = logging.getLogger(__name__)

RECALL_K = 10


@dataclass(frozen=True)
class AnnResult:
    """One approximate index and its search parameters, measured against exact search.

    Attributes:
        index_type: the requested type (``hnsw``, ``ivfpq``, a factory string).
        factory: the FAISS factory string built.
        search_params: the search-time parameters in force.
        num_vectors: vectors in the index.
        build_seconds: training plus adding, wall clock.
        bytes_per_vector: serialized index size divided by ``num_vectors``.
        recall_at_10: mean share of the exact top 10 found, in [0, 1].
        queries_per_second: single-query searches per second.
        exact_queries_per_second: the same for the flat index, in the same rounds.
    """

    index_type: str
    factory: str
    search_params: dict[str, float]
    num_vectors: int
    build_seconds: float
    bytes_per_vector: float
    recall_at_10: float
    queries_per_second: float
    exact_queries_per_second: float

    @property
    def speedup(self) -> float:
        """Queries per second relative to exact search."""
        return self.queries_per_second / self.exact_queries_per_second


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int = RECALL_K) -> tuple[faiss.Index, np.ndarray]:
    """Return a flat index over ``vectors`` and the ``(num_queries, k)`` exact top-k ids."""
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    _, ids = flat.search(queries, k)
    return flat, ids


def build_ann(index_type: str, vectors: np.ndarray) -> tuple[IndexSpec, faiss.Index, float]:
    """Build ``index_type`` over ``(num_vectors, dim)`` float32 unit vectors; return it with its build seconds."""
    spec = resolve_index_spec(index_type, num_vectors=len(vectors), dim=vectors.shape[1])
    started = time.perf_counter()
    index = create_index(spec, vectors)
    seconds = time.perf_counter() - started
    logger.info("Built %s over %d vectors in %.1f s", spec.factory, len(vectors), seconds)
    return spec, index, seconds


def evaluate_ann(
    spec: IndexSpec,
    index: faiss.Index,
    build_seconds: float,
    flat: faiss.Index,
    truth: np.ndarray,
    queries: np.ndarray,
    *,
    param_grid: Sequence[dict[str, float]] = (),
    timing_queries: int = 200,
    rounds: int = 2,
) -> list[AnnResult]:
    """Measure recall@10 and speed of a built index against exact search.

    Args:
        spec: the index's resolved type.
        index: the index, built by :func:`build_ann`.
        build_seconds: its build time, copied into the results.
        flat: the exact index over the same vectors.
        truth: ``(num_queries, 10)`` exact top-10 ids of ``queries``.
        queries: ``(num_queries, dim)`` float32 unit vectors; all give recall.
        param_grid: search-parameter settings to measure besides the defaults, e.g.
            ``[{"efSearch": 64}, {"efSearch": 256}]``.
        timing_queries: the first this many queries are timed.
        rounds: alternating timing rounds; each rate is the best round's.

    Returns:
        One result per parameter setting, the defaults first. The index keeps the
        default parameters afterwards.
    """
    size = faiss.serialize_index(index).nbytes / index.ntotal
    timed = queries[:timing_queries]
    results = []
    for params in [{}, *param_grid]:
        merged = {**spec.search_params, **params}
        apply_search_params(index, merged)
        recall = _recall(index, queries, truth)
        rate, exact_rate = _alternating_rates(index, flat, timed, rounds)
        results.append(
            AnnResult(
                index_type=spec.requested,
                factory=spec.factory,
                search_params=merged,
                num_vectors=int(index.ntotal),
                build_seconds=build_seconds,
                bytes_per_vector=size,
                recall_at_10=recall,
                queries_per_second=rate,
                exact_queries_per_second=exact_rate,
            )
        )
        logger.info("%s %s: recall@10 %.4f, %.0f q/s (exact %.0f q/s)", spec.factory, merged, recall, rate, exact_rate)
    apply_search_params(index, spec.search_params)
    return results


def _recall(index: faiss.Index, queries: np.ndarray, truth: np.ndarray) -> float:
    _, found = index.search(queries, RECALL_K)
    hits = [len(set(row.tolist()) & set(expected.tolist())) for row, expected in zip(found, truth)]
    return float(np.mean(hits)) / RECALL_K


def _alternating_rates(index: faiss.Index, flat: faiss.Index, queries: np.ndarray, rounds: int) -> tuple[float, float]:
    # One FAISS thread for both sides, so that the ratio compares the algorithms, not how
    # each spreads one query over the cores. Exact search on an idle multi-core machine
    # can use every core for one query, so there the speedup is smaller.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    best = {"ann": 0.0, "exact": 0.0}
    try:
        for _ in range(rounds):
            for name, searched in (("ann", index), ("exact", flat)):
                started = time.perf_counter()
                for row in range(len(queries)):
                    searched.search(queries[row : row + 1], RECALL_K)
                best[name] = max(best[name], len(queries) / (time.perf_counter() - started))
    finally:
        faiss.omp_set_num_threads(threads)
    return best["ann"], best["exact"]
