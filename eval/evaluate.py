"""Evaluate a run against qrels: pick the queries to score, check the ids, average the metrics.

Which queries count, as in trec_eval:

* Run queries without qrels are not evaluated (trec_eval skips them too). A WARNING gives
  their count.
* Qrels queries missing from the run score 0 on every metric by default, like ``trec_eval -c``
  and the Anserini BEIR regressions, so a system cannot gain by returning nothing for hard
  queries. ``missing_queries="skip"`` leaves them out of the means instead, like trec_eval
  without ``-c`` and BEIR's ``EvaluateRetrieval``. Either way a WARNING gives their count.
* Qrels queries whose judgments are all below relevance 1 stay in the means with 0 on every
  metric, as in trec_eval, and a WARNING gives their count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Mapping

from medsearch.errors import MedsearchError
from medsearch.eval.metrics import (
    DEFAULT_CUTOFFS,
    DEFAULT_FAMILIES,
    RELEVANCE_LEVEL,
    expand_metrics,
    score_query,
)
from medsearch.eval.result import EvaluationResult

logger = logging.getLogger(__name__)

__all__ = ["MISSING_QUERY_POLICIES", "evaluate"]

MISSING_QUERY_POLICIES = ("zero", "skip")
MAX_LOGGED_IDS = 5


def evaluate(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    metrics: str | Iterable[str] = DEFAULT_FAMILIES,
    cutoffs: int | Iterable[int] = DEFAULT_CUTOFFS,
    *,
    missing_queries: str = "zero",
    corpus_ids: Collection[str] | None = None,
) -> EvaluationResult:
    """Compute per-query metrics and their means for one run.

    Args:
        run: ``run[query_id][doc_id] = score``; higher scores rank first. Not modified.
        qrels: ``qrels[query_id][doc_id] = relevance grade``. Not modified.
        metrics: metric families (``ndcg``, expanded over ``cutoffs``) or full names
            (``ndcg@10``, ``map``); see :mod:`medsearch.eval.metrics`.
        cutoffs: rank cut-offs in documents for the bare families.
        missing_queries: ``"zero"`` or ``"skip"``, for qrels queries absent from the run
            (see the module docstring).
        corpus_ids: the doc ids of the searched corpus, when known. Judged doc ids outside it
            are counted in a WARNING because no run can retrieve them.

    Returns:
        An :class:`EvaluationResult` over the evaluated queries, sorted by query id.

    Raises:
        MedsearchError: the qrels are empty, ``missing_queries`` is not a valid policy, or no
            query is left to evaluate. :class:`~medsearch.eval.metrics.InvalidMetricError`
            (a subclass) for an invalid metric or cut-off.
    """
    started = time.perf_counter()
    metric_list = expand_metrics(metrics, cutoffs)
    if missing_queries not in MISSING_QUERY_POLICIES:
        raise MedsearchError(
            f"missing_queries={missing_queries!r} is not valid; use one of {MISSING_QUERY_POLICIES}"
        )
    if not qrels:
        raise MedsearchError("the qrels contain no query; check the qrels file")

    query_ids = _select_queries(run, qrels, missing_queries)
    _check_doc_ids(run, qrels, query_ids, corpus_ids)

    per_query = {}
    zeros = {metric.name: 0.0 for metric in metric_list}
    for query_id in query_ids:
        if query_id in run:
            per_query[query_id] = score_query(run[query_id], qrels[query_id], metric_list)
        else:
            per_query[query_id] = zeros

    result = EvaluationResult.from_values(
        tuple(metric.name for metric in metric_list),
        per_query,
        queries_missing_from_run=tuple(sorted(set(qrels) - set(run))),
        queries_without_qrels=tuple(sorted(set(run) - set(qrels))),
        missing_query_policy=missing_queries,
    )
    logger.info(
        "Evaluated %d queries on %d metrics in %.2f s",
        result.num_queries,
        len(result.metrics),
        time.perf_counter() - started,
    )
    return result


def _select_queries(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    missing_queries: str,
) -> list[str]:
    without_qrels = sorted(set(run) - set(qrels))
    missing = sorted(set(qrels) - set(run))

    if without_qrels:
        logger.warning(
            "%d of %d run queries have no qrels and are not evaluated (e.g. %s); "
            "check that the queries and qrels are of the same split",
            len(without_qrels),
            len(run),
            _examples(without_qrels),
        )
    if missing:
        consequence = (
            "they score 0 on every metric (trec_eval -c)"
            if missing_queries == "zero"
            else "they are left out of the means"
        )
        logger.warning(
            "%d of %d qrels queries are missing from the run (e.g. %s); %s",
            len(missing),
            len(qrels),
            _examples(missing),
            consequence,
        )

    if missing_queries == "zero":
        query_ids = sorted(qrels)
    else:
        query_ids = sorted(set(qrels) & set(run))
    if not set(query_ids) & set(run):
        raise MedsearchError(
            f"no run query has qrels: run query ids look like {_examples(sorted(run))}, "
            f"qrels query ids like {_examples(sorted(qrels))}; check that both files belong "
            "to the same collection"
        )

    no_relevant = [
        query_id
        for query_id in query_ids
        if not any(grade >= RELEVANCE_LEVEL for grade in qrels[query_id].values())
    ]
    if no_relevant:
        logger.warning(
            "%d of %d evaluated queries have no document with relevance >= %d in the qrels "
            "(e.g. %s); they score 0 on every metric, as in trec_eval",
            len(no_relevant),
            len(query_ids),
            RELEVANCE_LEVEL,
            _examples(no_relevant),
        )
    return query_ids


def _check_doc_ids(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    query_ids: list[str],
    corpus_ids: Collection[str] | None,
) -> None:
    judged = sorted({doc_id for query_id in query_ids for doc_id in qrels[query_id]})

    if corpus_ids is not None:
        corpus = corpus_ids if isinstance(corpus_ids, (set, frozenset)) else set(corpus_ids)
        unknown = [doc_id for doc_id in judged if doc_id not in corpus]
        if unknown:
            logger.warning(
                "%d of %d judged doc ids in the qrels are not in the corpus (e.g. %s); no run "
                "can retrieve them, so recall cannot reach 1. Check that the qrels and the "
                "corpus use the same doc ids",
                len(unknown),
                len(judged),
                _examples(unknown),
            )
        return

    # NOTE: without the corpus, a judged doc id that no query retrieved may simply rank below
    # the run depth, so only a complete mismatch is a WARNING.
    retrieved = {doc_id for query_id in query_ids for doc_id in run.get(query_id, {})}
    unseen = [doc_id for doc_id in judged if doc_id not in retrieved]
    if retrieved and len(unseen) == len(judged):
        logger.warning(
            "none of the %d judged doc ids in the qrels appears in the run: run doc ids look "
            "like %s, qrels doc ids like %s; the two probably use different id formats",
            len(judged),
            _examples(sorted(retrieved)),
            _examples(judged),
        )
    elif unseen:
        logger.info(
            "%d of %d judged doc ids in the qrels were retrieved for no evaluated query",
            len(unseen),
            len(judged),
        )


def _examples(ids: list[str]) -> str:
    listed = ", ".join(repr(value) for value in ids[:MAX_LOGGED_IDS])
    return listed + (", ..." if len(ids) > MAX_LOGGED_IDS else "")
