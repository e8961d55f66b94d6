"""Search over a built index: BM25, dense and hybrid retrieval with score fusion."""

from medsearch.retriever.fusion import convex_fusion, reciprocal_rank_fusion
from medsearch.retriever.hits import Hit
from medsearch.retriever.index import MODES, HybridConfig, Index
from medsearch.retriever.snippet import Snippet, best_snippet

__all__ = [
    "MODES",
    "Hit",
    "HybridConfig",
    "Index",
    "Snippet",
    "best_snippet",
    "convex_fusion",
    "reciprocal_rank_fusion",
]
