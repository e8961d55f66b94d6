"""Build runs by searching an index with every query of a test collection."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from medsearch.errors import MedsearchError

logger = logging.getLogger(__name__)

__all__ = ["RankedResults", "Searcher", "results_to_run", "search_queries"]

RankedResults = dict[str, list[tuple[str, float]]]
"""``{query_id: [(doc_id, score), ...]}`` in rank order, the input of :func:`write_run`."""


class Hit(Protocol):
    """One search result as the retriever returns it."""

    doc_id: str
    score: float
    rank: int


class Searcher(Protocol):
    """The index interface that evaluation uses, implemented by ``medsearch.retriever.Index``."""

    def search_many(
        self, queries: list[str], k: int, mode: str, show_progress: bool = False
    ) -> Sequence[Sequence[Hit]]:
        """Return the top ``k`` hits of every query, in query order and rank order."""
        ...


def search_queries(
    searcher: Searcher,
    queries: Mapping[str, str],
    *,
    mode: str,
    top_k: int,
    show_progress: bool = False,
) -> RankedResults:
    """Search every query and return the ranked results per query id.

    Args:
        searcher: an index with ``search_many``.
        queries: ``{query_id: text}``; searched in this order.
        mode: the retrieval mode passed to ``search_many``, such as ``"bm25"``.
        top_k: the number of hits requested per query (the run depth).
        show_progress: ask the searcher for a progress bar.

    Raises:
        MedsearchError: the searcher returns a different number of hit lists than queries, or
            the same doc id twice for one query.
    """
    if top_k < 1:
        raise MedsearchError(f"top_k={top_k} must be at least 1")
    query_ids = list(queries)
    started = time.perf_counter()

    hit_lists = searcher.search_many(
        [queries[query_id] for query_id in query_ids],
        k=top_k,
        mode=mode,
        show_progress=show_progress,
    )
    if len(hit_lists) != len(query_ids):
        raise MedsearchError(
            f"search_many returned {len(hit_lists)} hit lists for {len(query_ids)} queries "
            f"in mode {mode!r}"
        )

    results: RankedResults = {}
    for query_id, hits in zip(query_ids, hit_lists):
        ranked = [(str(hit.doc_id), float(hit.score)) for hit in hits]
        doc_ids = [doc_id for doc_id, _ in ranked]
        if len(set(doc_ids)) != len(doc_ids):
            duplicate = next(doc_id for doc_id in doc_ids if doc_ids.count(doc_id) > 1)
            raise MedsearchError(
                f"mode {mode!r} returned doc {duplicate!r} more than once for query {query_id!r}"
            )
        results[query_id] = ranked

    logger.info(
        "Searched %d queries in mode %s (top %d) in %.1f s",
        len(query_ids),
        mode,
        top_k,
        time.perf_counter() - started,
    )
    return results


def results_to_run(
    results: Mapping[str, Sequence[tuple[str, float]]],
) -> dict[str, dict[str, float]]:
    """Convert ranked results into the ``run[query_id][doc_id] = score`` mapping."""
    return {query_id: dict(ranked) for query_id, ranked in results.items()}
