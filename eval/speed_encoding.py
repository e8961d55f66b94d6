"""Encoding throughput: medsearch's passage encoder against a plain sentence-transformers call.

Both sides encode the same documents. The plain side is what a user would otherwise run:
``SentenceTransformer.encode`` at its defaults (fp32, batch size 32) on each document's
title and abstract, which the model truncates to its ``max_seq_length``. The medsearch side
is the indexing pipeline: every abstract cut into passages that fit the model, so no text
is truncated, then encoded with the encoder's precision. Throughput is documents per second
because the two sides encode different numbers of texts (about two passages per SciFact
abstract). The sides run in alternating rounds (plain, medsearch, plain, medsearch), so a
change in machine load affects both. The ratio reported is the median of the per-round
ratios.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from medsearch.data.document import Document
from medsearch.indexer.encoder import Encoder, resolve_model_path
from medsearch.indexer.passage_vectors import encode_passages
from medsearch.indexer.passages import PassageConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodingResult:
    """Documents per second of both sides, per round, and the machine load around the runs.

    Attributes:
        documents: documents encoded per round by each side.
        passages: passages the medsearch side encoded per round.
        precision: the medsearch encoder's resolved precision (``fp32``, ``bf16``, ``fp16``).
        plain_rates: plain sentence-transformers documents/s, one per round.
        medsearch_rates: medsearch documents/s, one per round.
        load_before: 1-minute load average before the first round.
        load_after: 1-minute load average after the last round.
    """

    documents: int
    passages: int
    precision: str
    plain_rates: tuple[float, ...]
    medsearch_rates: tuple[float, ...]
    load_before: float
    load_after: float

    @property
    def plain_docs_per_second(self) -> float:
        """Median plain documents/s over the rounds."""
        return statistics.median(self.plain_rates)

    @property
    def medsearch_docs_per_second(self) -> float:
        """Median medsearch documents/s over the rounds."""
        return statistics.median(self.medsearch_rates)

    @property
    def ratio(self) -> float:
        """Median over rounds of medsearch documents/s divided by plain documents/s."""
        return statistics.median(m / p for m, p in zip(self.medsearch_rates, self.plain_rates))


def measure_encoding(
    documents: Sequence[Document],
    encoder: Encoder,
    *,
    passage_config: PassageConfig | None = None,
    rounds: int = 2,
) -> EncodingResult:
    """Time plain sentence-transformers and medsearch encoding of ``documents`` in alternating rounds.

    Args:
        documents: the documents; both sides encode all of them in every round.
        encoder: the medsearch encoder, with the precision under test.
        passage_config: passage cutting (default: the indexing default).
        rounds: pairs of runs; at least 1.

    Raises:
        ValueError: ``rounds`` below 1 or no documents.
    """
    if rounds < 1 or not documents:
        raise ValueError(f"need at least 1 round and 1 document, got {rounds} rounds and {len(documents)} documents")
    from sentence_transformers import SentenceTransformer

    plain_model = SentenceTransformer(resolve_model_path(encoder.name), device=encoder.device)
    plain_texts = [document.text for document in documents]
    config = passage_config or PassageConfig()
    max_tokens = config.max_tokens or encoder.max_seq_length

    load_before = os.getloadavg()[0]
    plain_rates: list[float] = []
    medsearch_rates: list[float] = []
    passages = 0
    for round_number in range(1, rounds + 1):
        started = time.perf_counter()
        plain_model.encode(plain_texts)
        plain_rates.append(len(documents) / (time.perf_counter() - started))

        started = time.perf_counter()
        vectors, _ = encode_passages(
            documents, encoder, max_tokens=max_tokens, overlap_sentences=config.overlap_sentences
        )
        medsearch_rates.append(len(documents) / (time.perf_counter() - started))
        passages = len(vectors)
        logger.info(
            "Encoding round %d: plain %.1f docs/s, medsearch %.1f docs/s (%s, %d passages)",
            round_number, plain_rates[-1], medsearch_rates[-1], encoder.precision, passages,
        )
    return EncodingResult(
        documents=len(documents),
        passages=passages,
        precision=encoder.precision,
        plain_rates=tuple(plain_rates),
        medsearch_rates=tuple(medsearch_rates),
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )
