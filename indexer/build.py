"""Build an index directory from documents: store, BM25, passage vectors, manifest.

The index is written into a working directory beside the target and moved into place
only when complete (see :mod:`medsearch.indexer.swap`). An interrupted or failed build
therefore never leaves a partial index at the target, and a previous index at the target
stays readable until the new one replaces it. Finished encoding chunks are saved as the build
goes, so that a killed build can resume (see :mod:`medsearch.indexer.checkpoint`). One
writer at a time holds the index's lock (see :mod:`medsearch.indexer.lock`).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medsearch.data.document import Document
from medsearch.errors import MedsearchError
from medsearch.indexer.bm25 import BM25Config, BM25Index
from medsearch.indexer.checkpoint import Checkpoint, documents_digest, work_directory
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.encoder import Encoder
from medsearch.indexer.lock import IndexLock
from medsearch.indexer.manifest import MANIFEST_FILENAME, Manifest
from medsearch.indexer.passage_vectors import ENCODE_CHUNK_DOCS, encode_passages, num_chunks
from medsearch.indexer.passages import PassageConfig
from medsearch.indexer.store import write_documents
from medsearch.indexer.swap import replace_directory
from medsearch.indexer.tokenizer import BiomedicalTokenizer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildSummary:
    """Counts, elapsed seconds and bytes on disk of a finished build."""

    path: Path
    documents: int
    passages: int
    seconds: float
    bytes_on_disk: int


def deduplicate(documents: Iterable[Document]) -> list[Document]:
    """Keep the last document for each ``doc_id``, in first-seen order; log the count replaced."""
    by_id: dict[str, Document] = {}
    replaced = 0
    for document in documents:
        if document.doc_id in by_id:
            replaced += 1
        by_id[document.doc_id] = document
    if replaced:
        logger.warning("%d documents had an id seen before; the last version of each was kept", replaced)
    return list(by_id.values())


def build_index(
    documents: Iterable[Document],
    out_dir: str | Path,
    *,
    encoder: Encoder | None = None,
    bm25_config: BM25Config | None = None,
    passage_config: PassageConfig | None = None,
    overwrite: bool = False,
    inputs: Sequence[dict[str, object]] = (),
    show_progress: bool = False,
    resume: bool | None = None,
    chunk_docs: int = ENCODE_CHUNK_DOCS,
    index_type: str = "auto",
) -> BuildSummary:
    """Index ``documents`` into the directory ``out_dir``.

    Args:
        documents: the corpus; a repeated ``doc_id`` keeps its last version (WARNING).
        out_dir: target directory; it must not exist, be empty, or hold a medsearch
            index that ``overwrite`` allows to be replaced.
        encoder: the bi-encoder; ``None`` loads the bundled all-MiniLM-L6-v2.
        bm25_config: BM25 parameters (defaults: Lucene variant, k1=1.2, b=0.5).
        passage_config: passage cutting; the default budget is the encoder's max_seq_length.
        overwrite: replace an existing index at ``out_dir``.
        inputs: descriptions of the input files (path, checksum) recorded in the manifest.
        show_progress: show a progress bar while encoding.
        resume: continue an unfinished build of ``out_dir`` that a killed or failed run
            left, without encoding its finished chunks again. That build must have had the
            same documents, encoder, passage settings and ``chunk_docs``. ``False`` discards an
            unfinished build; ``None`` raises if one with finished chunks exists.
        chunk_docs: documents encoded, and saved for ``resume``, per chunk.
        index_type: the FAISS index of the passage vectors: ``"auto"``, ``"flat"``,
            ``"hnsw"``, ``"ivfpq"`` or a FAISS factory string (see
            :mod:`medsearch.indexer.index_types`).

    Raises:
        MedsearchError: no documents, ``out_dir`` cannot be used, or an unfinished build
            conflicts with ``resume`` (see :meth:`Checkpoint.open`).
        IndexLockedError: another process is building or updating ``out_dir``.
    """
    started = time.perf_counter()
    target = Path(out_dir)
    _check_target(target, overwrite)
    docs = deduplicate(documents)
    if not docs:
        raise MedsearchError("no documents to index: the input held no document with a title or abstract")

    encoder = encoder or Encoder()
    bm25_config = bm25_config or BM25Config()
    passage_config = passage_config or PassageConfig()
    max_tokens = passage_config.max_tokens or encoder.max_seq_length
    passage_settings = {**asdict(passage_config), "max_tokens": max_tokens}

    target.parent.mkdir(parents=True, exist_ok=True)
    with IndexLock(target):
        # Checked again under the lock: another writer may have finished in the meantime.
        _check_target(target, overwrite)
        chunks = num_chunks(len(docs), chunk_docs)
        key = {
            "documents_sha256": documents_digest(docs),
            "documents": len(docs),
            "encoder": encoder_settings(encoder),
            "passages": passage_settings,
            "chunk_docs": chunk_docs,
            "chunks": chunks,
            "medsearch_version": _version(),
        }
        checkpoint = Checkpoint.open(
            work_directory(target), key, num_chunks=chunks, dim=encoder.dim, resume=resume
        )
        completed = False
        try:
            vectors, passage_docs = encode_passages(
                docs,
                encoder,
                max_tokens=max_tokens,
                overlap_sentences=passage_config.overlap_sentences,
                chunk_docs=chunk_docs,
                checkpoint=checkpoint,
                show_progress=show_progress,
            )
            dense = DenseIndex.build(vectors, passage_docs, index_type=index_type)
            write_index_files(
                checkpoint.index_directory,
                docs,
                dense,
                encoder=encoder_settings(encoder),
                passages=passage_settings,
                bm25_config=bm25_config,
                inputs=list(inputs),
            )
            replace_directory(checkpoint.index_directory, target)
            completed = True
        finally:
            _finish_work_directory(checkpoint, completed)

    size = directory_size(target)
    summary = BuildSummary(
        path=target,
        documents=len(docs),
        passages=dense.num_passages,
        seconds=time.perf_counter() - started,
        bytes_on_disk=size,
    )
    logger.info(
        "Indexed %d documents as %d passages in %.1f s (%.1f MB on disk) at %s",
        summary.documents, summary.passages, summary.seconds, size / 1e6, target,
    )
    return summary


def write_index_files(
    directory: Path,
    documents: Sequence[Document],
    dense: DenseIndex,
    *,
    encoder: dict[str, Any],
    passages: dict[str, Any],
    bm25_config: BM25Config,
    inputs: list[dict[str, Any]],
    tokenizer: BiomedicalTokenizer | None = None,
) -> Manifest:
    """Write the store, a new BM25 index, ``dense`` and the manifest into ``directory``.

    Args:
        directory: created if missing; existing files in it are overwritten.
        documents: row ``i`` of every part of the index is ``documents[i]``.
        dense: the passage vectors, with document rows into ``documents``.
        encoder, passages: the encoder and passage settings recorded in the manifest.
        bm25_config: BM25 parameters.
        inputs: the applied input files recorded in the manifest.
        tokenizer: the BM25 tokenizer; ``None`` uses the default one.

    Returns:
        The manifest written, with the size and SHA-256 of every file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    write_documents(documents, directory)
    logger.info("Building the BM25 index over %d documents", len(documents))
    bm25 = BM25Index.build(
        [doc.text for doc in documents], config=bm25_config, tokenizer=tokenizer, show_progress=False
    )
    bm25.save(directory)
    dense.save(directory)
    manifest = Manifest(
        medsearch_version=_version(),
        encoder=encoder,
        passages=passages,
        bm25=bm25.manifest_entry(),
        dense=dense.manifest_entry(),
        counts={"documents": len(documents), "passages": dense.num_passages},
        inputs=inputs,
    )
    manifest.write(directory)
    return manifest


