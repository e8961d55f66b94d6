"""The BM25 index: bm25s scoring over terms from :class:`BiomedicalTokenizer`.

bm25s precomputes each term's BM25 contribution per document into a sparse matrix, so a
query costs a sum over the query terms' sparse columns instead of a pass over every
document.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import bm25s
import numpy as np

from medsearch.indexer.tokenizer import BiomedicalTokenizer

logger = logging.getLogger(__name__)

BM25_DIRNAME = "bm25"
TOKENIZER_FILENAME = "tokenizer.json"
BM25_METHODS = ("lucene", "robertson", "atire", "bm25l", "bm25+")


@dataclass(frozen=True)
class BM25Config:
    """BM25 parameters.

    ``method`` names the BM25 variant as bm25s does: ``"lucene"`` (the default, as in
    Lucene and Anserini), ``"robertson"`` (rank-bm25's ``BM25Okapi``), ``"atire"``,
    ``"bm25l"`` or ``"bm25+"``.

    The defaults ``k1=1.2, b=0.5`` scored the highest BM25 nDCG@10 on the 809 SciFact train
    queries over a grid of k1 from 0.6 to 1.6 and b from 0.3 to 0.9, though every pair with
    k1 from 0.8 to 1.4 and b from 0.3 to 0.7 came within 0.005. ``python -m
    medsearch.eval.benchmark tune`` repeats the search; docs/BENCHMARKS.md has the grid.
    """

    k1: float = 1.2
    b: float = 0.5
    method: str = "lucene"

    def __post_init__(self) -> None:
        if self.method not in BM25_METHODS:
            raise ValueError(f"unknown BM25 method {self.method!r}; choose one of {BM25_METHODS}")
        if self.k1 < 0 or not 0 <= self.b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={self.k1}, b={self.b}")


class BM25Index:
    """Sparse BM25 scores of a fixed document list, addressed by row number."""

    def __init__(self, model: bm25s.BM25, tokenizer: BiomedicalTokenizer, config: BM25Config):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        *,
        config: BM25Config | None = None,
        tokenizer: BiomedicalTokenizer | None = None,
        show_progress: bool = False,
    ) -> BM25Index:
        """Tokenize and index ``texts``; row ``i`` of the index is ``texts[i]``."""
        config = config or BM25Config()
        tokenizer = tokenizer or BiomedicalTokenizer()
        model = bm25s.BM25(k1=config.k1, b=config.b, method=config.method)
        corpus_tokens = tokenizer.tokenize_many(texts)
        model.index(corpus_tokens, show_progress=show_progress)
        return cls(model, tokenizer, config)

    @property
    def num_docs(self) -> int:
        """Rows in the index."""
        return int(self.model.scores["num_docs"])

    def scores(self, query: str) -> np.ndarray:
        """Return the BM25 score of every row for ``query``, shape ``(num_docs,)``.

        Query terms that occur in no document contribute nothing; a query with no known
        term scores every row 0.
        """
        term_ids = self.model.get_tokens_ids(self.tokenizer.tokenize(query))
        if not term_ids:
            return np.zeros(self.num_docs, dtype=np.float32)
        return self.model.get_scores_from_ids(term_ids)

    def search(
        self, query: str, k: int, tie_order: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the rows and scores of the ``k`` best-scoring rows with a score above 0.

        Both arrays have the same length, at most ``k``; see :func:`top_k` for the order.
        """
        return top_k(self.scores(query), k, tie_order)

    def save(self, directory: Path) -> None:
        """Write the bm25s arrays and the tokenizer settings under ``directory``."""
        target = directory / BM25_DIRNAME
        self.model.save(str(target), show_progress=False)
        (target / TOKENIZER_FILENAME).write_text(json.dumps(self.tokenizer.config(), indent=1))

    @classmethod
    def load(cls, directory: Path, config: BM25Config, *, mmap: bool = True) -> BM25Index:
        """Load an index written by :meth:`save`; ``mmap`` maps the arrays instead of reading them."""
        source = directory / BM25_DIRNAME
        model = bm25s.BM25.load(str(source), mmap=mmap, show_progress=False, allow_pickle=False)
        tokenizer_config = json.loads((source / TOKENIZER_FILENAME).read_text())
        return cls(model, BiomedicalTokenizer.from_config(tokenizer_config), config)

    def manifest_entry(self) -> dict[str, object]:
        """Settings recorded in the index manifest."""
        return {**asdict(self.config), "tokenizer": self.tokenizer.config()}


def top_k(
    scores: np.ndarray, k: int, tie_order: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(rows, scores)`` of the ``k`` highest positive scores.

    Args:
        scores: ``(num_docs,)`` scores.
        k: rows to return at most.
        tie_order: ``(num_docs,)`` sort key that breaks equal scores, ascending (the rank of
            each row's doc id in sorted order); ``None`` breaks ties by row number.

    Rows whose score is 0 or below are left out: for BM25 they share no term with the query.
    """
    if k <= 0:
        raise ValueError(f"k must be a positive number of results, got {k}")
    candidates = np.flatnonzero(scores > 0)
    if candidates.size > k:
        # argpartition keeps the k largest; a score tied with the k-th may fall either side,
        # so keep every row that reaches the k-th score, then sort exactly.
        kth = np.partition(scores[candidates], candidates.size - k)[candidates.size - k]
        candidates = candidates[scores[candidates] >= kth]
    ties = candidates if tie_order is None else tie_order[candidates]
    order = np.lexsort((ties, -scores[candidates]))[:k]
    rows = candidates[order]
    return rows, scores[rows].astype(np.float32)
