"""The immutable result of evaluating one run: per-query metric values and their means."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = ["EvaluationResult"]


@dataclass(frozen=True)
class EvaluationResult:
    """Metric values of one run against one set of qrels.

    Attributes:
        metrics: metric names in output order, such as ``("ndcg@10", "recall@100", "map")``.
        per_query: ``{query_id: {metric: value}}`` for every evaluated query, in query id order.
            Queries missing from the run are included with 0.0 when the policy was ``"zero"``.
        means: ``{metric: mean over the evaluated queries}``.
        queries_missing_from_run: qrels queries that the run does not contain, sorted.
        queries_without_qrels: run queries that the qrels do not contain, sorted. They are
            never evaluated.
        missing_query_policy: ``"zero"`` (missing queries scored 0, like ``trec_eval -c``) or
            ``"skip"`` (left out of the means, like trec_eval without ``-c``).
    """

    metrics: tuple[str, ...]
    per_query: Mapping[str, Mapping[str, float]]
    means: Mapping[str, float]
    queries_missing_from_run: tuple[str, ...]
    queries_without_qrels: tuple[str, ...]
    missing_query_policy: str

    @classmethod
    def from_values(
        cls,
        metrics: tuple[str, ...],
        per_query: Mapping[str, Mapping[str, float]],
        *,
        queries_missing_from_run: tuple[str, ...] = (),
        queries_without_qrels: tuple[str, ...] = (),
        missing_query_policy: str = "zero",
    ) -> EvaluationResult:
        """Build a result from per-query values, computing the means; the inputs are copied."""
        frozen = {
            query_id: MappingProxyType({metric: float(values[metric]) for metric in metrics})
            for query_id, values in per_query.items()
        }
        means = {}
        for metric in metrics:
            column = [values[metric] for values in frozen.values()]
            means[metric] = sum(column) / len(column) if column else 0.0

        return cls(
            metrics=tuple(metrics),
            per_query=MappingProxyType(frozen),
            means=MappingProxyType(means),
            queries_missing_from_run=tuple(queries_missing_from_run),
            queries_without_qrels=tuple(queries_without_qrels),
            missing_query_policy=missing_query_policy,
        )

    @property
    def query_ids(self) -> tuple[str, ...]:
        """The evaluated query ids, in the order of :attr:`per_query`."""
        return tuple(self.per_query)

    @property
    def num_queries(self) -> int:
        """The number of evaluated queries, which is the divisor of every mean."""
        return len(self.per_query)

    def values(self, metric: str, query_ids: tuple[str, ...] | None = None) -> np.ndarray:
        """Return one metric's per-query values as a float64 array of shape (num_queries,).

        ``query_ids`` selects and orders the queries; by default all, in :attr:`query_ids`
        order.

        Raises:
            KeyError: the metric or a query id is not in this result.
        """
        if metric not in self.metrics:
            raise KeyError(f"metric {metric!r} is not in this result; it has {self.metrics}")
        ids = self.query_ids if query_ids is None else query_ids
        return np.array([self.per_query[query_id][metric] for query_id in ids], dtype=np.float64)
