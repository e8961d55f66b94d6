"""Score fusion of ranked lists.

Reciprocal rank fusion follows Cormack, Clarke and Buettcher, "Reciprocal Rank Fusion
outperforms Condorcet and individual Rank Learning Methods" (SIGIR 2009): a document's
fused score is the sum over lists of ``weight / (k + rank)``. Convex fusion min-max
normalises each list's scores to [0, 1] and adds them with weights. Both sort by
descending fused score and then ascending doc id, so equal inputs give equal output.
"""

from __future__ import annotations

from collections.abc import Sequence

RankedList = Sequence[tuple[str, float]]
"""``(doc_id, score)`` pairs, best first."""

DEFAULT_RRF_K = 60


def reciprocal_rank_fusion(
    ranked_lists: Sequence[RankedList],
    *,
    k: float = DEFAULT_RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Fuse ranked lists by weighted reciprocal rank; empty lists contribute nothing.

    Raises:
        ValueError: ``k`` is negative or ``weights`` has the wrong length.
    """
    if k < 0:
        raise ValueError(f"the RRF constant k must be >= 0, got {k}")
    weights = _check_weights(ranked_lists, weights)
    fused: dict[str, float] = {}
    for ranked, weight in zip(ranked_lists, weights):
        for rank, (doc_id, _score) in enumerate(ranked, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + weight / (k + rank)
    return _sorted(fused)


def convex_fusion(
    ranked_lists: Sequence[RankedList],
    *,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Fuse by a weighted sum of min-max normalised scores.

    A list whose scores are all equal normalises to 1.0 for each of its documents. A
    document missing from a list gets 0 from it.
    """
    weights = _check_weights(ranked_lists, weights)
    fused: dict[str, float] = {}
    for ranked, weight in zip(ranked_lists, weights):
        if not ranked:
            continue
        scores = [score for _doc_id, score in ranked]
        low, high = min(scores), max(scores)
        span = high - low
        for doc_id, score in ranked:
            normalised = (score - low) / span if span > 0 else 1.0
            fused[doc_id] = fused.get(doc_id, 0.0) + weight * normalised
    return _sorted(fused)


def _check_weights(ranked_lists: Sequence[RankedList], weights: Sequence[float] | None) -> Sequence[float]:
    if weights is None:
        return [1.0] * len(ranked_lists)
    if len(weights) != len(ranked_lists):
        raise ValueError(f"got {len(weights)} weights for {len(ranked_lists)} ranked lists")
    return weights


def _sorted(fused: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
