"""Output of evaluation results: aligned text tables, a per-query TSV and a JSON summary."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medsearch.eval._files import open_text
from medsearch.eval.result import EvaluationResult
from medsearch.eval.significance import PairedComparison

__all__ = [
    "format_comparison_table",
    "format_results_table",
    "results_to_json",
    "write_per_query_tsv",
]

DECIMALS = 4


def format_results_table(results: Mapping[str, EvaluationResult]) -> str:
    """Format mean metric values as plain aligned text: one row per run, one column per metric.

    ``results`` maps run names to results; the metric columns are those of the first result.
    Values have 4 decimals. A last column gives the number of evaluated queries.
    """
    metrics = next(iter(results.values())).metrics if results else ()
    header = ["run", *metrics, "queries"]
    rows = []
    for name, result in results.items():
        means = [f"{result.means[metric]:.{DECIMALS}f}" for metric in metrics]
        rows.append([name, *means, str(result.num_queries)])
    return _align(header, rows)


def format_comparison_table(
    baseline: str, name: str, comparisons: Sequence[PairedComparison]
) -> str:
    """Format paired tests as plain aligned text: one row per metric.

    Columns: the two means, their difference (``name`` minus ``baseline``), and the two-sided
    p-values of the paired t-test and the randomization test. p-values below 0.0001 are written
    in scientific notation so that they do not print as 0.
    """
    header = ["metric", baseline, name, "difference", "t-test p", "randomization p"]
    rows = [
        [
            comparison.metric,
            f"{comparison.mean_a:.{DECIMALS}f}",
            f"{comparison.mean_b:.{DECIMALS}f}",
            f"{comparison.difference:+.{DECIMALS}f}",
            _format_p_value(comparison.t_test_p),
            _format_p_value(comparison.randomization_p),
        ]
        for comparison in comparisons
    ]
    return _align(header, rows)


def write_per_query_tsv(path: str | Path, results: Mapping[str, EvaluationResult]) -> int:
    """Write ``run<TAB>query_id<TAB>metric<TAB>value`` lines after a header row.

    Values are written with ``repr``, so they read back as the same floats. Returns the number
    of value lines; ``.gz`` paths are compressed.
    """
    lines = ["run\tquery_id\tmetric\tvalue\n"]
    for name, result in results.items():
        for query_id, values in result.per_query.items():
            for metric in result.metrics:
                lines.append(f"{name}\t{query_id}\t{metric}\t{values[metric]!r}\n")

    with open_text(Path(path), "wt") as handle:
        handle.writelines(lines)
    return len(lines) - 1


def results_to_json(
    results: Mapping[str, EvaluationResult],
    comparisons: Mapping[tuple[str, str], Sequence[PairedComparison]],
    settings: Mapping[str, Any],
) -> str:
    """Serialise means, query counts, paired tests and the evaluation settings as JSON text.

    ``comparisons`` maps ``(baseline name, run name)`` to that pair's tests.
    """
    document = {
        "settings": dict(settings),
        "runs": [
            {
                "name": name,
                "num_queries": result.num_queries,
                "missing_query_policy": result.missing_query_policy,
                "num_queries_missing_from_run": len(result.queries_missing_from_run),
                "num_queries_without_qrels": len(result.queries_without_qrels),
                "means": dict(result.means),
            }
            for name, result in results.items()
        ],
        "comparisons": [
            {
                "baseline": baseline,
                "run": name,
                "tests": [
                    {
                        "metric": test.metric,
                        "num_queries": test.num_queries,
                        "mean_baseline": test.mean_a,
                        "mean_run": test.mean_b,
                        "difference": test.difference,
                        "t_statistic": _finite_or_none(test.t_statistic),
                        "t_test_p": test.t_test_p,
                        "randomization_p": test.randomization_p,
                    }
                    for test in tests
                ],
            }
            for (baseline, name), tests in comparisons.items()
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _format_p_value(p_value: float) -> str:
    if p_value < 10**-DECIMALS:
        return f"{p_value:.1e}"
    return f"{p_value:.{DECIMALS}f}"


def _finite_or_none(value: float) -> float | None:
    # JSON has no infinity, and a constant non-zero difference gives t = +-inf.
    return value if math.isfinite(value) else None


def _align(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
