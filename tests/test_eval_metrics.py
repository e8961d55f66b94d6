"""Metric values: hand-worked cases, and equality with trec_eval through pytrec_eval."""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import pytrec_eval
from hypothesis import given, settings
from hypothesis import strategies as st

from medsearch.errors import MedsearchError
from medsearch.eval import (
    EvaluationResult,
    InvalidMetricError,
    Metric,
    evaluate,
    expand_metrics,
    parse_metric,
    rank_documents,
    read_qrels,
    read_run,
    score_query,
    write_run,
)

DATA = Path(__file__).resolve().parent / "data" / "eval"
SAMPLE_QRELS = DATA / "nfcorpus-test-sample.2-1-0.qrel"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NFCORPUS_QRELS = SHARED_DATA / "nfcorpus" / "test.2-1-0.qrel"

ORACLE_CUTOFFS = (1, 3, 5, 10, 20, 100, 1000)
ALL_FAMILIES = ("ndcg", "recall", "precision", "mrr", "success", "map")
ALL_METRICS = expand_metrics([*ALL_FAMILIES, *(f"map@{k}" for k in ORACLE_CUTOFFS)], ORACLE_CUTOFFS)


def values_for(scores, judgments, *names):
    metrics = [parse_metric(name) for name in names]
    return score_query(scores, judgments, metrics)


# --- hand-worked cases ---------------------------------------------------------------------

# Ranking by score: d2 (0.9), d3 (0.7), d1 (0.5), d4 (0.1).
# Grades along the ranking: 1, 0, 2, unjudged -> relevant at ranks 1 and 3; 2 relevant in all.
HAND_RUN = {"d1": 0.5, "d2": 0.9, "d3": 0.7, "d4": 0.1}
HAND_QRELS = {"d1": 2, "d2": 1, "d3": 0}


def test_precision_hand_worked():
    values = values_for(HAND_RUN, HAND_QRELS, "precision@1", "precision@2", "precision@10")
    assert values["precision@1"] == 1.0  # 1 relevant in top 1
    assert values["precision@2"] == 0.5  # 1 relevant in top 2
    assert values["precision@10"] == 0.2  # 2 relevant / 10, although only 4 were retrieved


def test_recall_hand_worked():
    values = values_for(HAND_RUN, HAND_QRELS, "recall@1", "recall@2", "recall@3")
    assert values["recall@1"] == 0.5  # 1 of 2 relevant
    assert values["recall@2"] == 0.5  # still 1 of 2
    assert values["recall@3"] == 1.0  # d1 at rank 3 completes the set


def test_ndcg_hand_worked():
    values = values_for(HAND_RUN, HAND_QRELS, "ndcg@1", "ndcg@3", "ndcg@10")
    # ndcg@1: DCG = 1 / log2(2) = 1; ideal puts grade 2 first: 2 / log2(2) = 2 -> 0.5.
    assert values["ndcg@1"] == pytest.approx(0.5)
    # ndcg@3: DCG = 1/log2(2) + 0/log2(3) + 2/log2(4) = 1 + 0 + 1 = 2;
    # ideal DCG = 2/log2(2) + 1/log2(3) = 2 + 0.6309298 = 2.6309298 -> 0.7601875.
    assert values["ndcg@3"] == pytest.approx(2 / (2 + 1 / math.log2(3)))
    # ndcg@10 adds nothing after rank 3 (d4 is unjudged).
    assert values["ndcg@10"] == pytest.approx(values["ndcg@3"])


def test_map_hand_worked():
    values = values_for(HAND_RUN, HAND_QRELS, "map", "map@2", "map@3")
    # map: precision at the relevant ranks 1 and 3 is 1/1 and 2/3; (1 + 2/3) / 2 = 0.8333.
    assert values["map"] == pytest.approx((1 + 2 / 3) / 2)
    # map@2: only rank 1 counts, but the divisor stays 2 relevant: 1 / 2.
    assert values["map@2"] == pytest.approx(0.5)
    assert values["map@3"] == pytest.approx(values["map"])


