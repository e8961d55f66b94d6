"""Update an index in place with new, revised and deleted documents.

The update applies the input files to the stored documents (see
:mod:`medsearch.indexer.changes`) and encodes only the documents whose title or abstract
is new or changed. The vectors of the others come from the FAISS index. BM25 is rebuilt
over the whole new document set, and the index directory is replaced the way a build
replaces it. The
result equals a fresh build of the same final document set, up to float rounding in the
vectors (sentence-transformers pads each batch differently).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np

from medsearch.data.document import Document
from medsearch.errors import IndexMismatchError, MedsearchError
from medsearch.indexer.build import directory_size, write_index_files
from medsearch.indexer.changes import ChangeCounts, CorpusFile, apply_changes
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.encoder import Encoder
from medsearch.indexer.load import bm25_config, load_index_files
from medsearch.indexer.lock import IndexLock
from medsearch.indexer.manifest import Manifest
from medsearch.indexer.passage_vectors import ENCODE_CHUNK_DOCS, encode_passages
from medsearch.indexer.swap import replace_directory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateSummary:
    """Counts and totals of one update.

    Attributes:
        path: the index directory.
        changed: whether the index was rewritten; ``False`` when every input file had
            been applied before.
        skipped_inputs: sources of the input files skipped as already applied.
        counts: documents added, replaced and deleted (see :class:`ChangeCounts`).
        documents, passages: totals in the index after the update.
        encoded_documents: documents encoded because their title or abstract was new or
            changed; the vectors of all others were reused.
        seconds: elapsed time.
    """

    path: Path
    changed: bool
    skipped_inputs: tuple[str, ...]
    counts: ChangeCounts
    documents: int
    passages: int
    encoded_documents: int
    seconds: float


def applied_input(manifest: Manifest, sha256: str) -> dict[str, object] | None:
    """Return the manifest's entry of an input file with this SHA-256, or ``None``."""
    for entry in manifest.inputs:
        if isinstance(entry, dict) and entry.get("sha256") == sha256:
            return entry
    return None


