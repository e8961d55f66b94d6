"""Paired significance tests between two runs on per-query metric values.

Both tests are two-sided and pair the values by query id:

* the paired t-test of :func:`scipy.stats.ttest_rel`;
* a paired randomization (permutation) test: under the null hypothesis the sign of each
  per-query difference is exchangeable, so each permutation flips every sign with probability
  1/2 and the statistic is the absolute mean difference. This is Fisher's randomization test
  as compared with the t-test for TREC runs by Smucker, Allan and Carterette ("A comparison of
  statistical significance tests for information retrieval evaluation", CIKM 2007). The
  p-value is ``(count + 1) / (num_permutations + 1)``, where ``count`` is the number of
  permutations at least as extreme as the observed value, so it is never 0 (Phipson and Smyth,
  "Permutation p-values should never be zero", Stat. Appl. Genet. Mol. Biol. 9(1), 2010).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from medsearch.errors import MedsearchError
from medsearch.eval.result import EvaluationResult

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_PERMUTATIONS",
    "PairedComparison",
    "compare_results",
    "paired_t_test",
    "randomization_test",
]

DEFAULT_PERMUTATIONS = 10_000
PERMUTATION_CHUNK = 1_000
TIE_TOLERANCE = 1e-12
"""Absolute slack when comparing permuted mean differences with the observed one.

Metric values lie in [0, 1], so sums that are equal in exact arithmetic differ by far less.
"""


@dataclass(frozen=True, slots=True)
class PairedComparison:
    """Both tests on one metric, comparing run ``b`` against baseline run ``a``.

    ``difference`` is ``mean_b - mean_a`` over the ``num_queries`` paired queries.
    """

    metric: str
    num_queries: int
    mean_a: float
    mean_b: float
    difference: float
    t_statistic: float
    t_test_p: float
    randomization_p: float


def paired_t_test(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Return ``(t statistic, two-sided p-value)`` of the paired t-test of ``b`` against ``a``.

    ``a`` and ``b`` are float arrays of shape (num_queries,), paired by position. When every
    difference is 0 the test is undefined (0 / 0), so this returns ``(0.0, 1.0)``: no evidence of
    a difference. When every difference is the same non-zero value, the t statistic is infinite
    or, after rounding, very large, and p is 0 or nearly so. scipy's RuntimeWarnings about that
    case (division by zero, precision loss) are suppressed.

    Raises:
        MedsearchError: the arrays differ in shape or hold fewer than 2 pairs.
    """
    differences = _differences(a, b)
    if not differences.any():
        return 0.0, 1.0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_rel(b, a)
    return float(result.statistic), float(result.pvalue)


def randomization_test(
    a: np.ndarray,
    b: np.ndarray,
    *,
    num_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> float:
    """Return the two-sided p-value of a paired randomization test of ``b`` against ``a``.

    Args:
        a, b: float arrays of shape (num_queries,), paired by position.
        num_permutations: random sign-flip permutations to draw.
        seed: seed of the NumPy generator; the same inputs and seed give the same p-value.

    Raises:
        MedsearchError: the arrays differ in shape or hold fewer than 2 pairs, or
            ``num_permutations`` is below 1.
    """
    if num_permutations < 1:
        raise MedsearchError(f"num_permutations={num_permutations} must be at least 1")
    differences = _differences(a, b)
    num_queries = len(differences)
    observed = abs(differences.mean())

    generator = np.random.default_rng(seed)
    at_least_as_extreme = 0
    remaining = num_permutations
    while remaining:
        size = min(remaining, PERMUTATION_CHUNK)
        signs = generator.integers(0, 2, size=(size, num_queries)) * 2 - 1
        permuted = np.abs(signs @ differences) / num_queries
        at_least_as_extreme += int(np.count_nonzero(permuted >= observed - TIE_TOLERANCE))
        remaining -= size

    return (at_least_as_extreme + 1) / (num_permutations + 1)


def compare_results(
    a: EvaluationResult,
    b: EvaluationResult,
    metrics: Iterable[str] | None = None,
    *,
    num_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> tuple[PairedComparison, ...]:
    """Run both paired tests of run ``b`` against baseline ``a`` for each metric.

    Queries are paired by id. Queries evaluated in only one of the results are left out, and a
    WARNING gives their count. Under the default ``"zero"`` policy both results cover every
    qrels query, so none are left out. Every metric uses the same ``seed``.

    Args:
        metrics: metric names present in both results; by default those of ``a`` that ``b``
            also has, in ``a``'s order.

    Raises:
        MedsearchError: a metric is missing from a result, or fewer than 2 queries are paired.
    """
    paired_ids = tuple(query_id for query_id in a.query_ids if query_id in b.per_query)
    unpaired = a.num_queries + b.num_queries - 2 * len(paired_ids)
    if unpaired:
        logger.warning(
            "%d queries are evaluated in only one of the two runs and are left out of the "
            "significance tests, which use the %d queries evaluated in both",
            unpaired,
            len(paired_ids),
        )

    if metrics is None:
        metrics = [metric for metric in a.metrics if metric in b.metrics]
    comparisons = []
    for metric in metrics:
        if metric not in a.metrics or metric not in b.metrics:
            raise MedsearchError(f"metric {metric!r} is not in both results; compute it for both")
        values_a = a.values(metric, paired_ids)
        values_b = b.values(metric, paired_ids)
        t_statistic, t_test_p = paired_t_test(values_a, values_b)

        comparisons.append(
            PairedComparison(
                metric=metric,
                num_queries=len(paired_ids),
                mean_a=float(values_a.mean()),
                mean_b=float(values_b.mean()),
                difference=float(values_b.mean() - values_a.mean()),
                t_statistic=t_statistic,
                t_test_p=t_test_p,
                randomization_p=randomization_test(
                    values_a, values_b, num_permutations=num_permutations, seed=seed
                ),
            )
        )
    return tuple(comparisons)


def _differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise MedsearchError(
            f"paired values need two 1-D arrays of the same length, got shapes {a.shape} "
            f"and {b.shape}"
        )
    if len(a) < 2:
        raise MedsearchError(f"a paired test needs at least 2 queries, got {len(a)}")
    return b - a
