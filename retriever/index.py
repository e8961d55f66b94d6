"""A loaded index and its search modes: ``bm25``, ``dense`` and ``hybrid``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from medsearch.errors import MedsearchError
from medsearch.indexer.bm25 import BM25Index
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.encoder import Encoder
from medsearch.indexer.faiss_gpu import resolve_index_device
from medsearch.indexer.load import load_index_files
from medsearch.indexer.manifest import Manifest
from medsearch.indexer.store import DocumentStore
from medsearch.retriever.fusion import DEFAULT_RRF_K, RankedList, convex_fusion, reciprocal_rank_fusion
from medsearch.retriever.hits import Hit

logger = logging.getLogger(__name__)

MODES = ("hybrid", "bm25", "dense")
FUSION_METHODS = ("rrf", "convex")
DEFAULT_DEPTH = 200


@dataclass(frozen=True)
class HybridConfig:
    """How hybrid mode fuses BM25 and dense results.

    Attributes:
        depth: candidates taken from each retriever before fusion; a search for more
            than ``depth`` hits takes that many instead.
        rrf_k: the reciprocal rank fusion constant.
        bm25_weight: weight of the BM25 list in the fusion.
        dense_weight: weight of the dense list in the fusion.
        fusion: ``"rrf"`` (reciprocal rank fusion, which uses ``rrf_k``) or ``"convex"``
            (a weighted sum of min-max normalised scores over each retriever's candidates).

    The defaults, convex fusion with equal weights over 200 candidates each, scored the
    highest hybrid nDCG@10 on the 809 SciFact train queries (0.736, against 0.727 for the
    best RRF setting) in a grid of RRF constants, weights and depths from 100 to 1000.
    ``python -m medsearch.eval.benchmark tune`` repeats the search; docs/BENCHMARKS.md has
    the grid.

    Raises:
        ValueError: an unknown ``fusion``, ``depth`` below 1, or a negative ``rrf_k`` or weight.
    """

    depth: int = DEFAULT_DEPTH
    rrf_k: float = DEFAULT_RRF_K
    bm25_weight: float = 0.5
    dense_weight: float = 0.5
    fusion: str = "convex"

    def __post_init__(self) -> None:
        if self.fusion not in FUSION_METHODS:
            raise ValueError(f"unknown fusion {self.fusion!r}; choose one of {FUSION_METHODS}")
        if self.depth < 1:
            raise ValueError(f"depth must be at least 1 candidate per retriever, got {self.depth}")
        if self.rrf_k < 0 or self.bm25_weight < 0 or self.dense_weight < 0:
            raise ValueError(
                "rrf_k and the weights must be >= 0, got "
                f"rrf_k={self.rrf_k}, bm25_weight={self.bm25_weight}, dense_weight={self.dense_weight}"
            )

    def fuse(self, bm25_list: RankedList, dense_list: RankedList) -> list[tuple[str, float]]:
        """Fuse the two retrievers' ``(doc_id, score)`` lists, best first, ties by doc id.

        Each list is fused whole; :meth:`Index.search_many` retrieves ``max(k, depth)``
        documents from each retriever.
        """
        weights = [self.bm25_weight, self.dense_weight]
        if self.fusion == "convex":
            return convex_fusion([bm25_list, dense_list], weights=weights)
        return reciprocal_rank_fusion([bm25_list, dense_list], k=self.rrf_k, weights=weights)


class Index:
    """A medsearch index directory opened for search.

    Load it with :meth:`load`; the encoder is loaded on the first dense or hybrid search,
    so BM25-only use starts fast.
    """

    def __init__(
        self,
        path: Path,
        manifest: Manifest,
        documents: DocumentStore,
        bm25: BM25Index,
        dense: DenseIndex,
        encoder: Encoder | None = None,
        device: str | None = None,
        hybrid: HybridConfig | None = None,
    ):
        self.path = path
        self.manifest = manifest
        self.documents = documents
        self.bm25 = bm25
        self.dense = dense
        self.hybrid = hybrid or HybridConfig()
        self._encoder = encoder
        self._device = device
        # Rank of each row's doc id in sorted order: breaks score ties by doc id.
        self._tie_order = np.argsort(np.argsort(np.asarray(documents.doc_ids, dtype=object), kind="stable"))

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        encoder: Encoder | None = None,
        device: str | None = None,
        hybrid: HybridConfig | None = None,
        verify: bool = False,
        search_params: dict[str, float] | None = None,
        index_device: str = "auto",
    ) -> Index:
        """Open the index at ``path``.

        Args:
            path: an index directory written by ``medsearch index`` or :func:`build_index`.
            encoder: an already loaded encoder; it must be the one the index was built with.
            device: device for the encoder loaded on first use (``"cpu"``, ``"cuda"``).
            hybrid: fusion settings for hybrid mode.
            verify: also compare the SHA-256 of every file with the manifest, which reads
                the whole index; without it, sizes and structure are checked.
            search_params: FAISS search-time parameters (``efSearch``, ``nprobe``,
                ``k_factor_rf``) that override those recorded at build time.
            index_device: where the FAISS index searches: ``"cpu"``, ``"cuda"``, or
                ``"auto"`` (the GPU when ``device`` is CUDA and faiss has GPU support).

        Raises:
            IndexNotFoundError: no index at ``path``.
            IndexMismatchError: another format version, or ``encoder`` differs from the index's.
            IndexFileError: a file of the index is missing or damaged; the message names it.
            IndexTypeError: a search parameter does not apply to the index type.
            FaissGpuError: ``index_device`` is ``"cuda"`` but faiss cannot search on a GPU.
        """
        path = Path(path)
        files = load_index_files(path, verify=verify)
        if encoder is not None:
            files.manifest.check_encoder(encoder.name)
        dense = files.dense
        dense.set_search_params({**files.manifest.dense.get("search_params", {}), **(search_params or {})})
        if resolve_index_device(index_device, device) == "cuda":
            dense = dense.to_gpu()
        return cls(path, files.manifest, files.documents, files.bm25, dense, encoder=encoder, device=device, hybrid=hybrid)

    def __len__(self) -> int:
        return len(self.documents)

    @property
    def encoder(self) -> Encoder:
        """The index's bi-encoder, loaded on first access."""
        if self._encoder is None:
            self._encoder = Encoder(self.manifest.encoder["name"], device=self._device)
            if self._encoder.dim != self.dense.dim:
                raise MedsearchError(
                    f"encoder {self._encoder.name} gives {self._encoder.dim}-dimensional vectors "
                    f"but the index holds {self.dense.dim}-dimensional ones; rebuild the index"
                )
        return self._encoder

    def search(self, query: str, k: int = 10, mode: str = "hybrid") -> list[Hit]:
        """Return the ``k`` best documents for ``query``; see :meth:`search_many`."""
        return self.search_many([query], k=k, mode=mode)[0]

    def search_many(
        self, queries: Sequence[str], k: int = 10, mode: str = "hybrid", show_progress: bool = False
    ) -> list[list[Hit]]:
        """Search several queries; dense vectors are encoded in one batch.

        Args:
            queries: query texts; none may be empty.
            k: hits per query.
            mode: ``"hybrid"`` (the top ``max(k, depth)`` of BM25 and of dense search fused as
                :attr:`hybrid` sets), ``"bm25"`` or ``"dense"``.
            show_progress: show a progress bar over the queries.

        Returns:
            One list per query with at most ``k`` hits, ranked by descending score, then doc id.
            BM25 returns only documents that share a term with the query.

        Raises:
            MedsearchError: an empty query, an unknown mode, or ``k`` below 1.
        """
        _check_arguments(queries, k, mode)
        depth = max(k, self.hybrid.depth) if mode == "hybrid" else k
        bm25_results = (
            [self._bm25(query, depth) for query in tqdm(queries, desc="BM25", disable=not show_progress)]
            if mode in ("bm25", "hybrid")
            else [[] for _ in queries]
        )
        dense_results = self._dense(queries, depth) if mode in ("dense", "hybrid") else [[] for _ in queries]

        hits: list[list[Hit]] = []
        for bm25_list, dense_list in zip(bm25_results, dense_results):
            if mode == "bm25":
                ranked = bm25_list[:k]
            elif mode == "dense":
                ranked = dense_list[:k]
            else:
                ranked = self.hybrid.fuse(bm25_list, dense_list)[:k]
            hits.append(self._to_hits(ranked, bm25_list, dense_list))
        return hits

    def _bm25(self, query: str, depth: int) -> list[tuple[str, float]]:
        rows, scores = self.bm25.search(query, depth, self._tie_order)
        return self._with_ids(rows, scores)

    def _dense(self, queries: Sequence[str], depth: int) -> list[list[tuple[str, float]]]:
        vectors = self.encoder.encode_queries(queries)
        return [self._with_ids(rows, scores) for rows, scores in self.dense.search(vectors, depth, self._tie_order)]

    def _with_ids(self, rows: np.ndarray, scores: np.ndarray) -> list[tuple[str, float]]:
        doc_ids = self.documents.doc_ids
        return [(doc_ids[row], float(score)) for row, score in zip(rows.tolist(), scores.tolist())]

    def _to_hits(
        self,
        ranked: list[tuple[str, float]],
        bm25_list: list[tuple[str, float]],
        dense_list: list[tuple[str, float]],
    ) -> list[Hit]:
        bm25_ranks = {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(bm25_list, start=1)}
        dense_ranks = {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(dense_list, start=1)}
        rows = [self.documents.row_of(doc_id) for doc_id, _ in ranked]
        documents = self.documents.get_many(rows)  # type: ignore[arg-type]
        hits = []
        for rank, ((doc_id, score), document) in enumerate(zip(ranked, documents), start=1):
            bm25_rank, bm25_score = bm25_ranks.get(doc_id, (None, None))
            dense_rank, dense_score = dense_ranks.get(doc_id, (None, None))
            hits.append(
                Hit(
                    doc_id=doc_id,
                    rank=rank,
                    score=score,
                    document=document,
                    bm25_rank=bm25_rank,
                    bm25_score=bm25_score,
                    dense_rank=dense_rank,
                    dense_score=dense_score,
                )
            )
        return hits


def _check_arguments(queries: Sequence[str], k: int, mode: str) -> None:
    if mode not in MODES:
        raise MedsearchError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
    if k < 1:
        raise MedsearchError(f"k must be at least 1, got {k}")
    for position, query in enumerate(queries):
        if not isinstance(query, str) or not query.strip():
            raise MedsearchError(
                f"query {position + 1} is empty; give a question or keywords to search for"
            )
        try:
            query.encode("utf-8")
        except UnicodeEncodeError as error:
            # Python decodes undecodable command-line bytes to lone surrogates, which the
            # encoder's tokenizer rejects with a TypeError.
            raise MedsearchError(
                f"query {position + 1} is not valid Unicode text ({query[error.start]!r} at character "
                f"{error.start}, often a byte that is not UTF-8); pass the query as UTF-8 text"
            ) from None