def update_index(
    index_dir: str | Path,
    files: Iterable[CorpusFile],
    *,
    encoder: Encoder | None = None,
    chunk_docs: int = ENCODE_CHUNK_DOCS,
    show_progress: bool = False,
) -> UpdateSummary:
    """Apply input files to the index at ``index_dir``: add, replace, then delete documents.

    Args:
        index_dir: an index written by :func:`build_index` or an earlier update.
        files: the input files in the order to apply them (see :class:`CorpusFile`). A
            file whose SHA-256 the manifest records as applied is skipped (INFO).
        encoder: the index's encoder; ``None`` loads the model and precision that the
            manifest records.
        chunk_docs: documents encoded per chunk.
        show_progress: show a progress bar while encoding.

    Returns:
        The counts; ``changed`` is ``False`` and no file is written when every input file
        was applied before.

    Raises:
        IndexNotFoundError: no index at ``index_dir``.
        IndexFileError: a file of the index fails its SHA-256 or structure check.
        IndexMismatchError: ``encoder`` is another model than the index was built with.
        IndexLockedError: another process is building or updating the index.
        MedsearchError: the update would leave no document.
    """
    started = time.perf_counter()
    target = Path(index_dir)
    with IndexLock(target):
        manifest = Manifest.read(target)
        pending, skipped = _new_inputs(list(files), manifest, target)
        if not pending:
            logger.info("Every input file was applied to %s before; the index is unchanged", target)
            return UpdateSummary(
                path=target,
                changed=False,
                skipped_inputs=tuple(skipped),
                counts=ChangeCounts(),
                documents=manifest.counts["documents"],
                passages=manifest.counts["passages"],
                encoded_documents=0,
                seconds=time.perf_counter() - started,
            )

        # Reused vectors are copied into the new index, so damage must be found first.
        current = load_index_files(target, verify=True, mmap=False)
        manifest = current.manifest

        encoder = _index_encoder(manifest, encoder)
        old_documents = current.documents.get_many(range(len(current.documents)))
        applied = apply_changes(old_documents, pending)
        if not applied.documents:
            raise MedsearchError(
                f"the update deletes every document of {target}; the index is left unchanged"
            )

        dense, encoded = _updated_vectors(
            old_documents,
            current.dense,
            applied.documents,
            encoder,
            manifest,
            chunk_docs=chunk_docs,
            show_progress=show_progress,
        )
        timestamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        inputs = [*manifest.inputs, *({**item.manifest_entry(), "applied": timestamp} for item in pending)]
        work = target.parent / f".{target.name}.update"
        shutil.rmtree(work, ignore_errors=True)
        try:
            write_index_files(
                work,
                applied.documents,
                dense,
                encoder=manifest.encoder,
                passages=manifest.passages,
                bm25_config=bm25_config(manifest, target),
                inputs=inputs,
                tokenizer=current.bm25.tokenizer,
            )
            replace_directory(work, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    summary = UpdateSummary(
        path=target,
        changed=True,
        skipped_inputs=tuple(skipped),
        counts=applied.counts,
        documents=len(applied.documents),
        passages=dense.num_passages,
        encoded_documents=encoded,
        seconds=time.perf_counter() - started,
    )
    logger.info(
        "Updated %s in %.1f s: %d documents as %d passages (%d encoded, %.1f MB on disk)",
        target, summary.seconds, summary.documents, summary.passages, encoded, directory_size(target) / 1e6,
    )
    return summary


def _new_inputs(files: Sequence[CorpusFile], manifest: Manifest, target: Path) -> tuple[list[CorpusFile], list[str]]:
    pending: list[CorpusFile] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for corpus_file in files:
        digest = corpus_file.sha256
        entry = applied_input(manifest, digest) if digest else None
        if entry is not None or (digest is not None and digest in seen):
            when = f" on {entry['applied']}" if entry and entry.get("applied") else ""
            logger.info(
                "Skipped %s: a file with the same SHA-256 was already applied to %s%s",
                corpus_file.source, target, when,
            )
            skipped.append(corpus_file.source)
            continue
        if digest is not None:
            seen.add(digest)
        pending.append(corpus_file)
    return pending, skipped


def _index_encoder(manifest: Manifest, encoder: Encoder | None) -> Encoder:
    name = manifest.encoder["name"]
    precision = manifest.encoder.get("precision", "fp32")
    if encoder is None:
        return Encoder(name, precision=precision)
    if encoder.name != name:
        raise IndexMismatchError(
            f"the index was built with encoder {name!r}, but encoder {encoder.name!r} was given for the "
            "update; update it with the same encoder or rebuild the index"
        )
    if encoder.precision != precision:
        logger.warning(
            "the index was encoded in %s but the new documents are encoded in %s; their vectors differ "
            "slightly from a rebuild's. Pass the index's precision to keep them equal",
            precision, encoder.precision,
        )
    return encoder


def _updated_vectors(
    old_documents: Sequence[Document],
    old_dense: DenseIndex,
    documents: Sequence[Document],
    encoder: Encoder,
    manifest: Manifest,
    *,
    chunk_docs: int,
    show_progress: bool,
) -> tuple[DenseIndex, int]:
    """Return the dense index of ``documents`` and the number of documents encoded.

    A document whose title and abstract equal those of the stored document with its id
    keeps its stored passage vectors. Every other document is split and encoded.
    """
    old_rows = {document.doc_id: row for row, document in enumerate(old_documents)}
    reuse: list[int | None] = []
    to_encode: list[Document] = []
    for document in documents:
        row = old_rows.get(document.doc_id)
        if row is not None and _same_text(old_documents[row], document):
            reuse.append(row)
        else:
            reuse.append(None)
            to_encode.append(document)

    old_vectors = _stored_vectors(old_dense)
    old_bounds = _passage_bounds(old_dense.passage_docs, len(old_documents))
    new_vectors, new_rows = encode_passages(
        to_encode,
        encoder,
        max_tokens=manifest.passages["max_tokens"],
        overlap_sentences=manifest.passages["overlap_sentences"],
        chunk_docs=chunk_docs,
        show_progress=show_progress,
    )
    new_bounds = _passage_bounds(new_rows, len(to_encode))

    pieces: list[np.ndarray] = []
    passage_docs: list[np.ndarray] = []
    next_new = 0
    for row, old_row in enumerate(reuse):
        if old_row is None:
            start, end = new_bounds[next_new]
            pieces.append(new_vectors[start:end])
            next_new += 1
        else:
            start, end = old_bounds[old_row]
            pieces.append(old_vectors[start:end])
        passage_docs.append(np.full(end - start, row, dtype=np.int64))
    logger.info(
        "Reused the vectors of %d unchanged documents and encoded %d new or changed ones",
        len(documents) - len(to_encode), len(to_encode),
    )
    index_type = manifest.dense.get("requested_type") or old_dense.index_type
    dense = DenseIndex.build(np.concatenate(pieces), np.concatenate(passage_docs), index_type=index_type)
    return dense, len(to_encode)


def _stored_vectors(dense: DenseIndex) -> np.ndarray:
    """Return the ``(num_passages, dim)`` vectors stored in ``dense``, exactly as added.

    Raises:
        MedsearchError: the index stores compressed codes (IVF-PQ, scalar quantizers), from
            which the vectors cannot be recovered exactly.
    """
    index = faiss.downcast_index(dense.index)
    if not isinstance(index, (faiss.IndexFlat, faiss.IndexHNSWFlat)):
        raise MedsearchError(
            f"the dense index has type {dense.index_type!r}, which stores compressed vectors, so an update "
            "cannot reuse them; rebuild the index with `medsearch index`, or build it with "
            "--index-type flat or hnsw to allow updates"
        )
    return index.reconstruct_n(0, index.ntotal)


def _same_text(old: Document, new: Document) -> bool:
    return old.title == new.title and old.abstract == new.abstract


def _passage_bounds(passage_docs: np.ndarray, num_docs: int) -> list[tuple[int, int]]:
    """Return ``(start, end)`` passage positions per document row; ``passage_docs`` ascends."""
    rows = np.arange(num_docs)
    starts = np.searchsorted(passage_docs, rows, side="left")
    ends = np.searchsorted(passage_docs, rows, side="right")
    return list(zip(starts.tolist(), ends.tolist()))
