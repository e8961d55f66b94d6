"""The retrieval quality benchmark: SciFact and NFCorpus test splits in every search mode.

Run from the repository root::

    python -m medsearch.eval.benchmark [--data DIR] [--out docs/BENCHMARKS.md] [--index-cache DIR]
    python -m medsearch.eval.benchmark tune [--data DIR] [--out docs/BENCHMARKS.md] [--index-cache DIR]

``--data`` is the directory with ``scifact/`` and ``nfcorpus/`` (see
:mod:`medsearch.eval.benchmark_data` for the files).

``run`` (the default) indexes each collection's corpus with the library defaults, or reuses
a cached index (see :mod:`medsearch.eval.index_cache`). It then searches every test query in
the ``bm25``, ``dense`` and ``hybrid`` modes for the top 100 hits, prints the metrics, and
rewrites the "Retrieval quality" section of ``--out``. ``tune`` runs the grid search of
:mod:`medsearch.eval.tuning` on the SciFact train split and rewrites the "Retrieval tuning"
section. Without ``--index-cache`` the indexes go to a temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from medsearch.errors import MedsearchError
from medsearch.eval.benchmark_data import COLLECTIONS, BenchmarkCollection, scifact
from medsearch.eval.benchmark_report import cpu_description, markdown_table, package_versions, replace_section
from medsearch.eval.evaluate import evaluate
from medsearch.eval.index_cache import ensure_index
from medsearch.eval.index_runs import results_to_run, search_queries
from medsearch.eval.report import format_results_table
from medsearch.eval.result import EvaluationResult
from medsearch.eval.tuning import TOP_K, Trial, TuningResult, best_trial, tune
from medsearch.indexer.bm25 import BM25Config
from medsearch.indexer.encoder import PRECISIONS, Encoder
from medsearch.retriever.index import HybridConfig, Index

logger = logging.getLogger(__name__)

QUALITY_METRICS = ("ndcg@10", "recall@100", "mrr@10", "map@100")
METRIC_LABELS = {"ndcg@10": "nDCG@10", "recall@100": "recall@100", "mrr@10": "MRR@10", "map@100": "MAP@100"}
BENCHMARK_MODES = ("bm25", "dense", "hybrid")
QUALITY_HEADING = "Retrieval quality"
TUNING_HEADING = "Retrieval tuning (SciFact train split)"
DEFAULT_DATA = Path("../shared/data")
DEFAULT_OUT = Path("docs/BENCHMARKS.md")


@dataclass(frozen=True)
class CollectionResult:
    """The benchmark of one collection: its sizes, timings and one result per mode."""

    collection: BenchmarkCollection
    num_documents: int
    num_passages: int
    num_queries: int
    query_precision: str
    index_seconds: float | None
    search_seconds: Mapping[str, float]
    results: Mapping[str, EvaluationResult]


def benchmark_collection(
    collection: BenchmarkCollection,
    index_dir: Path,
    *,
    encoder: Encoder,
    query_encoder: Encoder | None = None,
    show_progress: bool = False,
) -> CollectionResult:
    """Index ``collection`` (or reuse the cache at ``index_dir``), then search and evaluate each mode.

    Args:
        collection: the corpus, queries and qrels.
        index_dir: the cached index directory.
        encoder: the encoder that indexes the documents.
        query_encoder: the encoder of the queries; ``None`` lets :meth:`Index.load` load its
            default one, as ``medsearch query`` does.
        show_progress: show progress bars.

    Each mode retrieves the top :data:`TOP_K` hits per query.

    Raises:
        MedsearchError: a file of the collection is missing or malformed.
    """
    documents = collection.documents()
    queries = collection.queries()
    qrels = collection.qrels()

    started = time.perf_counter()
    built = ensure_index(documents, index_dir, encoder=encoder, show_progress=show_progress)
    index_seconds = time.perf_counter() - started if built else None

    index = Index.load(index_dir, encoder=query_encoder)
    # Index.encoder loads the model on first use; load it here so that no search time includes it.
    query_precision = index.encoder.precision
    results: dict[str, EvaluationResult] = {}
    search_seconds: dict[str, float] = {}
    for mode in BENCHMARK_MODES:
        started = time.perf_counter()
        ranked = search_queries(index, queries, mode=mode, top_k=TOP_K, show_progress=show_progress)
        search_seconds[mode] = time.perf_counter() - started
        results[mode] = evaluate(
            results_to_run(ranked), qrels, QUALITY_METRICS, corpus_ids=index.documents.doc_ids
        )
    return CollectionResult(
        collection=collection,
        num_documents=len(index),
        num_passages=index.dense.num_passages,
        num_queries=len(queries),
        query_precision=query_precision,
        index_seconds=index_seconds,
        search_seconds=search_seconds,
        results=results,
    )


def quality_section(results: Sequence[CollectionResult], *, command: str, precision: str) -> str:
    """Format the "Retrieval quality" section: provenance, settings, the table and notes."""
    rows = []
    for outcome in results:
        for mode, result in outcome.results.items():
            values = [f"{result.means[metric]:.4f}" for metric in QUALITY_METRICS]
            rows.append([outcome.collection.name, mode, *values, str(result.num_queries)])
    table = markdown_table(
        ["collection", "mode", *(METRIC_LABELS[metric] for metric in QUALITY_METRICS), "queries"],
        rows,
        align_right_from=2,
    )

    details = []
    for outcome in results:
        built = (
            f"indexed in {outcome.index_seconds:.0f} s"
            if outcome.index_seconds is not None
            else "cached index reused"
        )
        searched = ", ".join(f"{mode} {seconds:.1f} s" for mode, seconds in outcome.search_seconds.items())
        details.append(
            f"- **{outcome.collection.name}**: {outcome.num_documents:,} documents as "
            f"{outcome.num_passages:,} passages ({built}); {outcome.num_queries} queries read, "
            f"{_evaluated(outcome)} with judgments evaluated; queries encoded at {outcome.query_precision}; "
            f"wall-clock search of all queries: {searched}. "
            f"Files: `{outcome.collection.corpus_path.name}`, `{outcome.collection.queries_path.name}`"
            f"{_split_note(outcome.collection)}, `{outcome.collection.qrels_path.name}`. "
            f"{outcome.collection.note[0].upper()}{outcome.collection.note[1:]}."
        )

    return "\n".join(
        [
            _provenance(command),
            "",
            f"Settings: the library defaults. Encoder all-MiniLM-L6-v2 (bundled), documents "
            f"encoded at {precision}; BM25 {_bm25_text(BM25Config())}; hybrid {_hybrid_text(HybridConfig())}. "
            f"Each query retrieves the top {TOP_K} documents, so MAP is over the top {TOP_K}. "
            "Metrics follow trec_eval (see EVALUATION.md); qrels queries missing from a run score 0.",
            "",
            table,
            "",
            *details,
        ]
    )


def tuning_section(result: TuningResult, *, command: str) -> str:
    """Format the "Retrieval tuning" section: every trial on the train split and the choice."""
    bm25 = result.best_bm25
    fusion = result.best_fusion
    bm25_config: BM25Config = bm25.config  # type: ignore[assignment]
    fusion_config: HybridConfig = fusion.config  # type: ignore[assignment]
    defaults_match = bm25_config == BM25Config() and fusion_config == HybridConfig()
    defaults_text = (
        "The library defaults (`BM25Config`, `HybridConfig`) equal this choice."
        if defaults_match
        else f"NOTE: the library defaults differ from this choice: BM25 {_bm25_text(BM25Config())}, "
        f"hybrid {_hybrid_text(HybridConfig())}."
    )
    return "\n".join(
        [
            _provenance(command),
            "",
            f"Tuning data: the SciFact train split, {result.num_queries} queries (`qrels/train.tsv`); "
            "no test query was used. BM25 `k1` and `b` were chosen first by BM25's own nDCG@10, then "
            "the fusion settings with that BM25. Each setting is scored on the top "
            f"{TOP_K} hits; the choice is the highest mean nDCG@10. Dense retrieval has no "
            f"setting here: nDCG@10 {result.dense_means['ndcg@10']:.4f}, "
            f"recall@100 {result.dense_means['recall@100']:.4f}.",
            "",
            f"Chosen: BM25 {_bm25_text(bm25_config)} (nDCG@10 {bm25.ndcg:.4f}); hybrid "
            f"{_hybrid_text(fusion_config)} (nDCG@10 {fusion.ndcg:.4f}, "
            f"recall@100 {fusion.means['recall@100']:.4f}). {defaults_text}",
            "",
            "### BM25 (Lucene variant): nDCG@10, rows k1, columns b",
            "",
            _bm25_table(result.bm25_trials),
            "",
            "### Reciprocal rank fusion: nDCG@10 / recall@100, columns depth",
            "",
            "Rows: the RRF constant k and the BM25 weight; the dense weight is 1.",
            "",
            _fusion_table([trial for trial in result.fusion_trials if _fusion_of(trial) == "rrf"], "rrf"),
            "",
            "### Convex fusion: nDCG@10 / recall@100, columns depth",
            "",
            "Rows: the BM25 weight w; the dense weight is 1 - w. Scores are min-max normalised "
            "over each retriever's candidates.",
            "",
            _fusion_table([trial for trial in result.fusion_trials if _fusion_of(trial) == "convex"], "convex"),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [name for name in args.collections if name not in COLLECTIONS]
    if unknown:
        parser.error(f"unknown collection {unknown[0]!r} in --collections; choose from {', '.join(COLLECTIONS)}")
    _configure_logging(args.verbose)
    command = "python -m medsearch.eval.benchmark " + shlex.join(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "tune":
            _run_tuning(args, command.strip())
        else:
            _run_benchmark(args, command.strip())
    except MedsearchError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


def _run_benchmark(args: argparse.Namespace, command: str) -> None:
    encoder = _encoder(args.precision)
    query_encoder = None if args.query_precision is None else Encoder(precision=args.query_precision)
    outcomes = []
    with _cache_directory(args.index_cache) as cache:
        for name in args.collections:
            collection = COLLECTIONS[name](args.data)
            index_dir = cache / f"{name}-{encoder.precision}"
            outcome = benchmark_collection(
                collection, index_dir, encoder=encoder, query_encoder=query_encoder, show_progress=args.progress
            )
            outcomes.append(outcome)

    table = {
        f"{outcome.collection.name} {mode}": result
        for outcome in outcomes
        for mode, result in outcome.results.items()
    }
    print(format_results_table(table))
    if args.out is not None:
        replace_section(args.out, QUALITY_HEADING, quality_section(outcomes, command=command, precision=encoder.precision))
        print(f"Wrote the {QUALITY_HEADING!r} section of {args.out}")


def _run_tuning(args: argparse.Namespace, command: str) -> None:
    collection = scifact(args.data, split="train")
    encoder = _encoder(args.precision)
    with _cache_directory(args.index_cache) as cache:
        index_dir = cache / f"scifact-{encoder.precision}"
        ensure_index(collection.documents(), index_dir, encoder=encoder, show_progress=args.progress)
        index = Index.load(index_dir, encoder=encoder)
        result = tune(index, collection.queries(), collection.qrels(), show_progress=args.progress)

    bm25 = best_trial(result.bm25_trials)
    fusion = best_trial(result.fusion_trials)
    print(_bm25_table(result.bm25_trials))
    print(f"Chosen BM25: {_bm25_text(bm25.config)} nDCG@10 {bm25.ndcg:.4f}")  # type: ignore[arg-type]
    print(
        f"Chosen hybrid: {_hybrid_text(fusion.config)} nDCG@10 {fusion.ndcg:.4f} "  # type: ignore[arg-type]
        f"recall@100 {fusion.means['recall@100']:.4f}"
    )
    if args.out is not None:
        replace_section(args.out, TUNING_HEADING, tuning_section(result, command=command))
        print(f"Wrote the {TUNING_HEADING!r} section of {args.out}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m medsearch.eval.benchmark",
        description="Measure retrieval quality on SciFact and NFCorpus (run), or tune BM25 and fusion "
        "settings on the SciFact train split (tune).",
    )
    parser.add_argument("command", nargs="?", choices=("run", "tune"), default="run", help="Default: run.")

    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"Directory with scifact/ and nfcorpus/. Default: {DEFAULT_DATA}."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"Markdown file whose section is rewritten. Default: {DEFAULT_OUT}.",
    )
    parser.add_argument("--no-out", dest="out", action="store_const", const=None, help="Only print the results.")

    parser.add_argument(
        "--index-cache",
        type=Path,
        default=None,
        help="Directory for the indexes, reused by later runs. Default: a temporary directory.",
    )
    parser.add_argument(
        "--collections",
        type=lambda text: text.split(","),
        default=list(COLLECTIONS),
        help=f"Comma-separated collections to run. Default: {','.join(COLLECTIONS)}.",
    )

    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=None,
        help="Encoder arithmetic for indexing. Default: the Encoder default that build_index uses.",
    )
    parser.add_argument(
        "--query-precision",
        choices=PRECISIONS,
        default=None,
        help="Encoder arithmetic for the queries. Default: that of the encoder Index.load loads.",
    )
    parser.add_argument("--progress", action="store_true", help="Show progress bars.")
    parser.add_argument("--verbose", "-v", action="store_true", help="Log debug messages.")
    return parser


def _configure_logging(verbose: bool) -> None:
    from medsearch.cli.app import configure_logging

    configure_logging(verbose)
    if not verbose:
        # Tuning evaluates hundreds of runs; their per-run INFO lines would bury the progress.
        for name in ("medsearch.eval.evaluate", "medsearch.eval.index_runs"):
            logging.getLogger(name).setLevel(logging.WARNING)


@contextlib.contextmanager
def _cache_directory(path: Path | None) -> Iterator[Path]:
    """Yield the ``--index-cache`` directory, or a temporary one that is removed afterwards."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="medsearch-benchmark-") as temporary:
        yield Path(temporary)


