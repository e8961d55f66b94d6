"""``medsearch bench speed``: measure encoding, search and scale speed against the usual baselines."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsearch.cli.app import app, configure_logging, handle_errors
from medsearch.errors import MedsearchError

logger = logging.getLogger("medsearch.cli")

bench_app = typer.Typer(help="Benchmarks that print Markdown tables.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("speed")
@handle_errors
def speed_command(
    docs: Annotated[
        int,
        typer.Option(min=1, help="SciFact documents (a seeded sample) encoded per round, and indexed when --index is not given."),
    ] = 200,
    rounds: Annotated[int, typer.Option(min=1, help="Alternating rounds of each side-by-side comparison.")] = 2,
    precision: Annotated[
        str, typer.Option(help="medsearch encoder arithmetic: auto, fp32, bf16 or fp16.")
    ] = "auto",
    index: Annotated[
        Optional[Path],
        typer.Option(
            help="Index to time searches and the cold start on, e.g. one of the whole SciFact corpus. "
            "Default: an index of the --docs sample, built in a temporary directory.",
            show_default=False,
        ),
    ] = None,
    latency_queries: Annotated[int, typer.Option(min=2, help="SciFact test queries timed per search mode.")] = 100,
    skip_encoding: Annotated[bool, typer.Option(help="Leave out the encoding comparison.")] = False,
    scale: Annotated[
        Optional[int],
        typer.Option(
            min=1000,
            help="Run the scale benchmark instead: this many synthetic documents from PubMed sentences "
            "(memory-mapped BM25, approximate against exact vector search, hybrid latency).",
            show_default=False,
        ),
    ] = None,
    pubmed: Annotated[
        Optional[list[Path]],
        typer.Option(help="With --scale: PubMed XML file whose abstract sentences make the documents; repeatable.",
                     show_default=False),
    ] = None,
    vectors_from: Annotated[
        Optional[Path],
        typer.Option(
            help="With --scale: index (flat) whose passage vectors are the real part of the vectors. Default: --index.",
            show_default=False,
        ),
    ] = None,
    ann_types: Annotated[
        str, typer.Option(help="With --scale: approximate index types to compare with exact search, separated by ';'.")
    ] = "ivfpq;hnsw",
    ann_params: Annotated[
        Optional[str],
        typer.Option(
            help="With --scale: search-parameter settings measured besides the defaults, separated by ';', "
            "e.g. 'nprobe=64,k_factor_rf=16;efSearch=256'. Each applies to the types it names parameters of.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option(
            help="Also write the tables into this Markdown file (e.g. docs/BENCHMARKS.md), replacing its "
            "'Speed' section, or 'Speed at scale' with --scale.",
            show_default=False,
        ),
    ] = None,
    work_dir: Annotated[
        Optional[Path], typer.Option(help="Directory for temporary indexes. Default: the system's.", show_default=False)
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Measure speed side by side with plain sentence-transformers, rank-bm25 and exact FAISS search."""
    configure_logging(verbose)
    from medsearch.eval.benchmark_report import replace_section
    from medsearch.eval.speed import run_scale, run_speed
    from medsearch.eval.speed_report import SCALE_HEADING, SPEED_HEADING, format_scale, format_speed
    from medsearch.indexer.index_types import parse_search_params

    command = "medsearch " + " ".join(shlex.quote(argument) for argument in sys.argv[1:])
    if scale is not None:
        source = vectors_from or index
        if source is None:
            raise MedsearchError("--scale needs --vectors-from INDEX (an index built with --index-type flat)")
        report = run_scale(
            command=command,
            num_docs=scale,
            pubmed_files=list(pubmed or []),
            vectors_index=source,
            ann_types=tuple(name for name in ann_types.split(";") if name.strip()),
            param_grid=tuple(parse_search_params(setting) for setting in (ann_params or "").split(";") if setting.strip()),
            latency_queries=latency_queries,
            work_dir=work_dir,
        )
        text, heading = format_scale(report), SCALE_HEADING
    else:
        report = run_speed(
            command=command,
            encode_docs=docs,
            rounds=rounds,
            precision=precision,
            index_dir=index,
            latency_queries=latency_queries,
            skip_encoding=skip_encoding,
            work_dir=work_dir,
        )
        text, heading = format_speed(report), SPEED_HEADING
    typer.echo(text)
    if out is not None:
        replace_section(out, heading, text)
        typer.echo(f"Wrote the '{heading}' section of {out}")
