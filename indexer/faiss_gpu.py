"""Moving a FAISS index to a GPU, when the installed faiss has GPU support.

The ``faiss-cpu`` package has none; ``pip install medsearch[gpu]`` installs a GPU build
(``faiss-gpu-cu12``) instead. Flat and IVF indexes run on a GPU; HNSW and re-scored
(``Refine``) indexes do not, and stay on the CPU with an error when a GPU is required.
"""

from __future__ import annotations

import logging

import faiss

from medsearch.errors import MedsearchError

logger = logging.getLogger(__name__)

INDEX_DEVICES = ("auto", "cpu", "cuda")


class FaissGpuError(MedsearchError):
    """A GPU FAISS index was requested but cannot be made."""


def faiss_gpu_count() -> int:
    """Return the GPUs the installed faiss can use: 0 for a CPU-only build."""
    if not hasattr(faiss, "StandardGpuResources"):
        return 0
    return int(faiss.get_num_gpus())


def resolve_index_device(index_device: str, encoder_device: str | None) -> str:
    """Return ``"cpu"`` or ``"cuda"`` for the FAISS index.

    ``"auto"`` follows the encoder: the index goes to the GPU when the encoder runs on
    CUDA and faiss can use a GPU, else it stays on the CPU (logged at INFO when the
    encoder is on CUDA).

    Raises:
        FaissGpuError: ``index_device`` is unknown, or ``"cuda"`` while faiss has no GPU.
    """
    if index_device not in INDEX_DEVICES:
        raise FaissGpuError(f"unknown index device {index_device!r}; choose one of {', '.join(INDEX_DEVICES)}")
    if index_device == "cpu":
        return "cpu"
    gpus = faiss_gpu_count()
    if index_device == "cuda" and gpus == 0:
        raise FaissGpuError(_missing_gpu_message())
    if index_device == "auto":
        if encoder_device is None or not encoder_device.startswith("cuda"):
            return "cpu"
        if gpus == 0:
            logger.info("The encoder runs on CUDA but faiss has no GPU support: searching on the CPU")
            return "cpu"
    return "cuda"


def index_to_gpu(index: faiss.Index) -> faiss.Index:
    """Copy ``index`` to GPU 0.

    Raises:
        FaissGpuError: faiss has no GPU support, or cannot run this index type on a GPU.
    """
    if faiss_gpu_count() == 0:
        raise FaissGpuError(_missing_gpu_message())
    resources = faiss.StandardGpuResources()
    try:
        gpu_index = faiss.index_cpu_to_gpu(resources, 0, index)
    except RuntimeError as error:
        raise FaissGpuError(
            f"faiss cannot run a {type(index).__name__} index on a GPU ({error}); "
            "use --index-device cpu, or build a flat or IVF index (--index-type flat or a factory "
            "string such as 'IVF4096,PQ48') for GPU search"
        ) from error
    # Keep the resources alive as long as the index that uses them.
    gpu_index.medsearch_resources = resources
    return gpu_index


def index_to_cpu(index: faiss.Index) -> faiss.Index:
    """Return a CPU copy of a GPU index, or ``index`` itself when it is on the CPU."""
    if faiss_gpu_count() and hasattr(faiss, "index_gpu_to_cpu") and "Gpu" in type(index).__name__:
        return faiss.index_gpu_to_cpu(index)
    return index


def _missing_gpu_message() -> str:
    if not hasattr(faiss, "StandardGpuResources"):
        return (
            "a GPU FAISS index was requested but the installed faiss has no GPU support (it is the "
            "faiss-cpu build); install the GPU build with `pip install medsearch[gpu]` (faiss-gpu-cu12, "
            "after `pip uninstall faiss-cpu`), or search on the CPU with --index-device cpu"
        )
    return (
        "a GPU FAISS index was requested but faiss sees no GPU; check the CUDA driver with nvidia-smi, "
        "or search on the CPU with --index-device cpu"
    )
