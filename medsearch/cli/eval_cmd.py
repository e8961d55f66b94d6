"""``medsearch eval``: evaluate TREC run files, or search an index and evaluate each mode."""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsearch.cli.answering import READER_HELP, quiet_transformers
from medsearch.cli.app import app, configure_logging, handle_errors
from medsearch.cli.eval_reader_cmd import SPEC_HELP, print_reader_scores
from medsearch.errors import MedsearchError
from medsearch.eval import (
    DEFAULT_CUTOFFS,
    DEFAULT_FAMILIES,
    DEFAULT_PERMUTATIONS,
    RELEVANCE_LEVEL,
    EvaluationResult,
    PairedComparison,
    compare_results,
    evaluate,
    expand_metrics,
    format_comparison_table,
    format_results_table,
    read_qrels,
    read_queries,
    read_run,
    results_to_json,
    results_to_run,
    search_queries,
    write_per_query_tsv,
    write_run,
)

logger = logging.getLogger("medsearch.cli")

DEFAULT_DEPTH = 1000
SEARCH_MODES = ("bm25", "dense", "hybrid")


class ModeChoice(str, Enum):
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"
    all = "all"


class MissingChoice(str, Enum):
    zero = "zero"
    skip = "skip"


@app.command("eval")
@handle_errors
def eval_command(
    qrels: Annotated[
        Optional[Path],
        typer.Option(
            help="Relevance judgments: TREC qrels (query_id 0 doc_id grade) or a BEIR qrels TSV "
            "with its 'query-id corpus-id score' header; .gz allowed. Needed unless --squad is given.",
            show_default=False,
        ),
    ] = None,
    runs: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--run",
            help="TREC run file to evaluate (query_id Q0 doc_id rank score tag; .gz allowed). "
            "Repeat for several runs; the first is the baseline of the significance tests.",
            show_default=False,
        ),
    ] = None,
    cutoffs: Annotated[
        str,
        typer.Option(
            "--k",
            "--cutoffs",
            help="Comma-separated rank cut-offs, in documents, for every @k metric.",
        ),
    ] = ",".join(str(k) for k in DEFAULT_CUTOFFS),
    metrics: Annotated[
        str,
        typer.Option(
            help="Comma-separated metric families (ndcg, recall, precision, mrr, success, map), "
            "each computed at every --k cut-off except map, which is full-depth MAP. Full names "
            "such as ndcg@10 or map@100 are taken as they are.",
        ),
    ] = ",".join(DEFAULT_FAMILIES),
    missing: Annotated[
        MissingChoice,
        typer.Option(
            help="Qrels queries missing from a run: 'zero' scores them 0 (trec_eval -c), "
            "'skip' leaves them out of the means (trec_eval without -c).",
        ),
    ] = MissingChoice.zero,
    index: Annotated[
        Optional[Path],
        typer.Option(
            help="Index directory to search instead of reading --run files; needs --queries.",
            show_default=False,
        ),
    ] = None,
    queries: Annotated[
        Optional[Path],
        typer.Option(
            help="With --index: the queries to search, a BEIR queries.jsonl or a "
            "query_id<TAB>text file (NFCorpus *.queries).",
            show_default=False,
        ),
    ] = None,
    split: Annotated[
        Optional[str],
        typer.Option(
            help="With --index and a BEIR queries.jsonl: search only queries whose "
            "metadata.split is this, for example test.",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        Optional[ModeChoice],
        typer.Option(
            help="With --index: the retrieval mode to evaluate, or all three. Default: all.",
            show_default=False,
        ),
    ] = None,
    run_dir: Annotated[
        Optional[Path],
        typer.Option(
            help="With --index: also write each mode's run to RUN_DIR/MODE.run (TREC format).",
            show_default=False,
        ),
    ] = None,
    depth: Annotated[
        Optional[int],
        typer.Option(
            "--depth",
            "-k",
            min=1,
            help=f"With --index: documents retrieved per query. Default: {DEFAULT_DEPTH}.",
            show_default=False,
        ),
    ] = None,
    device: Annotated[
        Optional[str],
        typer.Option(
            help="With --index: encoder device, cpu or cuda. Default: cuda if available, "
            "else cpu.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option(
            help="Write the means, the significance tests and the settings to this JSON file.",
            show_default=False,
        ),
    ] = None,
    per_query: Annotated[
        Optional[Path],
        typer.Option(
            help="Write every per-query value to this TSV file (run, query_id, metric, value).",
            show_default=False,
        ),
    ] = None,
    permutations: Annotated[
        int,
        typer.Option(min=1, help="Random sign-flip permutations of the randomization test."),
    ] = DEFAULT_PERMUTATIONS,
    seed: Annotated[int, typer.Option(help="Seed of the randomization test (and of --squad subsamples).")] = 0,
    squad: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Evaluate the extractive reader instead of retrieval: exact match and F1 with the gold "
            f"context, beside a sentence-overlap baseline. {SPEC_HELP} Repeat for several files.",
            show_default=False,
        ),
    ] = None,
    reader_name: Annotated[
        Optional[str],
        typer.Option("--reader", help="With --squad: " + READER_HELP, show_default=False),
    ] = None,
    end_to_end: Annotated[
        bool,
        typer.Option(
            help="With --squad: also index all contexts of each file, retrieve --read-top-k of them per "
            "question (hybrid) and read those."
        ),
    ] = False,
    read_top_k: Annotated[
        int, typer.Option(min=1, help="With --squad --end-to-end: documents retrieved and read per question.")
    ] = 5,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Evaluate runs with trec_eval's metrics and test the differences between runs.

    Give --run files, or give --index with --queries to search every query in each mode first.
    With --squad files instead, it scores the extractive reader (exact match and F1).

    Prints one row of means per run.

    With two or more runs, it also prints paired two-sided p-values of each run against the first.

    The tests are the paired t-test and a randomization test, both per metric.
    """
    configure_logging(verbose)
    if squad:
        retrieval_options = [name for name, value in (("--qrels", qrels), ("--run", runs), ("--index", index)) if value]
        if retrieval_options:
            raise MedsearchError(
                f"--squad evaluates the reader; leave out {', '.join(retrieval_options)}, which evaluate retrieval"
            )
        _evaluate_reader(squad, reader_name, end_to_end=end_to_end, k=read_top_k, seed=seed, out=out)
        return
    if qrels is None:
        raise MedsearchError("give --qrels FILE to evaluate retrieval, or --squad FILE to evaluate the reader")
    index_options = {
        "--queries": queries,
        "--split": split,
        "--mode": mode,
        "--run-dir": run_dir,
        "--depth": depth,
        "--device": device,
    }
    if bool(runs) == (index is not None):
        raise MedsearchError(
            "give either --run FILE (repeatable) or --index DIR with --queries FILE"
        )
    if runs:
        misplaced = [name for name, value in index_options.items() if value is not None]
        if misplaced:
            raise MedsearchError(f"{', '.join(misplaced)} only apply with --index, not with --run")
    elif queries is None:
        raise MedsearchError("--index needs --queries FILE: the queries to search")

    metric_list = expand_metrics(_split_list(metrics), _parse_cutoffs(cutoffs))
    metric_names = [metric.name for metric in metric_list]
    judgments = read_qrels(qrels)

    corpus_ids = None
    if runs:
        named_runs = {name: read_run(path) for name, path in _run_names(runs).items()}
    else:
        assert index is not None and queries is not None  # checked above; narrows the types
        named_runs, corpus_ids = _search_index(
            index,
            queries,
            split=split,
            modes=SEARCH_MODES if mode is None or mode == ModeChoice.all else (mode.value,),
            depth=depth or DEFAULT_DEPTH,
            largest_cutoff=max((metric.k or 0) for metric in metric_list),
            run_dir=run_dir,
            device=device,
        )

    results: dict[str, EvaluationResult] = {}
    for name, run in named_runs.items():
        logger.info("Evaluating %s", name)
        results[name] = evaluate(
            run,
            judgments,
            metric_names,
            (),
            missing_queries=missing.value,
            corpus_ids=corpus_ids,
        )

    typer.echo(format_results_table(results))
    comparisons = _compare(results, permutations=permutations, seed=seed)

    if out is not None:
        settings = {
            "qrels": str(qrels),
            "metrics": metric_names,
            "relevance_level": RELEVANCE_LEVEL,
            "missing_queries": missing.value,
            "permutations": permutations,
            "seed": seed,
            "runs": {name: str(path) for name, path in _run_names(runs).items()} if runs else None,
            "index": str(index) if index is not None else None,
            "queries": str(queries) if queries is not None else None,
            "split": split,
            "depth": None if runs else depth or DEFAULT_DEPTH,
        }
        _make_parent(out)
        out.write_text(results_to_json(results, comparisons, settings), encoding="utf-8")
        logger.info("Wrote the summary to %s", out)
    if per_query is not None:
        _make_parent(per_query)
        lines = write_per_query_tsv(per_query, results)
        logger.info("Wrote %d per-query values to %s", lines, per_query)


def _evaluate_reader(specs: list[str], reader_name: str | None, *, end_to_end: bool, k: int, seed: int, out: Path | None) -> None:
    from medsearch.reader import Reader, parse_source
    from medsearch.reader.evaluate import evaluate_sources

    quiet_transformers()
    for spec in specs:
        parse_source(spec)  # a bad spec fails before the model loads
    reader = Reader(reader_name)
    scores = evaluate_sources(reader, specs, end_to_end=end_to_end, k=k, seed=seed, show_progress=True)
    if out is not None:
        _make_parent(out)
    print_reader_scores(reader, scores, out)


def _compare(
    results: dict[str, EvaluationResult], *, permutations: int, seed: int
) -> dict[tuple[str, str], tuple[PairedComparison, ...]]:
    comparisons = {}
    names = list(results)
    baseline = names[0]
    for name in names[1:]:
        tests = compare_results(
            results[baseline], results[name], num_permutations=permutations, seed=seed
        )
        comparisons[(baseline, name)] = tests
        typer.echo(
            f"\n{name} against {baseline}: paired two-sided tests over "
            f"{tests[0].num_queries if tests else 0} queries "
            f"(randomization: {permutations:,} permutations, seed {seed})"
        )
        typer.echo(format_comparison_table(baseline, name, tests))
    return comparisons


def _search_index(
    index_path: Path,
    queries_path: Path,
    *,
    split: str | None,
    modes: tuple[str, ...],
    depth: int,
    largest_cutoff: int,
    run_dir: Path | None,
    device: str | None,
) -> tuple[dict[str, dict[str, dict[str, float]]], list[str] | None]:
    from medsearch.retriever import Index  # loads torch and FAISS, so only on this path

    if depth < largest_cutoff:
        logger.warning(
            "--depth %d is below the largest cut-off %d: metrics at cut-offs above %d see only "
            "the top %d documents",
            depth,
            largest_cutoff,
            depth,
            depth,
        )
    queries = read_queries(queries_path, split=split)
    index = Index.load(index_path, device=device)

    corpus_ids = None
    documents = getattr(index, "documents", None)
    if documents is not None and hasattr(documents, "doc_ids"):
        corpus_ids = list(documents.doc_ids)
    else:
        logger.info(
            "The index lists no doc ids, so judged doc ids are checked against the runs only"
        )

    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
    named_runs = {}
    for mode in modes:
        ranked = search_queries(index, queries, mode=mode, top_k=depth, show_progress=True)
        if run_dir is not None:
            write_run(run_dir / f"{mode}.run", ranked, tag=f"medsearch-{mode}")
        named_runs[mode] = results_to_run(ranked)
    return named_runs, corpus_ids


def _run_names(paths: list[Path]) -> dict[str, Path]:
    if len(set(paths)) != len(paths):
        raise MedsearchError("the same --run file is given twice; give each run once")
    names = [path.name for path in paths]
    if len(set(names)) != len(names):
        names = [str(path) for path in paths]
    return dict(zip(names, paths))


def _parse_cutoffs(text: str) -> list[int]:
    cutoffs = []
    for item in _split_list(text):
        if not item.isdigit() or int(item) < 1:
            raise MedsearchError(
                f"--k {text!r}: cut-off {item!r} is not a positive integer; "
                "give a comma-separated list such as 1,10,100"
            )
        cutoffs.append(int(item))
    return cutoffs


def _split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _make_parent(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
