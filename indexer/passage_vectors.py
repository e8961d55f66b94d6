"""Passage vectors of a document list, encoded chunk by chunk and optionally checkpointed."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from medsearch.data.document import Document
from medsearch.indexer.checkpoint import Checkpoint
from medsearch.indexer.encoder import Encoder
from medsearch.indexer.passages import split_passages

logger = logging.getLogger(__name__)

# Documents encoded per step; large enough that sentence-transformers' length sorting
# removes most padding, small enough that the progress bar moves every few seconds.
ENCODE_CHUNK_DOCS = 256


def num_chunks(num_documents: int, chunk_docs: int) -> int:
    """Return how many chunks of ``chunk_docs`` documents cover ``num_documents``."""
    return -(-num_documents // chunk_docs)


def encode_passages(
    documents: Sequence[Document],
    encoder: Encoder,
    *,
    max_tokens: int,
    overlap_sentences: int,
    chunk_docs: int = ENCODE_CHUNK_DOCS,
    checkpoint: Checkpoint | None = None,
    show_progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Split each document into passages and encode them, ``chunk_docs`` documents at a time.

    Args:
        documents: the documents; row ``i`` is ``documents[i]``.
        encoder: the bi-encoder.
        max_tokens: word-piece budget per passage (see :func:`split_passages`).
        overlap_sentences: sentences each passage repeats from the previous one.
        chunk_docs: documents per chunk.
        checkpoint: saves each finished chunk and supplies the chunks that an earlier,
            interrupted run saved, which are then not encoded again.
        show_progress: show a progress bar over the documents.

    Returns:
        ``(vectors, passage_docs)``: ``(num_passages, dim)`` float32 unit vectors and the
        ``(num_passages,)`` int64 document row of each passage, ascending.
    """
    if chunk_docs < 1:
        raise ValueError(f"chunk_docs must be at least 1 document, got {chunk_docs}")
    started = time.perf_counter()
    vectors: list[np.ndarray] = []
    passage_docs: list[np.ndarray] = []
    encoded = 0

    with tqdm(total=len(documents), desc="Encoding", unit="doc", disable=not show_progress) as bar:
        for number, start in enumerate(range(0, len(documents), chunk_docs)):
            chunk = documents[start : start + chunk_docs]
            saved = checkpoint.load(number, start, len(chunk)) if checkpoint is not None else None
            if saved is None:
                saved = _encode_chunk(chunk, start, encoder, max_tokens, overlap_sentences)
                encoded += 1
                if checkpoint is not None:
                    checkpoint.save(number, *saved)
            vectors.append(saved[0])
            passage_docs.append(saved[1])
            bar.update(len(chunk))

    reused = checkpoint.reused if checkpoint is not None else 0
    logger.info(
        "Encoded %d chunks of up to %d documents in %.1f s; reused %d chunks saved by an earlier run",
        encoded, chunk_docs, time.perf_counter() - started, reused,
    )
    if not vectors:
        return np.zeros((0, encoder.dim), dtype=np.float32), np.zeros(0, dtype=np.int64)
    return np.concatenate(vectors), np.concatenate(passage_docs)


def _encode_chunk(
    chunk: Sequence[Document], first_row: int, encoder: Encoder, max_tokens: int, overlap: int
) -> tuple[np.ndarray, np.ndarray]:
    texts: list[str] = []
    rows: list[np.ndarray] = []
    for offset, document in enumerate(chunk):
        passages = split_passages(
            document.title,
            document.abstract,
            max_tokens=max_tokens,
            count_tokens=encoder.count_tokens,
            overlap_sentences=overlap,
        )
        texts.extend(passages)
        rows.append(np.full(len(passages), first_row + offset, dtype=np.int64))
    return encoder.encode_documents(texts), np.concatenate(rows)
