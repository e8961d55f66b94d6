"""``medsearch ask``: retrieve abstracts for a question and print the answer spans found in them."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsearch.cli.answering import PRECISION_HELP, AnswersOption, ReaderOption, ThresholdOption, answer_and_print
from medsearch.cli.app import app, configure_logging, handle_errors
from medsearch.cli.defaults import INDEX_HELP, default_index_path
from medsearch.errors import MedsearchError

logger = logging.getLogger("medsearch.cli")


@app.command("ask")
@handle_errors
def ask_command(
    question: Annotated[str, typer.Argument(help="The question, in plain words.", show_default=False)],
    index: Annotated[Optional[Path], typer.Option("--index", "-i", help=INDEX_HELP, show_default=False)] = None,
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, help="Abstracts retrieved (hybrid search) and read.")] = 5,
    answers: AnswersOption = 3,
    reader_name: ReaderOption = None,
    threshold: ThresholdOption = None,
    precision: Annotated[str, typer.Option(help=PRECISION_HELP)] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document with character offsets.")] = False,
    device: Annotated[
        Optional[str], typer.Option(help="Device: cpu or cuda. Default: cuda if available, else cpu.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Answer a question with spans from the top abstracts, with PMID, year, title and sentence.

    The same as ``medsearch query QUESTION --answer -k 5``.
    """
    configure_logging(verbose)
    if not question.strip():
        raise MedsearchError("the question is empty; give it in quotes, e.g. medsearch ask \"What lowers LDL?\"")
    from medsearch.retriever import Index

    loaded = Index.load(index or default_index_path(), device=device)
    started = time.perf_counter()
    hits = loaded.search(question, k=k, mode="hybrid")
    answer_and_print(
        question,
        hits,
        reader_name=reader_name,
        answers=answers,
        threshold=threshold,
        precision=precision,
        device=device,
        as_json=as_json,
        retrieve_ms=(time.perf_counter() - started) * 1000,
    )
