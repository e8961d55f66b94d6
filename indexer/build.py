"""Build an index directory from documents: store, BM25, passage vectors, manifest.

The index is written into a temporary sibling directory and renamed into place only when
complete, so an interrupted or failed build never leaves a partial index at the target,
and a previous index at the target stays readable until the new one replaces it.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from medsearch.data.document import Document
from medsearch.errors import MedsearchError
from medsearch.indexer.bm25 import BM25Config, BM25Index
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.encoder import Encoder
from medsearch.indexer.manifest import MANIFEST_FILENAME, Manifest
from medsearch.indexer.passages import PassageConfig, split_passages
from medsearch.indexer.store import write_documents

logger = logging.getLogger(__name__)

# Documents encoded per step; large enough that sentence-transformers' length sorting
# removes most padding, small enough that the progress bar moves every few seconds.
ENCODE_CHUNK_DOCS = 256


@dataclass(frozen=True)
class BuildSummary:
    """What a build wrote: counts, elapsed seconds and bytes on disk."""

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
        index_type: the FAISS index of the passage vectors: ``"auto"``, ``"flat"``,
            ``"hnsw"``, ``"ivfpq"`` or a FAISS factory string (see
            :mod:`medsearch.indexer.index_types`).

    Raises:
        MedsearchError: no documents, or ``out_dir`` cannot be used.
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

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write_documents(docs, staging)
        logger.info("Building the BM25 index over %d documents", len(docs))
        bm25 = BM25Index.build([doc.text for doc in docs], config=bm25_config, show_progress=False)
        bm25.save(staging)
        dense = _encode_passages(docs, encoder, max_tokens, passage_config.overlap_sentences, show_progress, index_type)
        dense.save(staging)
        manifest = Manifest(
            medsearch_version=_version(),
            encoder={
                "name": encoder.name,
                "dim": encoder.dim,
                "max_seq_length": encoder.max_seq_length,
                "precision": encoder.precision,
            },
            passages={**asdict(passage_config), "max_tokens": max_tokens},
            bm25=bm25.manifest_entry(),
            dense=dense.manifest_entry(),
            counts={"documents": len(docs), "passages": dense.num_passages},
            inputs=list(inputs),
        )
        manifest.write(staging)
        _replace_directory(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    size = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
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


def _encode_passages(
    docs: Sequence[Document], encoder: Encoder, max_tokens: int, overlap: int, show_progress: bool, index_type: str
) -> DenseIndex:
    vectors: list[np.ndarray] = []
    passage_docs: list[np.ndarray] = []
    with tqdm(total=len(docs), desc="Encoding", unit="doc", disable=not show_progress) as bar:
        for start in range(0, len(docs), ENCODE_CHUNK_DOCS):
            chunk = docs[start : start + ENCODE_CHUNK_DOCS]
            texts: list[str] = []
            for offset, doc in enumerate(chunk):
                passages = split_passages(
                    doc.title,
                    doc.abstract,
                    max_tokens=max_tokens,
                    count_tokens=encoder.count_tokens,
                    overlap_sentences=overlap,
                )
                texts.extend(passages)
                passage_docs.append(np.full(len(passages), start + offset, dtype=np.int64))
            vectors.append(encoder.encode_documents(texts))
            bar.update(len(chunk))
    return DenseIndex.build(np.concatenate(vectors), np.concatenate(passage_docs), index_type=index_type)


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


def _replace_directory(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    retired = target.parent / f".{target.name}.old-{os.getpid()}"
    shutil.rmtree(retired, ignore_errors=True)
    target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def _version() -> str:
    from medsearch import __version__

    return __version__
