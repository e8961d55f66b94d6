"""Extract answer spans from retrieved abstracts and print them, for ``medsearch ask`` and ``query --answer``."""

from __future__ import annotations

import json
import math
import time
from typing import Annotated, Any, Optional

import typer

READER_HELP = "Hugging Face QA model name or path. Default: the reader shipped with medsearch."
THRESHOLD_HELP = (
    "Minimum answer score (span logits minus the no-answer logits). Default: the reader's calibrated "
    "threshold."
)
PRECISION_HELP = (
    "Reader precision: auto (bf16 where the hardware has native bf16, else fp32), fp32, bf16 "
    "(autocast) or int8 (quantized linear layers, CPU only)."
)

ReaderOption = Annotated[Optional[str], typer.Option("--reader", help=READER_HELP, show_default=False)]
ThresholdOption = Annotated[Optional[float], typer.Option(help=THRESHOLD_HELP, show_default=False)]
AnswersOption = Annotated[int, typer.Option("--answers", "-n", min=1, help="Answers to print at most.")]


def quiet_transformers() -> None:
    """Hide transformers' weight-loading progress bars, which would mix into the command's output."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


def answer_and_print(
    question: str,
    hits: list[Any],
    *,
    reader_name: str | None,
    answers: int,
    threshold: float | None,
    precision: str,
    device: str | None,
    as_json: bool,
    retrieve_ms: float,
) -> None:
    """Load the reader, extract answer spans to ``question`` from ``hits`` and print them as text or JSON."""
    from medsearch.reader import Reader

    quiet_transformers()
    reader = Reader(reader_name, device=device, precision=precision)
    if threshold is None:
        threshold = reader.settings.no_answer_threshold
    started = time.perf_counter()
    # Read once without the threshold: when no span passes it, the best ones are still shown,
    # marked as below it, so the user sees what the reader found and can judge or lower it.
    best = reader.read(question, hits, top_k=answers, threshold=-math.inf)
    timings = {"retrieve_ms": round(retrieve_ms, 1), "read_ms": round((time.perf_counter() - started) * 1000, 1)}
    found = [answer for answer in best if answer.score >= threshold]
    below = [] if found else best
    documents = {hit.doc_id: hit.document for hit in hits}
    if as_json:
        _print_json(question, found, below, documents, reader, threshold, timings)
    else:
        _print_text(question, found, below, documents, len(hits), threshold, timings)


def mark_span(answer: Any) -> str:
    """Return the answer's sentence with the span between '>>' and '<<', on one line."""
    begin = answer.start - answer.sentence_start
    end = answer.end - answer.sentence_start
    sentence = answer.sentence
    return f"{sentence[:begin]}>>{sentence[begin:end]}<<{sentence[end:]}".replace("\n", " ")


def _print_text(
    question: str,
    found: list[Any],
    below: list[Any],
    documents: dict[str, Any],
    hit_count: int,
    threshold: float,
    timings: dict[str, float],
) -> None:
    typer.echo(f"Question: {question}")
    if not found:
        typer.echo(
            f"No answer in the top {hit_count} abstracts: no span scored above the no-answer threshold "
            f"{threshold:.2f} (--threshold sets it)."
        )
        if below:
            typer.echo("The best spans below the threshold:")
    for rank, answer in enumerate(found or below, start=1):
        document = documents[answer.doc_id]
        identifier = f"PMID {document.pmid}" if document.pmid else f"id {document.doc_id}"
        year = document.year if document.year is not None else "year unknown"
        typer.echo(f"\n{rank}. {answer.text}    (score {answer.score:.2f})")
        typer.echo(f"   {identifier}, {year}: {document.title or '(no title)'}")
        typer.echo(f"   {mark_span(answer)}")
    typer.echo(f"\nRetrieval {timings['retrieve_ms']:.0f} ms, reading {timings['read_ms']:.0f} ms")


def _print_json(
    question: str,
    found: list[Any],
    below: list[Any],
    documents: dict[str, Any],
    reader: Any,
    threshold: float,
    timings: dict[str, float],
) -> None:
    payload = {
        "question": question,
        "reader": reader.model_name_or_path,
        "reader_precision": reader.precision,
        "no_answer_threshold": threshold,
        "answers": [_answer_record(answer, documents) for answer in found],
        "best_below_threshold": [_answer_record(answer, documents) for answer in below],
        "timings": timings,
    }
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _answer_record(answer: Any, documents: dict[str, Any]) -> dict[str, Any]:
    document = documents[answer.doc_id]
    return {
        "text": answer.text,
        "score": round(answer.score, 4),
        "doc_id": answer.doc_id,
        "pmid": document.pmid,
        "year": document.year,
        "title": document.title,
        "start": answer.start,
        "end": answer.end,
        "sentence": answer.sentence,
        "sentence_start": answer.sentence_start,
        "offsets_into": "Document.text (title, blank line, abstract)",
    }
