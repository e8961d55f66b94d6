"""``medsearch eval-reader``: exact match and F1 of a reader on SQuAD-format files, beside a baseline."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsearch.cli.answering import PRECISION_HELP, quiet_transformers
from medsearch.cli.app import app, configure_logging, handle_errors
from medsearch.errors import MedsearchError

logger = logging.getLogger("medsearch.cli")

SPEC_HELP = (
    "SQuAD-format file to evaluate on, optionally PATH@questions=N (seeded subsample) and/or "
    "@split=train|dev|test (part of the seeded 80/10/10 split by context that train-reader uses)."
)


@app.command("eval-reader")
@handle_errors
def eval_reader_command(
    data: Annotated[Optional[list[str]], typer.Argument(help=SPEC_HELP, show_default=False)] = None,
    reader_name: Annotated[
        Optional[str],
        typer.Option(
            "--reader", help="Hugging Face QA model name or path. Default: the shipped reader.", show_default=False
        ),
    ] = None,
    end_to_end: Annotated[
        bool,
        typer.Option(
            help="Also index all contexts of each file in a temporary index, retrieve -k of them per "
            "question and read those."
        ),
    ] = False,
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, help="Documents retrieved per question (--end-to-end).")] = 5,
    mode: Annotated[str, typer.Option(help="Retrieval mode for --end-to-end: bm25, dense or hybrid.")] = "hybrid",
    seed: Annotated[int, typer.Option(help="Seed of the questions=N subsample.")] = 0,
    max_length: Annotated[
        Optional[int], typer.Option(help="Tokens per window. Default: the reader's setting.", show_default=False)
    ] = None,
    stride: Annotated[
        Optional[int],
        typer.Option(help="Tokens shared by neighbouring windows. Default: the reader's setting.", show_default=False),
    ] = None,
    max_answer_tokens: Annotated[
        Optional[int],
        typer.Option(help="Maximum tokens in an answer span. Default: the reader's setting.", show_default=False),
    ] = None,
    calibrate: Annotated[
        Optional[str],
        typer.Option(
            help="Before evaluating, choose the no-answer threshold that maximises F1 on this SQuAD-format "
            "file (it needs unanswerable questions, as SQuAD 2.0 dev has; same PATH@... options) and store "
            "it, with --max-length, --stride and --max-answer-tokens, in the reader's reader_config.json.",
            show_default=False,
        ),
    ] = None,
    precision: Annotated[str, typer.Option(help=PRECISION_HELP)] = "auto",
    out: Annotated[
        Optional[Path], typer.Option(help="Write the scores as JSON to this file.", show_default=False)
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Evaluate a reader with each question's gold context, and optionally end to end."""
    configure_logging(verbose)
    quiet_transformers()
    from medsearch.reader import Reader, parse_source
    from medsearch.reader.evaluate import evaluate_sources
    from medsearch.reader.squad import load_source

    if mode not in ("bm25", "dense", "hybrid"):
        raise MedsearchError(f"unknown --mode {mode!r}; choose one of bm25, dense, hybrid")
    data = data or []
    if not data and calibrate is None:
        raise MedsearchError("nothing to do: give SQuAD-format files to evaluate, or --calibrate FILE")
    for spec in data:
        parse_source(spec)  # a bad spec fails before the model loads
    reader = Reader(
        reader_name, max_length=max_length, stride=stride, max_answer_tokens=max_answer_tokens, precision=precision
    )

    if calibrate is not None:
        examples, record = load_source(parse_source(calibrate), seed=seed)
        _save_threshold(reader, examples, record)
    if data:
        scores = evaluate_sources(reader, data, end_to_end=end_to_end, k=k, mode=mode, seed=seed, show_progress=progress)
        print_reader_scores(reader, scores, out)


def print_reader_scores(reader, scores, out: Path | None) -> None:
    """Print the scores table, and write the scores with the reader's settings to ``out`` as JSON."""
    from medsearch.reader.evaluate import write_scores_table

    typer.echo(write_scores_table(scores))
    if out is not None:
        payload = {
            "reader": reader.model_name_or_path,
            "precision": reader.precision,
            "settings": asdict(reader.settings),
            "scores": [asdict(score) for score in scores],
        }
        out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"Wrote {out}")


def _save_threshold(reader, examples, record) -> None:
    from medsearch.reader.evaluate import choose_threshold, predict
    from medsearch.reader.reader import write_reader_settings

    model_dir = Path(reader.model_name_or_path)
    if not model_dir.is_dir():
        raise MedsearchError(f"--calibrate needs a reader in a local directory, not {reader.model_name_or_path!r}")
    if not any(example.is_impossible for example in examples):
        raise MedsearchError(
            f"{record['spec']} has no unanswerable questions, so every threshold answers all of them; "
            "choose the threshold on a SQuAD 2.0-style file"
        )

    predictions = predict(reader, examples)
    threshold, f1 = choose_threshold(examples, predictions)
    settings = replace(reader.settings, no_answer_threshold=round(threshold, 4))
    calibration = {
        "data": {key: record[key] for key in ("spec", "sha256", "questions")},
        "unanswerable": sum(example.is_impossible for example in examples),
        "f1_at_threshold": round(f1, 2),
    }
    path = write_reader_settings(model_dir, settings, calibration)
    reader.settings = settings
    typer.echo(f"No-answer threshold {threshold:.3f} (F1 {f1:.1f} on {record['spec']}) stored in {path}")