def test_mrr_success_hand_worked():
    run = {"x": 3.0, "y": 2.0, "z": 1.0}
    judgments = {"z": 1}
    values = values_for(run, judgments, "mrr@2", "mrr@3", "success@2", "success@3")
    assert values["mrr@2"] == 0.0  # first relevant at rank 3 > 2
    assert values["mrr@3"] == pytest.approx(1 / 3)
    assert values["success@2"] == 0.0
    assert values["success@3"] == 1.0


def test_ties_ranked_by_doc_id_descending():
    # All scores tie, so trec_eval's order is c, b, a: the relevant "a" is at rank 3.
    run = {"a": 1.0, "b": 1.0, "c": 1.0}
    assert rank_documents(run) == ["c", "b", "a"]
    values = values_for(run, {"a": 1}, "mrr@10", "precision@1", "success@2")
    assert values["mrr@10"] == pytest.approx(1 / 3)
    assert values["precision@1"] == 0.0
    assert values["success@2"] == 0.0


def test_tie_order_is_lexicographic_not_numeric():
    # "d10" < "d9" as strings, so descending order puts d9 first.
    assert rank_documents({"d9": 0.0, "d10": 0.0, "d1": 0.0}) == ["d9", "d10", "d1"]
    assert rank_documents({"a": 0.1, "b": 0.2}) == ["b", "a"]


def test_query_without_relevant_is_zero():
    values = values_for({"a": 1.0}, {"a": 0, "b": -1}, "ndcg@10", "recall@10", "map", "mrr@10")
    assert values == {"ndcg@10": 0.0, "recall@10": 0.0, "map": 0.0, "mrr@10": 0.0}


def test_negative_grade_has_no_gain():
    # "a" at rank 1 is judged -2: neither relevant nor negative gain.
    # DCG@2 = 0 + 1/log2(3); ideal = 1/log2(2) = 1 -> 0.6309298.
    values = values_for({"a": 2.0, "b": 1.0}, {"a": -2, "b": 1}, "ndcg@2", "precision@2")
    assert values["ndcg@2"] == pytest.approx(1 / math.log2(3))
    assert values["precision@2"] == 0.5


def test_empty_ranking_scores_zero():
    values = values_for({}, {"a": 1}, "ndcg@10", "precision@10", "map", "success@1")
    assert set(values.values()) == {0.0}


# --- metric names ----------------------------------------------------------------------------


def test_parse_metric_names():
    assert parse_metric("nDCG@10") == Metric("ndcg", 10)
    assert parse_metric("map") == Metric("map")
    assert parse_metric("map@100").name == "map@100"


@pytest.mark.parametrize("name", ["ndcg", "recall@0", "recall@x", "bpref@10", "mrr@-1", "p@10"])
def test_parse_metric_rejects(name):
    with pytest.raises(InvalidMetricError):
        parse_metric(name)


def test_invalid_metric_is_medsearch_error():
    with pytest.raises(MedsearchError, match="valid families"):
        parse_metric("bpref@10")


def test_expand_metrics_order_and_dedup():
    metrics = expand_metrics(["ndcg", "map", "ndcg@10", "recall"], [10, 1])
    assert [metric.name for metric in metrics] == [
        "ndcg@10",
        "ndcg@1",
        "map",
        "recall@10",
        "recall@1",
    ]


def test_expand_metrics_single_values():
    assert expand_metrics("map", 10) == (Metric("map"),)
    assert expand_metrics("ndcg", 10) == (Metric("ndcg", 10),)


@pytest.mark.parametrize("cutoffs", [[0], [-5], [1.5], [True]])
def test_expand_metrics_rejects_cutoffs(cutoffs):
    with pytest.raises(InvalidMetricError):
        expand_metrics(["ndcg"], cutoffs)


def test_metric_rejects_missing_cutoff():
    with pytest.raises(InvalidMetricError):
        Metric("ndcg")


# --- evaluate: query selection, warnings, result ----------------------------------------------

