"""Search results."""

from __future__ import annotations

from dataclasses import dataclass

from medsearch.data.document import Document


@dataclass(frozen=True)
class Hit:
    """One ranked document.

    ``score`` is the score of the mode that ranked it (the fused score in hybrid mode).
    The ``bm25_*`` and ``dense_*`` fields give each retriever's own 1-based rank and score
    where that retriever returned the document within its search depth, else ``None``.
    """

    doc_id: str
    rank: int
    score: float
    document: Document
    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    dense_score: float | None = None
