"""Grid search of the BM25 parameters and the hybrid fusion settings on a training split.

Dense results do not depend on BM25 or fusion settings, so the queries are encoded and
searched once. Each BM25 setting rebuilds only the BM25 part in memory from the index's
stored documents, and each fusion setting fuses the stored BM25 and dense lists with
:meth:`HybridConfig.fuse`, the method that :meth:`Index.search_many` calls. Every setting
is scored on the top :data:`TOP_K` hits, as :mod:`medsearch.eval.benchmark` searches.

The search is sequential: BM25 ``k1`` and ``b`` are chosen first by BM25's own nDCG@10,
then the fusion settings with that BM25. Each choice is the setting with the highest mean
nDCG@10, the first in grid order on an exact tie.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from medsearch.eval.evaluate import evaluate
from medsearch.eval.index_runs import RankedResults, results_to_run, search_queries
from medsearch.eval.result import EvaluationResult
from medsearch.indexer.bm25 import BM25Config, BM25Index
from medsearch.retriever.index import HybridConfig, Index

logger = logging.getLogger(__name__)

__all__ = [
    "TOP_K",
    "TUNING_METRICS",
    "Trial",
    "TuningGrid",
    "TuningResult",
    "fusion_trials",
    "tune",
    "tune_bm25",
]

TOP_K = 100
"""Hits per query that every setting is scored on."""

TUNING_METRICS = ("ndcg@10", "recall@100")


@dataclass(frozen=True)
class TuningGrid:
    """The settings tried; see :func:`tune`.

    Attributes:
        k1, b: BM25 values, every pair tried (Lucene variant).
        rrf_k: reciprocal rank fusion constants.
        rrf_bm25_weights: BM25 weights tried with RRF; the dense weight is 1.
        convex_bm25_weights: BM25 weights ``w`` tried with convex fusion; the dense weight
            is ``1 - w``.
        depths: candidates per retriever, each at least :data:`TOP_K`.
    """

    k1: tuple[float, ...] = (0.6, 0.8, 0.9, 1.0, 1.2, 1.4, 1.6)
    b: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    rrf_k: tuple[int, ...] = (10, 20, 40, 60, 100)
    rrf_bm25_weights: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
    convex_bm25_weights: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    depths: tuple[int, ...] = (100, 200, 500, 1000)

    def __post_init__(self) -> None:
        if min(self.depths) < TOP_K:
            raise ValueError(f"every depth must be at least TOP_K={TOP_K}, got {self.depths}")

    def hybrid_configs(self) -> list[HybridConfig]:
        """Return every fusion setting of the grid: RRF first, then convex fusion."""
        configs = [
            HybridConfig(depth=depth, rrf_k=rrf_k, bm25_weight=weight, dense_weight=1.0, fusion="rrf")
            for rrf_k in self.rrf_k
            for weight in self.rrf_bm25_weights
            for depth in self.depths
        ]
        configs += [
            HybridConfig(depth=depth, bm25_weight=weight, dense_weight=round(1.0 - weight, 6), fusion="convex")
            for weight in self.convex_bm25_weights
            for depth in self.depths
        ]
        return configs


@dataclass(frozen=True)
class Trial:
    """One setting and its mean metrics over the tuning queries.

    ``config`` is a :class:`BM25Config` for BM25 trials and a :class:`HybridConfig` for
    fusion trials. ``means`` maps each of :data:`TUNING_METRICS` to its mean.
    """

    config: BM25Config | HybridConfig
    means: Mapping[str, float]

    @property
    def ndcg(self) -> float:
        """Mean nDCG@10, the value that the choice maximises."""
        return self.means["ndcg@10"]


@dataclass(frozen=True)
class TuningResult:
    """Every trial of :func:`tune` and the chosen settings."""

    bm25_trials: tuple[Trial, ...]
    fusion_trials: tuple[Trial, ...]
    num_queries: int
    dense_means: Mapping[str, float] = field(default_factory=dict)

    @property
    def best_bm25(self) -> Trial:
        """The BM25 trial with the highest nDCG@10."""
        return best_trial(self.bm25_trials)

    @property
    def best_fusion(self) -> Trial:
        """The fusion trial with the highest nDCG@10."""
        return best_trial(self.fusion_trials)


def best_trial(trials: Sequence[Trial]) -> Trial:
    """Return the trial with the highest nDCG@10, the earliest one on an exact tie.

    Raises:
        ValueError: ``trials`` is empty.
    """
    if not trials:
        raise ValueError("no trials to choose from")
    return max(trials, key=lambda trial: trial.ndcg)


def tune(
    index: Index,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    grid: TuningGrid | None = None,
    *,
    show_progress: bool = False,
) -> TuningResult:
    """Search the BM25 grid, then the fusion grid with the best BM25 setting.

    Args:
        index: an index over the corpus of ``queries``; only its stored documents and dense
            part are used, so its own BM25 settings do not matter.
        queries: ``{query_id: text}`` of the tuning split.
        qrels: judgments of the tuning split.
        grid: the settings to try; ``None`` uses :class:`TuningGrid`'s defaults.
        show_progress: show a progress bar over the fusion settings.
    """
    grid = grid or TuningGrid()
    started = time.perf_counter()
    bm25_trials = tune_bm25(index, queries, qrels, grid.k1, grid.b)
    best_bm25 = best_trial(bm25_trials).config
    logger.info("Best BM25 setting on %d queries: %s", len(queries), best_bm25)

    max_depth = max(grid.depths)
    bm25_index = _with_bm25(index, _stored_texts(index), best_bm25)
    bm25_results = search_queries(bm25_index, queries, mode="bm25", top_k=max_depth)
    dense_results = search_queries(index, queries, mode="dense", top_k=max_depth)
    dense_means = _evaluate(_cut(dense_results, TOP_K), qrels).means
    trials = fusion_trials(bm25_results, dense_results, qrels, grid.hybrid_configs(), show_progress=show_progress)
    logger.info(
        "Tried %d BM25 and %d fusion settings in %.0f s",
        len(bm25_trials),
        len(trials),
        time.perf_counter() - started,
    )
    return TuningResult(
        bm25_trials=tuple(bm25_trials),
        fusion_trials=tuple(trials),
        num_queries=len(queries),
        dense_means=dense_means,
    )


def tune_bm25(
    index: Index,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    k1_values: Sequence[float],
    b_values: Sequence[float],
) -> list[Trial]:
    """Score BM25 alone for every ``(k1, b)`` pair, rebuilding the BM25 part in memory.

    The BM25 index is built over the stored documents' ``text``, as :func:`build_index`
    builds it, with the tokenizer recorded in the index.
    """
    texts = _stored_texts(index)
    trials = []
    for k1 in k1_values:
        for b in b_values:
            config = BM25Config(k1=k1, b=b)
            results = search_queries(_with_bm25(index, texts, config), queries, mode="bm25", top_k=TOP_K)
            means = _evaluate(results, qrels).means
            trials.append(Trial(config=config, means=means))
            logger.info("BM25 k1=%s b=%s: nDCG@10 %.4f", k1, b, means["ndcg@10"])
    return trials


def fusion_trials(
    bm25_results: RankedResults,
    dense_results: RankedResults,
    qrels: Mapping[str, Mapping[str, int]],
    configs: Sequence[HybridConfig],
    *,
    show_progress: bool = False,
) -> list[Trial]:
    """Score each fusion setting on precomputed ranked lists.

    Args:
        bm25_results, dense_results: ``{query_id: [(doc_id, score), ...]}`` best first, at
            least as deep as the largest ``config.depth``.
        qrels: judgments of the queries.
        configs: the settings to score; each fuses the top ``depth`` of both lists and keeps
            the top :data:`TOP_K`, as ``Index.search_many(k=TOP_K, mode="hybrid")`` does.
        show_progress: show a progress bar over ``configs``.
    """
    trials = []
    for config in tqdm(configs, desc="Fusion settings", disable=not show_progress):
        fused = {
            query_id: config.fuse(bm25_list[: config.depth], dense_results[query_id][: config.depth])[:TOP_K]
            for query_id, bm25_list in bm25_results.items()
        }
        trials.append(Trial(config=config, means=_evaluate(fused, qrels).means))
    return trials


def _stored_texts(index: Index) -> list[str]:
    return [document.text for document in index.documents.get_many(list(range(len(index.documents))))]


def _with_bm25(index: Index, texts: list[str], config: BM25Config) -> Index:
    """Return a copy of ``index`` whose BM25 part is rebuilt over ``texts`` with ``config``."""
    bm25 = BM25Index.build(texts, config=config, tokenizer=index.bm25.tokenizer)
    return Index(
        index.path,
        index.manifest,
        index.documents,
        bm25,
        index.dense,
        encoder=index.encoder,
        hybrid=index.hybrid,
    )


def _cut(results: RankedResults, top_k: int) -> RankedResults:
    return {query_id: ranked[:top_k] for query_id, ranked in results.items()}


def _evaluate(
    results: Mapping[str, Sequence[tuple[str, float]]], qrels: Mapping[str, Mapping[str, int]]
) -> EvaluationResult:
    return evaluate(results_to_run(results), qrels, TUNING_METRICS)
