"""FAISS index types for passage vectors: the names medsearch accepts, their defaults and
their search-time parameters.

``--index-type`` takes ``flat`` (exact search), ``hnsw`` (a graph, FAISS ``IndexHNSWFlat``),
``ivfpq`` (inverted lists of 4-bit product-quantized codes whose candidates are re-scored
from 8-bit scalar-quantized vectors), ``auto`` (exact up to :data:`AUTO_EXACT_MAX_PASSAGES`
passages, ``ivfpq`` above), or any FAISS factory string such as ``"IVF1024,SQ8"``.
``ivfpq`` is the approximate default because it takes about 460 bytes per 384-dimensional
vector against 1,800 for ``hnsw``, and because it was built over 1,000,000 vectors in 5
minutes on the benchmark machine, where the HNSW graph took 3 to 5.5 minutes per 100,000.

Search-time parameters use the names of ``faiss.ParameterSpace``: ``efSearch`` for HNSW,
``nprobe`` for IVF, ``k_factor_rf`` for the re-scoring step (candidates re-scored per
requested result). They are written as ``"name=value,name=value"``.

The defaults were chosen by measuring recall@10 against exact search on all-MiniLM-L6-v2
embeddings of SciFact passages padded with synthetic vectors. ``docs/BENCHMARKS.md``
("Speed at scale") lists the measurements, and ``medsearch bench speed --scale`` repeats them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import faiss
import numpy as np

from medsearch.errors import MedsearchError

logger = logging.getLogger(__name__)

INDEX_TYPES = ("auto", "flat", "hnsw", "ivfpq")

# Exact search of one query over 100,000 384-dimensional vectors took 8 to 10 ms on one
# core of the benchmark machine at a load average of 6. Above that size the approximate
# index saves more time than its recall costs.
AUTO_EXACT_MAX_PASSAGES = 100_000

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128

IVF_NPROBE = 128
# Training points per inverted list. FAISS warns below 39 and samples down to 256.
IVF_TRAIN_POINTS_PER_LIST = 64
PQ_DIMS_PER_SUBQUANTIZER = 4
REFINE_K_FACTOR = 32

FLAT_FACTORY = "Flat"


class IndexTypeError(MedsearchError):
    """An index type or search parameter that FAISS cannot build or apply."""


@dataclass(frozen=True)
class IndexSpec:
    """A resolved index type.

    Attributes:
        requested: what the caller asked for: one of :data:`INDEX_TYPES` or a factory string.
        factory: the FAISS factory string the index is built from.
        build_params: settings applied after construction, before vectors are added
            (``efConstruction`` for HNSW).
        search_params: ``faiss.ParameterSpace`` settings applied before every search.
    """

    requested: str
    factory: str
    build_params: dict[str, int] = field(default_factory=dict)
    search_params: dict[str, float] = field(default_factory=dict)

    @property
    def is_exact(self) -> bool:
        """Whether the index scores every vector exactly (a flat index)."""
        return self.factory == FLAT_FACTORY


def resolve_index_spec(index_type: str, num_vectors: int, dim: int) -> IndexSpec:
    """Turn ``index_type`` into a factory string and parameters for ``num_vectors`` vectors.

    Args:
        index_type: ``"auto"``, ``"flat"``, ``"hnsw"``, ``"ivfpq"`` (any case) or a FAISS
            factory string, used as given with no search parameters.
        num_vectors: vectors to be indexed; ``auto`` and ``ivfpq`` size themselves by it.
        dim: vector length.

    Raises:
        IndexTypeError: ``index_type`` is empty, or ``ivfpq`` is asked for fewer vectors
            than its quantizers need for training.
    """
    name = index_type.strip()
    if not name:
        raise IndexTypeError(f"empty index type; choose one of {', '.join(INDEX_TYPES)} or a FAISS factory string")
    kind = name.lower()
    if kind == "auto":
        kind = "flat" if num_vectors <= AUTO_EXACT_MAX_PASSAGES else "ivfpq"
        logger.info("Index type auto: %s for %d passages (exact up to %d)", kind, num_vectors, AUTO_EXACT_MAX_PASSAGES)
    if kind == "flat":
        return IndexSpec(requested=name, factory=FLAT_FACTORY)
    if kind == "hnsw":
        return IndexSpec(
            requested=name,
            factory=f"HNSW{HNSW_M}",
            build_params={"efConstruction": HNSW_EF_CONSTRUCTION},
            search_params={"efSearch": HNSW_EF_SEARCH},
        )
    if kind == "ivfpq":
        return _ivfpq_spec(name, num_vectors, dim)
    return IndexSpec(requested=name, factory=name)


def ivf_list_count(num_vectors: int) -> int:
    """Return the number of IVF lists for ``num_vectors`` vectors.

    The power of two nearest to ``4 * sqrt(num_vectors)``, halved until every list has at
    least 39 training points, and at least 1. The list count grows with the square root
    because a search compares the query with every list centroid and then scans the
    probed lists, and the two costs balance when the count is proportional to sqrt(n).
    """
    target = 4 * math.sqrt(max(num_vectors, 1))
    lists = 2 ** round(math.log2(target))
    while lists > 1 and num_vectors < 39 * lists:
        lists //= 2
    return max(lists, 1)


def _ivfpq_spec(requested: str, num_vectors: int, dim: int) -> IndexSpec:
    # 4-bit codes (16 centroids per subquantizer) use FAISS's fast-scan kernels and train
    # in seconds, where 8-bit codes took minutes per 10,000 training vectors here. FAISS
    # wants 39 training points per centroid.
    if num_vectors < 39 * 16:
        raise IndexTypeError(
            f"index type {requested!r} needs at least {39 * 16} passages to train its quantizers, "
            f"got {num_vectors}; use --index-type flat"
        )
    subquantizers = _subquantizer_count(dim)
    lists = ivf_list_count(num_vectors)
    return IndexSpec(
        requested=requested,
        factory=f"IVF{lists},PQ{subquantizers}x4fs,Refine(SQ8)",
        search_params={"nprobe": min(IVF_NPROBE, lists), "k_factor_rf": REFINE_K_FACTOR},
    )


def _subquantizer_count(dim: int) -> int:
    # The largest even divisor of dim that leaves at least PQ_DIMS_PER_SUBQUANTIZER
    # dimensions each; fast-scan codes pack two 4-bit subquantizers per byte.
    for count in range(max(dim // PQ_DIMS_PER_SUBQUANTIZER, 1), 0, -1):
        if dim % count == 0 and count % 2 == 0:
            return count
    raise IndexTypeError(f"index type ivfpq needs an even vector dimension, got {dim}; use --index-type hnsw")


def create_index(spec: IndexSpec, vectors: np.ndarray, *, seed: int = 0) -> faiss.Index:
    """Build, train and fill a FAISS inner-product index for ``(num_vectors, dim)`` float32 ``vectors``.

    Training uses a seeded sample of at most :data:`IVF_TRAIN_POINTS_PER_LIST` points per
    inverted list (all vectors for types without lists).

    Raises:
        IndexTypeError: FAISS rejects the factory string or the build parameters.
    """
    dim = vectors.shape[1]
    try:
        index = faiss.index_factory(dim, spec.factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as error:
        raise IndexTypeError(
            f"FAISS cannot build index type {spec.factory!r} ({_faiss_reason(error)}); choose one of "
            f"{', '.join(INDEX_TYPES)} or a valid FAISS factory string such as 'IVF1024,SQ8'"
        ) from error
    for name, value in spec.build_params.items():
        _set_build_param(index, name, value)

    if not index.is_trained:
        sample = _training_sample(vectors, index, seed)
        logger.info("Training the %s index on %d vectors", spec.factory, len(sample))
        index.train(sample)
    index.add(vectors)
    return index


def apply_search_params(index: faiss.Index, params: dict[str, float]) -> None:
    """Set ``faiss.ParameterSpace`` parameters such as ``{"efSearch": 128}`` on ``index``.

    Raises:
        IndexTypeError: a parameter does not apply to this type of index.
    """
    # NOTE: the GPU branch is untested here, because no GPU build of faiss was available.
    on_gpu = type(index).__name__.startswith("Gpu") and hasattr(faiss, "GpuParameterSpace")
    space = faiss.GpuParameterSpace() if on_gpu else faiss.ParameterSpace()
    for name, value in params.items():
        try:
            space.set_index_parameter(index, name, value)
        except RuntimeError as error:
            raise IndexTypeError(
                f"search parameter {name}={value} does not apply to a {type(index).__name__} index "
                f"({_faiss_reason(error)}); HNSW indexes take efSearch, IVF indexes nprobe, "
                "re-scored indexes k_factor_rf"
            ) from error


def parse_search_params(text: str) -> dict[str, float]:
    """Parse ``"name=value,name=value"`` into a dict; whole numbers become ``int``.

    Raises:
        IndexTypeError: an item is not ``name=number``.
    """
    params: dict[str, float] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, _, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            raise IndexTypeError(
                f"invalid search parameter {item.strip()!r}: write name=number pairs separated by commas, "
                "for example 'efSearch=256' or 'nprobe=64,k_factor_rf=8'"
            ) from None
        params[name.strip()] = int(number) if number.is_integer() else number
    return params


def _training_sample(vectors: np.ndarray, index: faiss.Index, seed: int) -> np.ndarray:
    ivf = faiss.try_extract_index_ivf(index)
    limit = len(vectors) if ivf is None else IVF_TRAIN_POINTS_PER_LIST * ivf.nlist
    if len(vectors) <= limit:
        return vectors
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size=limit, replace=False))
    return np.ascontiguousarray(vectors[rows])


def _set_build_param(index: faiss.Index, name: str, value: int) -> None:
    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if name == "efConstruction" and hnsw is not None:
        hnsw.efConstruction = int(value)
        return
    raise IndexTypeError(f"build parameter {name}={value} does not apply to a {type(index).__name__} index")


def _faiss_reason(error: RuntimeError) -> str:
    # FAISS messages end with the reason after a line naming the C++ function.
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