def encoder_settings(encoder: Encoder) -> dict[str, Any]:
    """Return the encoder settings that the manifest records and that decide its vectors."""
    return {
        "name": encoder.name,
        "dim": encoder.dim,
        "max_seq_length": encoder.max_seq_length,
        "precision": encoder.precision,
    }


def directory_size(directory: Path) -> int:
    """Return the bytes of all files under ``directory``."""
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def _finish_work_directory(checkpoint: Checkpoint, completed: bool) -> None:
    saved = len(checkpoint.finished_chunks())
    if completed or saved == 0:
        shutil.rmtree(checkpoint.directory, ignore_errors=True)
        return
    shutil.rmtree(checkpoint.index_directory, ignore_errors=True)
    logger.warning(
        "The build stopped with %d of %d chunks encoded; they are kept in %s. "
        "Run the same command with --resume to continue from there",
        saved, checkpoint.num_chunks, checkpoint.directory,
    )


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise MedsearchError(f"cannot write an index to {target}: it is a file; choose another --out")
    if not target.is_dir() or not any(target.iterdir()):
        return
    if not (target / MANIFEST_FILENAME).is_file():
        raise MedsearchError(
            f"{target} is a non-empty directory that is not a medsearch index; "
            "choose another --out so that no files are overwritten"
        )
    if not overwrite:
        raise MedsearchError(f"an index already exists at {target}; pass --overwrite to replace it")


def _version() -> str:
    from medsearch import __version__

    return __version__
