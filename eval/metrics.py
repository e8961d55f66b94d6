"""Per-query retrieval metrics computed the way trec_eval 9 computes them.

Metric names are ``family@k`` with ``k`` a rank cut-off in documents, plus ``map`` at full
depth. Each name corresponds to a trec_eval measure, and the tests check every one against
pytrec_eval (trec_eval's C code) to within 1e-12:

==============  ====================  =========================================================
name            trec_eval measure     value for one query
==============  ====================  =========================================================
``ndcg@k``      ``ndcg_cut.k``        DCG@k / ideal DCG@k, gain = relevance grade,
                                      discount 1 / log2(rank + 1)
``recall@k``    ``recall.k``          relevant in top k / all relevant
``precision@k`` ``P.k``               relevant in top k / k
``success@k``   ``success.k``         1 if any relevant document is in the top k, else 0
``mrr@k``       ``recip_rank`` on     1 / rank of the first relevant document if that rank is
                the top k only        at most k, else 0
``map``         ``map``               sum of precision at each relevant rank / all relevant
``map@k``       ``map_cut.k``         as ``map`` over the top k; the divisor is still all
                                      relevant documents, not min(k, relevant)
==============  ====================  =========================================================

Conventions, all as in trec_eval:

* Ranking: documents are ordered by score descending, and tied scores by doc id descending
  (trec_eval compares doc ids with ``strcmp``, which orders like Python ``str`` comparison for
  UTF-8). The rank column of a run file plays no part. Note that medsearch writes ties in
  ascending doc id order, so on tied scores the rank in a medsearch run file and the rank used
  here differ.
* Relevance: a document is relevant when its grade is at least 1 (trec_eval's default
  ``relevance_level``). nDCG uses the grade itself as the gain. Grades of 0 or below give gain 0.
  Unjudged documents count as not relevant.
* A cut-off larger than the ranking: the top k is the whole ranking, and precision@k still
  divides by k.
* A query without relevant documents: every metric is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from medsearch.errors import MedsearchError

__all__ = [
    "DEFAULT_CUTOFFS",
    "DEFAULT_FAMILIES",
    "METRIC_FAMILIES",
    "RELEVANCE_LEVEL",
    "InvalidMetricError",
    "Metric",
    "expand_metrics",
    "parse_metric",
    "rank_documents",
    "score_query",
]

RELEVANCE_LEVEL = 1
"""Minimum relevance grade of a relevant document for every binary metric."""

METRIC_FAMILIES = ("ndcg", "recall", "precision", "mrr", "success", "map")
DEFAULT_FAMILIES = METRIC_FAMILIES
DEFAULT_CUTOFFS = (1, 10, 100, 1000)

_FULL_DEPTH_FAMILIES = frozenset({"map"})


class InvalidMetricError(MedsearchError, ValueError):
    """A metric name or cut-off is not valid."""


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric: a family from :data:`METRIC_FAMILIES` and a rank cut-off ``k``.

    ``k`` is ``None`` only for full-depth ``map``.
    """

    family: str
    k: int | None = None

    def __post_init__(self) -> None:
        if self.family not in METRIC_FAMILIES:
            raise InvalidMetricError(
                f"unknown metric family {self.family!r}; valid: {', '.join(METRIC_FAMILIES)}"
            )
        if self.k is None and self.family not in _FULL_DEPTH_FAMILIES:
            raise InvalidMetricError(f"metric family {self.family!r} needs a cut-off k")
        valid_k = isinstance(self.k, int) and not isinstance(self.k, bool) and self.k >= 1
        if self.k is not None and not valid_k:
            raise InvalidMetricError(f"cut-off {self.k!r} must be a positive integer")

    @property
    def name(self) -> str:
        """The metric name used in results and output files, such as ``ndcg@10``."""
        return self.family if self.k is None else f"{self.family}@{self.k}"


def parse_metric(name: str) -> Metric:
    """Parse a metric name such as ``ndcg@10``, ``map`` or ``map@100``.

    Raises:
        InvalidMetricError: the family is unknown, ``k`` is not a positive integer, or a
            family that needs a cut-off has none.
    """
    family, at, k_text = name.strip().lower().partition("@")
    if family not in METRIC_FAMILIES:
        raise InvalidMetricError(
            f"unknown metric {name!r}; valid families are {', '.join(METRIC_FAMILIES)}, "
            "written as family@k (or plain 'map' for full depth)"
        )
    if not at:
        if family not in _FULL_DEPTH_FAMILIES:
            raise InvalidMetricError(f"metric {name!r} needs a cut-off, for example {family}@10")
        return Metric(family)

    if not k_text.isdigit() or int(k_text) < 1:
        raise InvalidMetricError(
            f"cut-off {k_text!r} in metric {name!r} must be a positive integer"
        )
    return Metric(family, int(k_text))


