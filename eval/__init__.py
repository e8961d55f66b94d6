"""Evaluation of retrieval runs with trec_eval's definitions, and the file formats it needs.

Typical use::

    from medsearch.eval import evaluate, read_qrels, read_run

    result = evaluate(read_run("bm25.run"), read_qrels("test.tsv"), ["ndcg@10", "recall@100"])
    result.means["ndcg@10"]
"""

from __future__ import annotations

from medsearch.eval.evaluate import MISSING_QUERY_POLICIES, evaluate
from medsearch.eval.index_runs import RankedResults, Searcher, results_to_run, search_queries
from medsearch.eval.metrics import (
    DEFAULT_CUTOFFS,
    DEFAULT_FAMILIES,
    METRIC_FAMILIES,
    RELEVANCE_LEVEL,
    InvalidMetricError,
    Metric,
    expand_metrics,
    parse_metric,
    rank_documents,
    score_query,
)
from medsearch.eval.report import (
    format_comparison_table,
    format_results_table,
    results_to_json,
    write_per_query_tsv,
)
from medsearch.eval.result import EvaluationResult
from medsearch.eval.significance import (
    DEFAULT_PERMUTATIONS,
    PairedComparison,
    compare_results,
    paired_t_test,
    randomization_test,
)
from medsearch.eval.topics import read_qrels, read_queries
from medsearch.eval.trec import read_run, write_run

__all__ = [
    "DEFAULT_CUTOFFS",
    "DEFAULT_FAMILIES",
    "DEFAULT_PERMUTATIONS",
    "METRIC_FAMILIES",
    "MISSING_QUERY_POLICIES",
    "RELEVANCE_LEVEL",
    "EvaluationResult",
    "InvalidMetricError",
    "Metric",
    "PairedComparison",
    "RankedResults",
    "Searcher",
    "compare_results",
    "evaluate",
    "expand_metrics",
    "format_comparison_table",
    "format_results_table",
    "paired_t_test",
    "parse_metric",
    "randomization_test",
    "rank_documents",
    "read_qrels",
    "read_queries",
    "read_run",
    "results_to_json",
    "results_to_run",
    "score_query",
    "search_queries",
    "write_per_query_tsv",
    "write_run",
]
