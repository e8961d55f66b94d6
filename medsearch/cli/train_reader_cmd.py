"""``medsearch train-reader``: fine-tune an extractive question-answering reader on SQuAD-format files."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsearch.cli.app import app, configure_logging, handle_errors

logger = logging.getLogger("medsearch.cli")

DATA_HELP = (
    "SQuAD-format training file, optionally with options after '@': "
    "PATH@questions=N (seeded subsample of N questions), split=train|dev|test (part of a seeded "
    "80/10/10 split by context), repeat=N (show each window N times per pass). Repeat the argument "
    "for several files."
)


@app.command("train-reader")
@handle_errors
def train_reader_command(
    data: Annotated[list[str], typer.Argument(help=DATA_HELP, show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write the model into.")],
    base_model: Annotated[
        Optional[str],
        typer.Option(
            help="Hugging Face model name or path to start from. Default: the bundled all-MiniLM-L6-v2.",
            show_default=False,
        ),
    ] = None,
    steps: Annotated[int, typer.Option(min=1, help="Optimizer updates.")] = 2000,
    batch_size: Annotated[int, typer.Option(min=1, help="Windows per forward pass.")] = 16,
    grad_accumulation: Annotated[int, typer.Option(min=1, help="Forward passes per optimizer update.")] = 1,
    lr: Annotated[float, typer.Option(help="Peak learning rate of AdamW.")] = 1e-4,
    warmup: Annotated[float, typer.Option(help="Fraction of the steps with a linearly rising learning rate.")] = 0.1,
    weight_decay: Annotated[float, typer.Option(help="AdamW weight decay (not on biases or LayerNorm).")] = 0.01,
    max_length: Annotated[int, typer.Option(help="Tokens per window, question included.")] = 256,
    stride: Annotated[int, typer.Option(help="Context tokens shared by neighbouring windows.")] = 96,
    negatives: Annotated[
        int, typer.Option(min=0, help="Windows without the answer kept per question (labelled [CLS]).")
    ] = 1,
    seed: Annotated[int, typer.Option(help="Seed for subsampling, window order, dropout and the span head.")] = 42,
    save_every: Annotated[int, typer.Option(min=1, help="Rewrite the checkpoint every this many steps.")] = 200,
    log_every: Annotated[int, typer.Option(min=1, help="Log the mean loss every this many steps.")] = 20,
    threads: Annotated[
        Optional[int], typer.Option(min=1, help="torch CPU threads. Default: torch's choice.", show_default=False)
    ] = None,
    precision: Annotated[
        str, typer.Option(help="fp32, or bf16 for CPU bfloat16 autocast (weights stay fp32).")
    ] = "fp32",
    overwrite: Annotated[bool, typer.Option(help="Replace a model already in --output.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Train a reader (span head over an encoder) and save it with its training record."""
    configure_logging(verbose)
    from medsearch.reader.squad import parse_source
    from medsearch.reader.train import TrainConfig, train_reader

    config = TrainConfig(
        steps=steps,
        batch_size=batch_size,
        grad_accumulation=grad_accumulation,
        learning_rate=lr,
        weight_decay=weight_decay,
        warmup=warmup,
        max_length=max_length,
        stride=stride,
        negatives_per_question=negatives,
        seed=seed,
        save_every=save_every,
        log_every=log_every,
        threads=threads,
        precision=precision,
    )
    record = train_reader(
        [parse_source(spec) for spec in data],
        output,
        config=config,
        base_model=base_model,
        overwrite=overwrite,
        show_progress=progress,
    )
    typer.echo(
        f"Trained for {record['completed_steps']} steps on {record['training_windows']} windows "
        f"in {record['elapsed_seconds'] / 60:.1f} min; model and training.json in {output}"
    )