def expand_metrics(specs: str | Iterable[str], cutoffs: int | Iterable[int]) -> tuple[Metric, ...]:
    """Turn metric families and names into metrics, one per family and cut-off.

    A bare family (``ndcg``) becomes ``ndcg@k`` for every ``k`` in ``cutoffs``, except ``map``,
    which stays full-depth MAP. A name with ``@`` is taken as it is. Duplicates are removed and
    the first occurrence keeps its place.

    Raises:
        InvalidMetricError: a name is invalid (see :func:`parse_metric`), a cut-off is not a
            positive integer, or the result is empty.
    """
    # A single name or cut-off is accepted too, so that "map" is not read as "m", "a", "p".
    specs = [specs] if isinstance(specs, str) else list(specs)
    cutoffs = (cutoffs,) if isinstance(cutoffs, int) else tuple(cutoffs)
    for k in cutoffs:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidMetricError(
                f"cut-off {k!r} must be a positive integer number of documents"
            )

    metrics: dict[Metric, None] = {}
    for spec in specs:
        family = spec.strip().lower()
        if "@" in family or family in _FULL_DEPTH_FAMILIES:
            metrics[parse_metric(family)] = None
            continue
        for k in cutoffs:
            metrics[parse_metric(f"{family}@{k}")] = None

    if not metrics:
        raise InvalidMetricError("no metric requested; give at least one family and one cut-off")
    return tuple(metrics)


def rank_documents(scores: Mapping[str, float]) -> list[str]:
    """Order doc ids as trec_eval does: score descending, then doc id descending."""
    by_doc_id = sorted(scores, reverse=True)
    # Python's sort is stable, also with reverse=True, so equal scores keep the doc id order.
    return sorted(by_doc_id, key=scores.__getitem__, reverse=True)


def score_query(
    scores: Mapping[str, float],
    judgments: Mapping[str, int],
    metrics: Sequence[Metric],
) -> dict[str, float]:
    """Compute ``metrics`` for one query and return ``{metric name: value}``.

    Args:
        scores: ``{doc_id: score}`` for the retrieved documents; may be empty.
        judgments: ``{doc_id: relevance grade}`` from the qrels of this query.
        metrics: the metrics to compute, for example from :func:`expand_metrics`.
    """
    ranking = rank_documents(scores)
    num_ranked = len(ranking)

    grades = np.array([judgments.get(doc_id, 0) for doc_id in ranking], dtype=np.int64)
    relevant = grades >= RELEVANCE_LEVEL
    gains = np.where(relevant, grades, 0).astype(np.float64)
    ideal_gains = np.array(
        sorted((grade for grade in judgments.values() if grade >= RELEVANCE_LEVEL), reverse=True),
        dtype=np.float64,
    )
    num_relevant = len(ideal_gains)

    # Cumulative sums in rank order, so that a value at cut-off k is one lookup at index k - 1.
    ranks = np.arange(1, num_ranked + 1, dtype=np.float64)
    hits = np.cumsum(relevant)
    precision_sum = np.cumsum(np.where(relevant, hits / ranks, 0.0))
    dcg = np.cumsum(gains / np.log2(ranks + 1.0))
    ideal_dcg = np.cumsum(ideal_gains / np.log2(np.arange(2, num_relevant + 2, dtype=np.float64)))
    first_relevant_rank = int(np.argmax(relevant)) + 1 if relevant.any() else None

    values = {}
    for metric in metrics:
        depth = num_ranked if metric.k is None else min(metric.k, num_ranked)
        hits_at_k = int(hits[depth - 1]) if depth else 0

        if num_relevant == 0:
            value = 0.0
        elif metric.family == "precision":
            value = hits_at_k / metric.k
        elif metric.family == "recall":
            value = hits_at_k / num_relevant
        elif metric.family == "success":
            value = 1.0 if hits_at_k else 0.0
        elif metric.family == "mrr":
            found = first_relevant_rank is not None and first_relevant_rank <= metric.k
            value = 1.0 / first_relevant_rank if found else 0.0
        elif metric.family == "map":
            value = float(precision_sum[depth - 1]) / num_relevant if depth else 0.0
        elif metric.family == "ndcg":
            ideal = float(ideal_dcg[min(metric.k, num_relevant) - 1])
            value = float(dcg[depth - 1]) / ideal if depth else 0.0
        else:
            raise InvalidMetricError(f"unknown metric family {metric.family!r}")

        values[metric.name] = value
    return values
