"""Vectors for the scale benchmarks: real passage embeddings padded with synthetic ones.

Encoding a million abstracts would take days on a small CPU. So the approximate-search
benchmark starts from the real embeddings at hand (an index's passage vectors) and adds
synthetic vectors that follow their distribution. Each synthetic vector is a real one plus
Gaussian noise with the real vectors' covariance, scaled by ``noise_scale``, then
normalised. The noise keeps the clusters and the anisotropy of
real embeddings, which uniform random vectors would lose, and makes every synthetic vector
distinct from its source.
"""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

from medsearch.errors import MedsearchError
from medsearch.indexer.dense import FAISS_FILENAME

logger = logging.getLogger(__name__)

# At this scale a synthetic vector's nearest real vector has a median cosine of 0.84, near
# the 0.86 median of a real SciFact passage to its nearest other passage (all-MiniLM-L6-v2;
# 10th to 90th percentile 0.72 to 0.93).
DEFAULT_NOISE_SCALE = 0.7


def index_vectors(index_dir: Path) -> np.ndarray:
    """Return the ``(num_passages, dim)`` float32 vectors stored in an index's flat FAISS file.

    Raises:
        MedsearchError: the index has no FAISS file or its index type cannot return vectors.
    """
    path = index_dir / FAISS_FILENAME
    if not path.is_file():
        raise MedsearchError(f"no {FAISS_FILENAME} in {index_dir}: pass an index built by `medsearch index`")
    index = faiss.read_index(str(path))
    try:
        return index.reconstruct_n(0, index.ntotal)
    except RuntimeError as error:
        raise MedsearchError(
            f"the {type(index).__name__} index in {index_dir} cannot return its vectors; "
            "pass an index built with --index-type flat"
        ) from error


def pad_with_synthetic(
    real: np.ndarray, total: int, *, noise_scale: float = DEFAULT_NOISE_SCALE, seed: int = 0, chunk_rows: int = 65_536
) -> np.ndarray:
    """Return ``(total, dim)`` unit vectors: ``real`` first, then synthetic vectors.

    Args:
        real: ``(num_real, dim)`` float32 unit vectors.
        total: rows wanted; at most ``num_real`` returns the first ``total`` real rows.
        noise_scale: standard deviation of the noise relative to the real vectors' spread.
        seed: seeds the choice of source vectors and the noise.
        chunk_rows: synthetic rows made per step, which bounds the temporary memory.
    """
    if total <= len(real):
        return np.ascontiguousarray(real[:total], dtype=np.float32)
    rng = np.random.default_rng(seed)
    dim = real.shape[1]
    centred = real - real.mean(axis=0)
    # Noise with the covariance of the real vectors: z @ chol(cov)^T.
    covariance = centred.T @ centred / max(len(real) - 1, 1)
    factor = np.linalg.cholesky(covariance + 1e-6 * np.eye(dim)).astype(np.float32)

    out = np.empty((total, dim), dtype=np.float32)
    out[: len(real)] = real
    for start in range(len(real), total, chunk_rows):
        stop = min(start + chunk_rows, total)
        sources = real[rng.integers(0, len(real), size=stop - start)]
        noise = rng.standard_normal((stop - start, dim), dtype=np.float32) @ factor.T
        block = sources + noise_scale * noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    logger.info("Padded %d real vectors with %d synthetic ones", len(real), total - len(real))
    return out
