"""Benchmark indexes: build one, or reuse a cached one that contains the same documents.

A cached index is reused when it contains the same documents (compared by content digest) and
its dense part was built with the same encoder, precision and passage settings. When only
its BM25 settings differ from the requested ones, the BM25 part is rebuilt in place, which
takes seconds; any other difference rebuilds the whole index.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from medsearch.data.document import Document
from medsearch.errors import IndexFileError
from medsearch.indexer.bm25 import BM25_DIRNAME, BM25Config, BM25Index
from medsearch.indexer.build import build_index, deduplicate
from medsearch.indexer.encoder import Encoder
from medsearch.indexer.manifest import MANIFEST_FILENAME, Manifest
from medsearch.indexer.passages import PassageConfig
from medsearch.indexer.store import DocumentStore
from medsearch.indexer.tokenizer import BiomedicalTokenizer

logger = logging.getLogger(__name__)

__all__ = ["documents_digest", "ensure_index"]


def ensure_index(
    documents: Sequence[Document],
    directory: Path,
    *,
    encoder: Encoder,
    bm25_config: BM25Config | None = None,
    show_progress: bool = False,
) -> bool:
    """Make ``directory`` an index of ``documents`` built with the given settings.

    Args:
        documents: the corpus; repeated doc ids keep their last version, as in
            :func:`build_index`.
        directory: the cached index; created when missing.
        encoder: the encoder to build with; its name and resolved precision must match a
            cached index's.
        bm25_config: BM25 settings; ``None`` means :class:`BM25Config`'s defaults.
        show_progress: show a progress bar while encoding.

    Returns:
        ``True`` if the index was built, ``False`` if a cached one was reused (its BM25 part
        possibly rebuilt).
    """
    bm25_config = bm25_config or BM25Config()
    documents = deduplicate(documents)
    reason = _dense_mismatch(directory, documents, encoder)
    if reason is None:
        _refresh_bm25(directory, bm25_config)
        logger.info("Reusing the cached index at %s", directory)
        return False

    logger.info("Building the index at %s: %s", directory, reason)
    build_index(
        documents,
        directory,
        encoder=encoder,
        bm25_config=bm25_config,
        overwrite=True,
        show_progress=show_progress,
    )
    return True


def documents_digest(documents: Sequence[Document]) -> str:
    """Return the hex SHA-256 of the documents' ids, titles and abstracts, in order."""
    digest = hashlib.sha256()
    for document in documents:
        for value in (document.doc_id, document.title, document.abstract):
            digest.update(value.encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()


def _dense_mismatch(directory: Path, documents: Sequence[Document], encoder: Encoder) -> str | None:
    """Say why the cached index at ``directory`` cannot be reused, or return ``None``."""
    if not (directory / MANIFEST_FILENAME).is_file():
        return "no cached index"
    try:
        manifest = Manifest.read(directory)
        store = DocumentStore.load(directory)
    except IndexFileError as error:
        return f"the cached index is unreadable ({error})"

    built_with = manifest.encoder
    if built_with["name"] != encoder.name or built_with.get("precision", "fp32") != encoder.precision:
        return (
            f"the cached index was built with {built_with['name']} at {built_with.get('precision', 'fp32')}, "
            f"not {encoder.name} at {encoder.precision}"
        )
    expected_passages = {**asdict(PassageConfig()), "max_tokens": encoder.max_seq_length}
    if manifest.passages != expected_passages:
        return f"the cached index has passage settings {manifest.passages}, not {expected_passages}"
    stored = store.get_many(list(range(len(store))))
    if documents_digest(stored) != documents_digest(documents):
        return f"the cached index contains other documents ({len(stored)} stored, {len(documents)} read)"
    return None


def _refresh_bm25(directory: Path, config: BM25Config) -> None:
    manifest = Manifest.read(directory)
    expected = {**asdict(config), "tokenizer": BiomedicalTokenizer().config()}
    if manifest.bm25 == expected:
        return

    logger.info(
        "Rebuilding the BM25 part of %s: it has %s, the requested settings are %s",
        directory,
        {key: manifest.bm25.get(key) for key in asdict(config)},
        asdict(config),
    )
    store = DocumentStore.load(directory)
    texts = [document.text for document in store.get_many(list(range(len(store))))]
    bm25 = BM25Index.build(texts, config=config)

    # NOTE: this rewrites the index in place. If it stops before the manifest is written and
    # a BM25 file is missing or has another size, the next run rebuilds the whole index. If
    # all sizes match, the manifest still records the old settings, so the next run rebuilds
    # the BM25 part again.
    shutil.rmtree(directory / BM25_DIRNAME)
    bm25.save(directory)
    manifest.bm25 = bm25.manifest_entry()
    manifest.write(directory)