QRELS = {
    "q1": {"a": 1, "b": 0},
    "q2": {"c": 2},
    "q3": {"d": 0},  # no relevant document
}
RUN = {
    "q1": {"a": 2.0, "b": 1.0},  # relevant at rank 1
    "q3": {"d": 1.0},
    "q9": {"a": 1.0},  # no qrels
}


def test_missing_queries_zero_policy(caplog):
    caplog.set_level(logging.WARNING, logger="medsearch.eval")
    result = evaluate(RUN, QRELS, ["precision@1"], missing_queries="zero")

    # q1 = 1, q2 missing = 0, q3 no relevant = 0 -> mean 1/3.
    assert result.query_ids == ("q1", "q2", "q3")
    assert result.means["precision@1"] == pytest.approx(1 / 3)
    assert result.per_query["q2"]["precision@1"] == 0.0
    assert result.queries_missing_from_run == ("q2",)
    assert result.queries_without_qrels == ("q9",)
    assert "1 of 3 qrels queries are missing from the run" in caplog.text
    assert "1 of 3 run queries have no qrels" in caplog.text
    assert "1 of 3 evaluated queries have no document with relevance >= 1" in caplog.text


def test_missing_queries_skip_policy(caplog):
    caplog.set_level(logging.WARNING, logger="medsearch.eval")
    result = evaluate(RUN, QRELS, ["precision@1"], missing_queries="skip")

    # q1 = 1, q3 = 0 -> mean 1/2; q2 is left out.
    assert result.query_ids == ("q1", "q3")
    assert result.means["precision@1"] == pytest.approx(0.5)
    assert "left out of the means" in caplog.text


def test_invalid_missing_policy():
    with pytest.raises(MedsearchError, match="missing_queries"):
        evaluate(RUN, QRELS, ["map"], missing_queries="drop")


def test_disjoint_query_ids_raise():
    with pytest.raises(MedsearchError, match="no run query has qrels"):
        evaluate({"x": {"a": 1.0}}, QRELS, ["map"])


def test_empty_qrels_raise():
    with pytest.raises(MedsearchError, match="qrels contain no query"):
        evaluate(RUN, {}, ["map"])


def test_doc_ids_outside_corpus_warn(caplog):
    caplog.set_level(logging.WARNING, logger="medsearch.eval")
    evaluate(RUN, QRELS, ["map"], corpus_ids={"a", "b", "c"})
    # Judged ids of q1..q3: a, b, c, d; "d" is not in the corpus.
    assert "1 of 4 judged doc ids in the qrels are not in the corpus" in caplog.text


def test_doc_id_format_mismatch_warns(caplog):
    caplog.set_level(logging.WARNING, logger="medsearch.eval")
    run = {"q1": {"MED-1": 1.0}, "q2": {"MED-2": 1.0}}
    evaluate(run, {"q1": {"1": 1}, "q2": {"2": 1}}, ["map"])
    assert "none of the 2 judged doc ids in the qrels appears in the run" in caplog.text


def test_partial_doc_overlap_only_info(caplog):
    caplog.set_level(logging.INFO, logger="medsearch.eval")
    evaluate({"q1": {"a": 1.0}}, {"q1": {"a": 1, "z": 1}}, ["map"])
    records = [record for record in caplog.records if "retrieved for no evaluated" in record.message]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO


