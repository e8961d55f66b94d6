"""``medsearch query``: search an index for one query, or for a file of queries."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsearch.cli.answering import PRECISION_HELP, AnswersOption, ReaderOption, ThresholdOption, answer_and_print
from medsearch.cli.app import app, configure_logging, handle_errors
from medsearch.cli.defaults import INDEX_HELP, default_index_path
from medsearch.errors import MedsearchError
from medsearch.eval.topics import read_queries
from medsearch.eval.trec import write_run
from medsearch.indexer.index_types import parse_search_params
from medsearch.retriever import MODES, Hit, Index, best_snippet

logger = logging.getLogger("medsearch.cli")


@app.command("query")
@handle_errors
def query_command(
    text: Annotated[
        Optional[str], typer.Argument(help="The query: keywords or a question.", show_default=False)
    ] = None,
    index: Annotated[Optional[Path], typer.Option("--index", "-i", help=INDEX_HELP, show_default=False)] = None,
    k: Annotated[
        Optional[int],
        typer.Option(
            "-k",
            "--top-k",
            min=1,
            help="Number of documents to return per query. Default: 10, or 5 with --answer.",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        str, typer.Option(help=f"Retrieval mode: {', '.join(MODES)} (hybrid fuses BM25 and dense scores).")
    ] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")] = False,
    queries: Annotated[
        Optional[Path],
        typer.Option(
            help="Search every query in this file instead of TEXT: a query_id<TAB>text TSV or a BEIR "
            "queries.jsonl. Needs --run-out.",
            show_default=False,
        ),
    ] = None,
    run_out: Annotated[
        Optional[Path],
        typer.Option(help="TREC run file to write for --queries (qid Q0 doc_id rank score tag).", show_default=False),
    ] = None,
    split: Annotated[
        Optional[str],
        typer.Option(help="With a BEIR queries.jsonl: keep only queries whose metadata.split is this.", show_default=False),
    ] = None,
    tag: Annotated[
        Optional[str], typer.Option(help="Run tag in the TREC run file. Default: medsearch-MODE.", show_default=False)
    ] = None,
    device: Annotated[
        Optional[str], typer.Option(help="Encoder device: cpu or cuda. Default: cuda if available, else cpu.")
    ] = None,
    search_params: Annotated[
        Optional[str],
        typer.Option(
            help="FAISS search parameters overriding those recorded in the index, as name=value pairs "
            "separated by commas: efSearch (hnsw), nprobe (ivf), k_factor_rf (candidates re-scored "
            "per result). Larger values search more exactly and more slowly.",
            show_default=False,
        ),
    ] = None,
    index_device: Annotated[
        str,
        typer.Option(
            help="Device of the FAISS index: cpu, cuda (needs a GPU build of faiss: pip install "
            "medsearch[gpu]), or auto (cuda when --device is cuda and faiss has GPU support)."
        ),
    ] = "auto",
    answer: Annotated[
        bool,
        typer.Option(
            "--answer",
            help="Read the retrieved abstracts with the extractive reader and print answer spans with "
            "PMID, year, title and the sentence that holds them (--json adds character offsets).",
        ),
    ] = False,
    answers: AnswersOption = 3,
    reader_name: ReaderOption = None,
    threshold: ThresholdOption = None,
    reader_precision: Annotated[str, typer.Option(help=PRECISION_HELP)] = "auto",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Search an index with BM25, dense or hybrid retrieval. With --answer, also extract answer spans from the hits."""
    configure_logging(verbose)
    if mode not in MODES:
        raise MedsearchError(f"unknown --mode {mode!r}; choose one of {', '.join(MODES)}")
    if (text is None) == (queries is None):
        raise MedsearchError("give either a query TEXT or --queries FILE (with --run-out FILE)")
    if queries is not None and run_out is None:
        raise MedsearchError("--queries needs --run-out FILE to write the TREC run to")
    if text is not None and not text.strip():
        raise MedsearchError("query 1 is empty; give a question or keywords to search for")
    if answer and queries is not None:
        raise MedsearchError("--answer reads the hits of one query TEXT; it does not work with --queries")
    if k is None:
        k = 5 if answer else 10

    loaded = Index.load(
        index or default_index_path(),
        device=device,
        search_params=parse_search_params(search_params) if search_params else None,
        index_device=index_device,
    )
    if mode != "bm25":
        loaded.encoder  # load the model now, so the time printed below is the search alone
    if queries is not None:
        _search_file(loaded, queries, run_out, k=k, mode=mode, split=split, tag=tag or f"medsearch-{mode}")
        return

    started = time.perf_counter()
    hits = loaded.search(text, k=k, mode=mode)  # type: ignore[arg-type]
    milliseconds = (time.perf_counter() - started) * 1000
    if answer:
        answer_and_print(
            text,  # type: ignore[arg-type]
            hits,
            reader_name=reader_name,
            answers=answers,
            threshold=threshold,
            precision=reader_precision,
            device=device,
            as_json=as_json,
            retrieve_ms=milliseconds,
        )
        return
    if as_json:
        _print_json(loaded, text, mode, k, hits)  # type: ignore[arg-type]
    else:
        _print_text(loaded, text, mode, hits, milliseconds)  # type: ignore[arg-type]


