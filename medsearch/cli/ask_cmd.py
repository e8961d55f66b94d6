"""``medsearch ask``: retrieve abstracts for a question and print the answer spans found in them."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

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
    answers: Annotated[int, typer.Option("--answers", "-n", min=1, help="Answers to print at most.")] = 3,
    reader_name: Annotated[
        Optional[str],
        typer.Option(
            "--reader", help="Hugging Face QA model name or path. Default: the shipped reader.", show_default=False
        ),
    ] = None,
    threshold: Annotated[
        Optional[float],
        typer.Option(
            help="Minimum answer score (span logits minus the no-answer logits). Default: the reader's "
            "calibrated threshold.",
            show_default=False,
        ),
    ] = None,
    precision: Annotated[
        str,
        typer.Option(
            help="Reader precision: auto (bf16 where the hardware has native bf16, else fp32), fp32, bf16 "
            "(autocast) or int8 (quantized linear layers, CPU only)."
        ),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document with character offsets.")] = False,
    device: Annotated[
        Optional[str], typer.Option(help="Device: cpu or cuda. Default: cuda if available, else cpu.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Answer a question with spans from the top abstracts, with PMID, year, title and sentence."""
    configure_logging(verbose)
    _quiet_transformers()
    if not question.strip():
        raise MedsearchError("the question is empty; give it in quotes, e.g. medsearch ask \"What lowers LDL?\"")
    from medsearch.reader import Reader
    from medsearch.retriever import Index

    loaded = Index.load(index or default_index_path(), device=device)
    reader = Reader(reader_name, device=device, precision=precision)

    started = time.perf_counter()
    hits = loaded.search(question, k=k, mode="hybrid")
    retrieved = time.perf_counter()
    found = reader.read(question, hits, top_k=answers, threshold=threshold)
    finished = time.perf_counter()

    timings = {"retrieve_ms": round((retrieved - started) * 1000, 1), "read_ms": round((finished - retrieved) * 1000, 1)}
    documents = {hit.doc_id: hit.document for hit in hits}
    if as_json:
        _print_json(question, found, documents, reader, timings)
    else:
        _print_text(question, found, documents, len(hits), timings)


def _print_text(question, found, documents, hit_count: int, timings: dict[str, float]) -> None:
    typer.echo(f"Question: {question}")
    if not found:
        typer.echo(f"No answer found in the top {hit_count} abstracts (no span scored above the threshold).")
    for rank, answer in enumerate(found, start=1):
        document = documents[answer.doc_id]
        identifier = f"PMID {document.pmid}" if document.pmid else f"id {document.doc_id}"
        year = document.year if document.year is not None else "year unknown"
        typer.echo(f"\n{rank}. {answer.text}    (score {answer.score:.2f})")
        typer.echo(f"   {identifier}, {year}: {document.title or '(no title)'}")
        typer.echo(f"   {_mark_span(answer)}")
    typer.echo(f"\nRetrieval {timings['retrieve_ms']:.0f} ms, reading {timings['read_ms']:.0f} ms")


def _mark_span(answer) -> str:
    """Return the answer's sentence with the span between '>>' and '<<'."""
    begin = answer.start - answer.sentence_start
    end = answer.end - answer.sentence_start
    sentence = answer.sentence
    return f"{sentence[:begin]}>>{sentence[begin:end]}<<{sentence[end:]}".replace("\n", " ")


def _print_json(question, found, documents, reader, timings: dict[str, float]) -> None:
    payload = {
        "question": question,
        "reader": reader.model_name_or_path,
        "no_answer_threshold": reader.settings.no_answer_threshold,
        "answers": [
            {
                "text": answer.text,
                "score": round(answer.score, 4),
                "doc_id": answer.doc_id,
                "pmid": documents[answer.doc_id].pmid,
                "year": documents[answer.doc_id].year,
                "title": documents[answer.doc_id].title,
                "start": answer.start,
                "end": answer.end,
                "sentence": answer.sentence,
                "sentence_start": answer.sentence_start,
                "offsets_into": "Document.text (title, blank line, abstract)",
            }
            for answer in found
        ],
        "timings": timings,
    }
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _quiet_transformers() -> None:
    """Hide transformers' weight-loading progress bars, which would mix into the command's output."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
