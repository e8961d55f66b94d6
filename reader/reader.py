"""The extractive reader: find answer spans to a question in a set of passages."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from medsearch.errors import MedsearchError
from medsearch.reader.answers import Answer, SpanCandidate, rank_answers, window_candidates
from medsearch.reader.windows import check_window_sizes, context_token_range, encode_windows

logger = logging.getLogger(__name__)

SHIPPED_MODEL_DIR = Path(__file__).resolve().parent / "model"
READER_CONFIG = "reader_config.json"
PRECISIONS = ("auto", "fp32", "bf16", "int8")
# (question, passage) pairs tokenized and run together in read_many.
PAIRS_PER_CHUNK = 64


@dataclass(frozen=True)
class ReaderSettings:
    """Reading settings; the shipped model stores its own in ``reader_config.json``.

    ``no_answer_threshold`` is in the units of :attr:`Answer.score`: 0.0 means "answer only when
    the model prefers a span to [CLS]".
    """

    max_length: int = 384
    stride: int = 128
    max_answer_tokens: int = 48
    no_answer_threshold: float = 0.0


class Reader:
    """Extractive question answering over passages with a Hugging Face span-prediction model.

    ``model_name_or_path``: None loads the model shipped in ``medsearch/reader/model``; any
    name or path that ``AutoModelForQuestionAnswering`` loads works as well (a name needs the
    network or the Hugging Face cache). ``max_length``, ``stride`` (tokens shared by neighbouring
    windows), ``max_answer_tokens`` and ``no_answer_threshold`` default to the model's
    ``reader_config.json`` where it has one, else to :class:`ReaderSettings`.
    ``precision``: ``"auto"`` (the default) runs under bfloat16 autocast where the hardware has
    native bf16 arithmetic (a CPU with AVX512-BF16 or AMX, a CUDA GPU that supports it) and in
    fp32 elsewhere; ``"fp32"`` forces full precision; ``"bf16"`` forces autocast; ``"int8"``
    quantizes the linear layers to int8 (CPU only). bf16 and int8 change scores slightly. On an
    idle 2-core AMD EPYC (Zen 4), the shipped reader read the top 5 SciFact abstracts in a median
    of 148 to 244 ms in bf16 and about 500 ms in fp32 (``python -m medsearch.reader.benchmark``).

    Example::

        reader = Reader()
        answers = reader.read("What lowers LDL?", [("pmid1", "Statins lower LDL cholesterol.")])

    Raises:
        MedsearchError: if the model cannot be loaded or its tokenizer gives no character offsets.
    """

    def __init__(
        self,
        model_name_or_path: str | Path | None = None,
        device: str | None = None,
        max_length: int | None = None,
        stride: int | None = None,
        no_answer_threshold: float | None = None,
        max_answer_tokens: int | None = None,
        batch_size: int = 32,
        precision: str = "auto",
    ) -> None:
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        path = str(model_name_or_path) if model_name_or_path is not None else str(shipped_model_path())
        stored = _stored_settings(path)
        self.settings = ReaderSettings(
            max_length=max_length if max_length is not None else stored.max_length,
            stride=stride if stride is not None else stored.stride,
            max_answer_tokens=max_answer_tokens if max_answer_tokens is not None else stored.max_answer_tokens,
            no_answer_threshold=(
                no_answer_threshold if no_answer_threshold is not None else stored.no_answer_threshold
            ),
        )
        check_window_sizes(self.settings.max_length, self.settings.stride)
        if precision not in PRECISIONS:
            raise MedsearchError(f"invalid precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
        if self.settings.max_answer_tokens < 1 or batch_size < 1:
            raise MedsearchError(
                f"max_answer_tokens and batch_size must be at least 1, got {self.settings.max_answer_tokens} "
                f"and {batch_size}"
            )

        self.model_name_or_path = path
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = batch_size
        self.precision = _resolve_precision(precision, torch.device(self.device).type)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            # fp16 weights are stored to save space; CPUs compute fp32 faster than fp16.
            self.model = AutoModelForQuestionAnswering.from_pretrained(path, dtype=torch.float32)
        except (OSError, ValueError) as error:
            raise MedsearchError(
                f"could not load a question-answering model from {path!r}: {error}. Give a local directory "
                "or a Hugging Face model name (names need the network or a filled cache)."
            ) from None
        if not getattr(self.tokenizer, "is_fast", False):
            raise MedsearchError(
                f"the tokenizer of {path!r} is not a fast (Rust) tokenizer, so it gives no character offsets; "
                "save the model with a tokenizer.json"
            )
        self.model.to(self.device).eval()
        if self.precision == "int8":
            self.model = _quantize_linear_layers(self.model, self.device)
        logger.info("Loaded reader %s on %s in %s (%s)", path, self.device, self.precision, self.settings)

    def read(
        self,
        question: str,
        passages: Iterable[Any],
        top_k: int = 5,
        threshold: float | None = None,
    ) -> list[Answer]:
        """Find the ``top_k`` best answers to ``question`` across ``passages``.

        ``passages`` are ``(doc_id, text)`` pairs, medsearch ``Document`` objects (read as
        ``Document.text``) or ``Hit`` objects. Every passage is read in overlapping windows,
        spans are ranked across all passages by :attr:`Answer.score`, and answers with the same
        normalised text are merged into the best-scoring one.

        Returns answers best first; only answers scoring at least ``threshold`` (default: the
        reader's ``no_answer_threshold``) are returned, so an empty list means "no answer".
        Pass ``threshold=-math.inf`` to always get the best spans.

        Raises:
            MedsearchError: if ``top_k`` is below 1 or a passage has an unknown type.
        """
        return self.read_many([(question, passages)], top_k=top_k, threshold=threshold)[0]

    def read_many(
        self,
        requests: Sequence[tuple[str, Iterable[Any]]],
        top_k: int = 5,
        threshold: float | None = None,
        show_progress: bool = False,
    ) -> list[list[Answer]]:
        """Answer several ``(question, passages)`` requests, batching windows across them.

        Returns one answer list per request, as :meth:`read` would; faster than calling
        :meth:`read` in a loop when each request has few windows.
        """
        if top_k < 1:
            raise MedsearchError(f"top_k must be at least 1, got {top_k}")
        threshold = self.settings.no_answer_threshold if threshold is None else threshold

        pairs_per_request = [[_as_pair(passage) for passage in passages] for _, passages in requests]
        jobs = []
        for request_index, ((question, _), pairs) in enumerate(zip(requests, pairs_per_request)):
            if not question.strip():
                continue
            jobs += [(request_index, passage_index) for passage_index, (_, text) in enumerate(pairs) if text.strip()]
        skipped = sum(len(pairs) for pairs in pairs_per_request) - len(jobs)
        if skipped:
            logger.warning("Skipped %d passages with no text or with an empty question", skipped)

        candidates: list[list[SpanCandidate]] = [[] for _ in requests]
        progress = _progress_bar(len(jobs), show_progress)
        for begin in range(0, len(jobs), PAIRS_PER_CHUNK):
            chunk = jobs[begin : begin + PAIRS_PER_CHUNK]
            for (request_index, _), spans in zip(chunk, self._candidates(chunk, requests, pairs_per_request)):
                candidates[request_index] += spans
            progress.update(len(chunk))
        progress.close()

        return [
            rank_answers(spans, pairs, top_k=top_k, threshold=threshold)
            for spans, pairs in zip(candidates, pairs_per_request)
        ]

    def _candidates(
        self,
        jobs: list[tuple[int, int]],
        requests: Sequence[tuple[str, Iterable[Any]]],
        pairs_per_request: list[list[tuple[str, str]]],
    ) -> list[list[SpanCandidate]]:
        """Return the spans of every window of each (request, passage) job."""
        encoding = encode_windows(
            self.tokenizer,
            questions=[requests[request_index][0] for request_index, _ in jobs],
            contexts=[pairs_per_request[request_index][passage_index][1] for request_index, passage_index in jobs],
            max_length=self.settings.max_length,
            stride=self.settings.stride,
        )
        start_logits, end_logits = self._logits(encoding["input_ids"], encoding.get("token_type_ids"))

        spans: list[list[SpanCandidate]] = [[] for _ in jobs]
        for window, job in enumerate(encoding["overflow_to_sample_mapping"]):
            length = len(encoding["input_ids"][window])
            spans[job] += window_candidates(
                start_logits[window, :length],
                end_logits[window, :length],
                offsets=encoding["offset_mapping"][window],
                context_range=context_token_range(encoding.sequence_ids(window)),
                passage_index=jobs[job][1],
                max_answer_tokens=self.settings.max_answer_tokens,
            )
        return spans

    @torch.inference_mode()
    def _logits(
        self, input_ids: list[list[int]], token_type_ids: list[list[int]] | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the model over windows in batches: (windows, max length) start and end logits."""
        length = max(len(ids) for ids in input_ids)
        starts = torch.full((len(input_ids), length), -math.inf)
        ends = torch.full((len(input_ids), length), -math.inf)
        pad_id = self.tokenizer.pad_token_id or 0
        # Batches of windows of similar length: the short last window of each passage is not
        # padded to the length of the full ones.
        order = sorted(range(len(input_ids)), key=lambda window: len(input_ids[window]))
        for begin in range(0, len(order), self.batch_size):
            rows = order[begin : begin + self.batch_size]
            width = max(len(input_ids[window]) for window in rows)
            batch = {
                "input_ids": torch.full((len(rows), width), pad_id, dtype=torch.long),
                "attention_mask": torch.zeros((len(rows), width), dtype=torch.long),
            }
            if token_type_ids is not None:
                batch["token_type_ids"] = torch.zeros((len(rows), width), dtype=torch.long)
            for row, window in enumerate(rows):
                size = len(input_ids[window])
                batch["input_ids"][row, :size] = torch.tensor(input_ids[window])
                batch["attention_mask"][row, :size] = 1
                if token_type_ids is not None:
                    batch["token_type_ids"][row, :size] = torch.tensor(token_type_ids[window])
            device_type = torch.device(self.device).type
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                output = self.model(**{name: tensor.to(self.device) for name, tensor in batch.items()})
            starts[rows, :width] = output.start_logits.float().cpu()
            ends[rows, :width] = output.end_logits.float().cpu()
        return starts, ends


def shipped_model_path() -> Path:
    """Return the directory of the reader model shipped with medsearch.

    Raises:
        MedsearchError: if the weights are missing (a checkout without them).
    """
    if not (SHIPPED_MODEL_DIR / "model.safetensors").exists():
        raise MedsearchError(
            f"the shipped reader model is missing from {SHIPPED_MODEL_DIR}; reinstall medsearch, train one "
            "with `medsearch train-reader`, or pass a model name or path"
        )
    return SHIPPED_MODEL_DIR


def write_reader_settings(model_dir: str | Path, settings: ReaderSettings, calibration: dict[str, Any]) -> Path:
    """Store reading settings (and how the threshold was chosen) next to a model's weights."""
    path = Path(model_dir) / READER_CONFIG
    payload = {**settings.__dict__, "calibration": calibration}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def _stored_settings(path: str) -> ReaderSettings:
    config_path = Path(path) / READER_CONFIG
    if not config_path.is_file():
        return ReaderSettings()
    try:
        payload = json.loads(config_path.read_text(encoding="utf-8"))
        return ReaderSettings(
            **{name: payload[name] for name in ReaderSettings.__dataclass_fields__ if name in payload}
        )
    except (json.JSONDecodeError, TypeError) as error:
        raise MedsearchError(f"{config_path} is damaged ({error}); delete it to use the default settings") from None


def _resolve_precision(precision: str, device_type: str) -> str:
    if precision != "auto":
        return precision
    if device_type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device_type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return "bf16"
    return "fp32"


def _as_pair(passage: Any) -> tuple[str, str]:
    if isinstance(passage, tuple) and len(passage) == 2:
        return str(passage[0]), str(passage[1])
    document = getattr(passage, "document", passage)
    if hasattr(document, "doc_id") and hasattr(document, "text"):
        return str(document.doc_id), document.text
    raise MedsearchError(
        f"cannot read a passage of type {type(passage).__name__}; give (doc_id, text) pairs, Documents or Hits"
    )


def _progress_bar(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Reading", unit="passage", disable=not enabled)


def _quantize_linear_layers(model: Any, device: str) -> Any:
    """Return ``model`` with its ``nn.Linear`` layers dynamically quantized to int8 weights.

    Raises:
        MedsearchError: on a non-CPU device, which PyTorch's dynamic quantization does not support.
    """
    if torch.device(device).type != "cpu":
        raise MedsearchError(f"precision int8 runs on the CPU only, not on {device!r}; use fp32 or bf16 there")
    # NOTE: torch.ao.quantization is deprecated in favour of torchao but still ships with torch 2.13.
    return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