def test_result_is_immutable():
    result = evaluate(RUN, QRELS, ["map"])
    with pytest.raises(TypeError):
        result.means["map"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        result.per_query["q1"]["map"] = 1.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.metrics = ()  # type: ignore[misc]


def test_evaluate_does_not_modify_inputs():
    run = {"q1": {"a": 2.0, "b": 2.0}}
    qrels = {"q1": {"a": 1}, "q2": {"x": 1}}
    evaluate(run, qrels)
    assert run == {"q1": {"a": 2.0, "b": 2.0}}
    assert qrels == {"q1": {"a": 1}, "q2": {"x": 1}}


def test_result_values_array():
    result = evaluate(RUN, QRELS, ["precision@1"])
    assert result.values("precision@1").tolist() == [1.0, 0.0, 0.0]
    assert result.values("precision@1", ("q3", "q1")).tolist() == [0.0, 1.0]
    with pytest.raises(KeyError):
        result.values("ndcg@10")


def test_default_metrics_cover_every_family():
    result = evaluate(RUN, QRELS)
    assert "map" in result.metrics
    for family in ALL_FAMILIES[:-1]:
        assert [f"{family}@{k}" in result.metrics for k in (1, 10, 100, 1000)] == [True] * 4


# --- equality with trec_eval (pytrec_eval) ----------------------------------------------------


def _trec_eval_order(item_a, item_b):
    # trec_eval: score descending, then doc id descending (strcmp).
    (doc_a, score_a), (doc_b, score_b) = item_a, item_b
    if score_a > score_b:
        return -1
    if score_a < score_b:
        return 1
    if doc_a > doc_b:
        return -1
    if doc_a < doc_b:
        return 1
    return 0


def _top_k(scores, k):
    ordered = sorted(scores.items(), key=functools.cmp_to_key(_trec_eval_order))
    return dict(ordered[:k])


def trec_eval_values(run, qrels, cutoffs):
    """Per-query values from pytrec_eval under medsearch's metric names, for queries it scores."""
    ks = ",".join(str(k) for k in cutoffs)
    measures = {f"ndcg_cut.{ks}", f"recall.{ks}", f"P.{ks}", f"success.{ks}", "map", f"map_cut.{ks}"}
    scored = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"})

    expected = {}
    for query_id, measured in scored.items():
        values = {"map": measured["map"]}
        for k in cutoffs:
            values[f"ndcg@{k}"] = measured[f"ndcg_cut_{k}"]
            values[f"recall@{k}"] = measured[f"recall_{k}"]
            values[f"precision@{k}"] = measured[f"P_{k}"]
            values[f"success@{k}"] = measured[f"success_{k}"]
            values[f"map@{k}"] = measured[f"map_cut_{k}"]
        expected[query_id] = values

    # trec_eval has no cut-off for recip_rank: score the top k of each query separately.
    for k in cutoffs:
        truncated = {query_id: _top_k(run[query_id], k) for query_id in expected}
        for query_id, measured in rr.evaluate(truncated).items():
            expected[query_id][f"mrr@{k}"] = measured["recip_rank"]
    return expected


def assert_equal_to_trec_eval(run, qrels, cutoffs=ORACLE_CUTOFFS):
    metrics = [*ALL_FAMILIES, *(f"map@{k}" for k in cutoffs)]
    result = evaluate(run, qrels, metrics, cutoffs, missing_queries="zero")
    expected = trec_eval_values(run, qrels, cutoffs)
    assert expected, "pytrec_eval scored no query; the test input is wrong"

    for query_id in result.query_ids:
        if query_id not in expected:
            # Missing from the run (or an empty ranking): trec_eval -c scores every measure 0.
            assert set(result.per_query[query_id].values()) == {0.0}, query_id
            continue
        for metric in result.metrics:
            ours = result.per_query[query_id][metric]
            theirs = expected[query_id][metric]
            assert ours == pytest.approx(theirs, abs=1e-12), (query_id, metric, ours, theirs)

    # Means as trec_eval -c: sum over qrels queries / number of qrels queries.
    for metric in result.metrics:
        total = sum(values.get(metric, 0.0) for values in expected.values())
        assert result.means[metric] == pytest.approx(total / len(qrels), abs=1e-12), metric
    return result


def build_run(qrels, *, seed):
    """Build a deterministic run over the judged documents, with many tied scores.

    Each query ranks a random subset of its judged documents mixed with documents judged
    for other queries. Scores are multiples of 0.25 in [0, 2), so ties are frequent. Every 11th
    query is left out, one query gets an empty ranking, and one run query has no qrels.
    """
    generator = np.random.default_rng(seed)
    pool = sorted({doc_id for judgments in qrels.values() for doc_id in judgments})
    run = {}
    for position, query_id in enumerate(sorted(qrels)):
        if position % 11 == 5:
            continue
        judged = sorted(qrels[query_id])
        judged_subset = generator.permutation(judged)[: generator.integers(0, len(judged) + 1)]
        others = generator.choice(pool, size=min(len(pool), int(generator.integers(0, 60))), replace=False)
        doc_ids = sorted(set(judged_subset.tolist()) | set(others.tolist()))
        scores = generator.integers(0, 8, size=len(doc_ids)) / 4.0
        run[query_id] = {doc_id: float(score) for doc_id, score in zip(doc_ids, scores)}
    run[sorted(run)[1]] = {}
    run["NOT-IN-QRELS"] = {pool[0]: 1.0, pool[1]: 0.5}
    return run


def test_build_run_has_ties_and_gaps():
    qrels = read_qrels(SAMPLE_QRELS)
    run = build_run(qrels, seed=7)
    tied = sum(1 for scores in run.values() if len(set(scores.values())) < len(scores))
    assert tied > 10
    assert set(qrels) - set(run)
    assert "NOT-IN-QRELS" in run


def test_trec_eval_nfcorpus_sample(tmp_path):
    qrels = read_qrels(SAMPLE_QRELS)
    assert len(qrels) == 33
    assert {grade for judgments in qrels.values() for grade in judgments.values()} == {1, 2}

    # Through a run file, as the CLI reads it: scores survive the round trip exactly.
    run = build_run(qrels, seed=7)
    path = tmp_path / "sample.run"
    ranked = {query_id: sorted(scores.items(), key=lambda item: (-item[1], item[0])) for query_id, scores in run.items()}
    write_run(path, ranked, tag="test")
    from_file = read_run(path)

    result = assert_equal_to_trec_eval(from_file, qrels)
    assert result.means["ndcg@10"] > 0.0  # the run is not trivially empty


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_trec_eval_other_seeds(seed):
    qrels = read_qrels(SAMPLE_QRELS)
    assert_equal_to_trec_eval(build_run(qrels, seed=seed), qrels)


def test_trec_eval_nonpositive_grades():
    qrels = read_qrels(SAMPLE_QRELS)
    # Every third judgment becomes 0 (odd queries) or -1 (even queries), and the first query
    # is judged all non-relevant.
    regraded = {}
    for position, (query_id, judgments) in enumerate(sorted(qrels.items())):
        lowered = 0 if position % 2 else -1
        regraded[query_id] = {}
        for index, (doc_id, grade) in enumerate(sorted(judgments.items())):
            regraded[query_id][doc_id] = lowered if index % 3 == 0 else grade
    first = sorted(regraded)[0]
    regraded[first] = dict.fromkeys(regraded[first], 0)
    assert_equal_to_trec_eval(build_run(regraded, seed=11), regraded)


doc_ids = st.sampled_from(["a", "b", "c", "d", "d1", "d10", "d2", "Z", "é"])


@settings(max_examples=150, deadline=None)
@given(
    judgments=st.dictionaries(doc_ids, st.integers(-1, 3), min_size=1, max_size=6),
    scores=st.dictionaries(doc_ids, st.sampled_from([0.0, 0.5, 1.0, 1.5, -2.0, 3.25]), max_size=9),
)
def test_trec_eval_random_cases(judgments, scores):
    qrels = {"q1": judgments, "q2": {"a": 1}}
    run = {"q1": scores, "q2": {"b": 1.0, "a": 1.0}}
    assert_equal_to_trec_eval(run, qrels, cutoffs=(1, 2, 3, 5, 12))


@pytest.mark.shared_data
@pytest.mark.skipif(not NFCORPUS_QRELS.is_file(), reason=f"{NFCORPUS_QRELS} is absent")
def test_trec_eval_full_nfcorpus():
    qrels = read_qrels(NFCORPUS_QRELS)
    assert len(qrels) == 323
    assert sum(len(judgments) for judgments in qrels.values()) == 12_334
    result = assert_equal_to_trec_eval(build_run(qrels, seed=5), qrels)
    assert isinstance(result, EvaluationResult)