def _search_file(
    index: Index, queries_path: Path, run_out: Path | None, *, k: int, mode: str, split: str | None, tag: str
) -> None:
    queries = read_queries(queries_path, split=split)
    if not queries:
        raise MedsearchError(f"{queries_path} contains no queries" + (f" of split {split!r}" if split else ""))
    started = time.perf_counter()
    results = index.search_many(list(queries.values()), k=k, mode=mode, show_progress=True)
    seconds = time.perf_counter() - started
    run = {query_id: [(hit.doc_id, hit.score) for hit in hits] for query_id, hits in zip(queries, results)}
    lines = write_run(run_out, run, tag=tag)  # type: ignore[arg-type]
    typer.echo(f"Searched {len(queries):,} queries in {seconds:.1f} s ({mode}); wrote {lines:,} lines to {run_out}")


def _display_id(hit: Hit) -> str:
    return f"PMID {hit.document.pmid}" if hit.document.pmid else f"id {hit.doc_id}"


def _print_text(index: Index, query: str, mode: str, hits: list[Hit], milliseconds: float) -> None:
    bold = sys.stdout.isatty()
    before, after = ("\033[1m", "\033[0m") if bold else ("**", "**")
    typer.echo(f"{len(hits)} results for {query!r} ({mode}, {milliseconds:.0f} ms, {len(index):,} documents)")
    for hit in hits:
        year = f" · {hit.document.year}" if hit.document.year else ""
        typer.echo(f"\n{hit.rank:>3}. {_display_id(hit)}{year} · score {hit.score:.4f}")
        typer.echo(f"     {hit.document.title or '(no title)'}")
        snippet = best_snippet(hit.document, query, index.bm25.tokenizer)
        if snippet.text and snippet.text != hit.document.title:
            typer.echo(f"     {snippet.marked(before, after)}")
    if not hits:
        typer.echo("No document matched. Try other words, or --mode dense for matches by meaning.")


def _print_json(index: Index, query: str, mode: str, k: int, hits: list[Hit]) -> None:
    records = []
    for hit in hits:
        snippet = best_snippet(hit.document, query, index.bm25.tokenizer)
        records.append(
            {
                "rank": hit.rank,
                "doc_id": hit.doc_id,
                "pmid": hit.document.pmid,
                "year": hit.document.year,
                "title": hit.document.title,
                "journal": hit.document.journal,
                "doi": hit.document.doi,
                "score": hit.score,
                "bm25_rank": hit.bm25_rank,
                "bm25_score": hit.bm25_score,
                "dense_rank": hit.dense_rank,
                "dense_score": hit.dense_score,
                "snippet": snippet.text,
                "snippet_matches": [list(span) for span in snippet.matches],
            }
        )
    document = {"query": query, "mode": mode, "k": k, "index": str(index.path), "hits": records}
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