def _encoder(precision: str | None) -> Encoder:
    return Encoder() if precision is None else Encoder(precision=precision)


def _provenance(command: str) -> str:
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    load = f", 1-minute load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""
    return (
        f"Command: `{command}`  \nDate: {date}; machine: {cpu_description()}{load}  \n"
        f"Versions: {package_versions()}"
    )


def _evaluated(outcome: CollectionResult) -> int:
    return next(iter(outcome.results.values())).num_queries


def _split_note(collection: BenchmarkCollection) -> str:
    return f" (split {collection.split})" if collection.split else ""


def _bm25_text(config: BM25Config) -> str:
    return f"{config.method} k1={config.k1:g} b={config.b:g}"


def _hybrid_text(config: HybridConfig) -> str:
    if config.fusion == "rrf":
        fusion = f"RRF k={config.rrf_k:g}"
    else:
        fusion = "convex fusion"
    return (
        f"{fusion}, BM25 weight {config.bm25_weight:g}, dense weight {config.dense_weight:g}, "
        f"depth {config.depth}"
    )


def _fusion_of(trial: Trial) -> str:
    return trial.config.fusion  # type: ignore[union-attr]


def _bm25_table(trials: Sequence[Trial]) -> str:
    best = best_trial(trials)
    k1_values = sorted({trial.config.k1 for trial in trials})  # type: ignore[union-attr]
    b_values = sorted({trial.config.b for trial in trials})  # type: ignore[union-attr]
    cells = {(trial.config.k1, trial.config.b): trial for trial in trials}  # type: ignore[union-attr]
    rows = [
        [f"{k1:g}", *(_cell(cells[(k1, b)], best, recall=False) for b in b_values)]
        for k1 in k1_values
    ]
    return markdown_table(["k1 \\ b", *(f"{b:g}" for b in b_values)], rows)


def _fusion_table(trials: Sequence[Trial], fusion: str) -> str:
    if not trials:
        return "(no trials)"
    best = best_trial(trials)
    depths = sorted({trial.config.depth for trial in trials})  # type: ignore[union-attr]
    by_row: dict[tuple[str, ...], dict[int, Trial]] = {}
    for trial in trials:
        config: HybridConfig = trial.config  # type: ignore[assignment]
        key = (f"{config.rrf_k:g}", f"{config.bm25_weight:g}") if fusion == "rrf" else (f"{config.bm25_weight:g}",)
        by_row.setdefault(key, {})[config.depth] = trial
    header = ["k", "BM25 weight"] if fusion == "rrf" else ["BM25 weight w"]
    rows = [[*key, *(_cell(cells[depth], best, recall=True) for depth in depths)] for key, cells in by_row.items()]
    return markdown_table([*header, *(f"depth {depth}" for depth in depths)], rows, align_right_from=len(header))


def _cell(trial: Trial, best: Trial, *, recall: bool) -> str:
    text = f"{trial.ndcg:.4f}"
    if recall:
        text += f" / {trial.means['recall@100']:.4f}"
    return f"**{text}**" if trial is best else text


if __name__ == "__main__":
    sys.exit(main())
