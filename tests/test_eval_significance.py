"""Paired t-test and randomization test on per-query values."""

from __future__ import annotations

import itertools
import logging
import math

import numpy as np
import pytest

from medsearch.errors import MedsearchError
from medsearch.eval import (
    EvaluationResult,
    compare_results,
    format_comparison_table,
    paired_t_test,
    randomization_test,
)


def exact_randomization_p(a, b):
    """Two-sided p-value over all 2**n sign flips: share with |mean| >= the observed |mean|."""
    differences = np.asarray(b) - np.asarray(a)
    observed = abs(differences.mean())
    flips = [
        abs((np.array(signs) * differences).mean())
        for signs in itertools.product((-1, 1), repeat=len(differences))
    ]
    return sum(value >= observed - 1e-12 for value in flips) / len(flips)


def test_t_test_hand_worked():
    a = np.array([0.2, 0.4, 0.6])
    b = np.array([0.3, 0.6, 0.9])
    # Differences 0.1, 0.2, 0.3: mean 0.2, sample sd 0.1, t = 0.2 / (0.1 / sqrt(3)) = 3.4641;
    # two-sided p with 2 degrees of freedom = 0.07418.
    t_statistic, p_value = paired_t_test(a, b)
    assert t_statistic == pytest.approx(2 * math.sqrt(3))
    assert p_value == pytest.approx(0.0741799, abs=1e-6)


def test_t_test_identical_values():
    values = np.array([0.1, 0.5, 0.9])
    assert paired_t_test(values, values.copy()) == (0.0, 1.0)


def test_t_test_constant_difference():
    t_statistic, p_value = paired_t_test(np.array([0.1, 0.2, 0.3]), np.array([0.2, 0.3, 0.4]))
    assert math.isinf(t_statistic) or t_statistic > 1e6
    assert p_value < 1e-6


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([0.1], [0.2], "at least 2 queries"),
        ([0.1, 0.2], [0.2, 0.3, 0.4], "same length"),
        ([[0.1, 0.2]], [[0.2, 0.3]], "1-D"),
    ],
)
def test_tests_reject_bad_shapes(a, b, message):
    with pytest.raises(MedsearchError, match=message):
        paired_t_test(np.array(a), np.array(b))
    with pytest.raises(MedsearchError, match=message):
        randomization_test(np.array(a), np.array(b))


def test_randomization_identical_is_one():
    values = np.array([0.0, 0.3, 1.0, 0.5])
    assert randomization_test(values, values.copy(), num_permutations=500) == 1.0


def test_randomization_matches_exact_enumeration():
    generator = np.random.default_rng(3)
    a = generator.random(12)
    b = a + generator.normal(0.08, 0.15, size=12)
    exact = exact_randomization_p(a, b)
    estimated = randomization_test(a, b, num_permutations=20_000, seed=1)
    # Monte Carlo standard error at p ~ 0.1 with 20,000 draws is about 0.002.
    assert estimated == pytest.approx(exact, abs=0.01)
    assert 0.0 < exact < 1.0


def test_randomization_small_p_never_zero():
    a = np.zeros(30)
    b = np.full(30, 0.5)
    # Only the identity and the all-flipped permutation are as extreme: p ~ 2 / 2**30, so the
    # estimate is (0 + 1) / (1000 + 1) with almost certainty.
    assert randomization_test(a, b, num_permutations=1000) == pytest.approx(1 / 1001)


def test_randomization_seeded():
    generator = np.random.default_rng(0)
    a, b = generator.random(40), generator.random(40)
    first = randomization_test(a, b, num_permutations=2000, seed=42)
    assert randomization_test(a, b, num_permutations=2000, seed=42) == first
    assert randomization_test(b, a, num_permutations=2000, seed=42) == first  # two-sided


def test_randomization_rejects_zero_permutations():
    with pytest.raises(MedsearchError, match="num_permutations"):
        randomization_test(np.zeros(3), np.ones(3), num_permutations=0)


def test_randomization_agrees_with_t_test_on_large_sample():
    generator = np.random.default_rng(9)
    a = generator.random(200)
    b = np.clip(a + generator.normal(0.02, 0.2, size=200), 0, 1)
    _, t_p = paired_t_test(a, b)
    randomization_p = randomization_test(a, b, num_permutations=10_000)
    # Smucker et al. (2007) found the two tests agree closely on TREC-sized samples.
    assert randomization_p == pytest.approx(t_p, abs=0.03)


def make_result(values: dict[str, float], metric: str = "ndcg@10") -> EvaluationResult:
    return EvaluationResult.from_values((metric,), {q: {metric: v} for q, v in values.items()})


def test_compare_results_pairs_by_query_id():
    baseline = make_result({"q1": 0.1, "q2": 0.4, "q3": 0.7})
    # Same values in another query order: no difference.
    other = make_result({"q3": 0.7, "q1": 0.1, "q2": 0.4})
    (comparison,) = compare_results(baseline, other, num_permutations=200)
    assert comparison.difference == 0.0
    assert comparison.t_test_p == 1.0
    assert comparison.randomization_p == 1.0
    assert comparison.num_queries == 3


def test_compare_results_values():
    baseline = make_result({"q1": 0.2, "q2": 0.4, "q3": 0.6})
    other = make_result({"q1": 0.3, "q2": 0.6, "q3": 0.9})
    (comparison,) = compare_results(baseline, other, num_permutations=2000, seed=5)
    assert comparison.mean_a == pytest.approx(0.4)
    assert comparison.mean_b == pytest.approx(0.6)
    assert comparison.difference == pytest.approx(0.2)
    assert comparison.t_test_p == pytest.approx(0.0741799, abs=1e-6)
    # All three differences are positive, so only the 2 of 8 sign patterns with all signs equal
    # are as extreme: exact p = 0.25.
    assert comparison.randomization_p == pytest.approx(0.25, abs=0.03)


def test_compare_results_warns_on_unpaired(caplog):
    caplog.set_level(logging.WARNING, logger="medsearch.eval")
    baseline = make_result({"q1": 0.2, "q2": 0.4, "q3": 0.6})
    other = make_result({"q1": 0.3, "q2": 0.6, "q4": 0.9})
    (comparison,) = compare_results(baseline, other, num_permutations=100)
    assert comparison.num_queries == 2
    assert "2 queries are evaluated in only one of the two runs" in caplog.text


def test_compare_results_unknown_metric():
    baseline = make_result({"q1": 0.2, "q2": 0.4})
    other = make_result({"q1": 0.2, "q2": 0.4}, metric="map")
    assert compare_results(baseline, other) == ()
    with pytest.raises(MedsearchError, match="not in both results"):
        compare_results(baseline, other, ["ndcg@10"])


def test_comparison_table_small_p_values():
    baseline = make_result({f"q{index}": 0.0 for index in range(30)})
    other = make_result({f"q{index}": 0.5 + index / 1000 for index in range(30)})
    tests = compare_results(baseline, other, num_permutations=19_999)
    table = format_comparison_table("base", "new", tests).splitlines()

    assert table[0].split() == ["metric", "base", "new", "difference", "t-test", "p", "randomization", "p"]
    cells = table[1].split()
    assert cells[:4] == ["ndcg@10", "0.0000", "0.5145", "+0.5145"]
    # p-values below 0.0001 print in scientific notation instead of 0.0000.
    assert "e-" in cells[4]
    assert cells[5] == "5.0e-05"  # (0 + 1) / (19,999 + 1)
