"""Input files as changes to a document set: added and revised documents, then deletions.

PubMed publishes a yearly baseline and daily update files. An update file contains new
records, revised versions of earlier records (same PMID), and a ``DeleteCitation`` block of
PMIDs to remove. Applying files in order, each one's documents first and its deletions
after, gives the document set that PubMed contains after the last file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from medsearch.data.document import Document
from medsearch.data.readers import read_documents
from medsearch.data.stats import ReadStats
from medsearch.indexer.manifest import sha256_file

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusFile:
    """The documents of one input file and the document ids it deletes.

    Attributes:
        source: where the documents came from (a path), for messages and the manifest.
        documents: in file order; a repeated ``doc_id`` keeps its last version.
        deleted_ids: ids to remove once ``documents`` are applied (PubMed ``DeleteCitation``).
        sha256: hex SHA-256 of the file; an index records it so that the file is applied
            only once. ``None`` leaves the file unrecorded.
    """

    source: str
    documents: Sequence[Document]
    deleted_ids: Sequence[str] = ()
    sha256: str | None = None

    def manifest_entry(self) -> dict[str, object]:
        """Describe the file for the ``inputs`` list of the manifest."""
        return {
            "path": self.source,
            "sha256": self.sha256,
            "documents": len(self.documents),
            "deleted_ids": len(self.deleted_ids),
        }


def read_corpus_file(path: str | Path, *, sha256: str | None = None, **reader_options: object) -> CorpusFile:
    """Read one corpus file with :func:`read_documents` into a :class:`CorpusFile`.

    Args:
        path: a PubMed XML, JSONL or Parquet file.
        sha256: the file's SHA-256 if already computed; ``None`` computes it.
        reader_options: passed to :func:`read_documents` (field names, ``require_abstract``).

    Raises:
        InputFormatError: the file is missing or malformed.
    """
    stats = ReadStats()
    documents = list(read_documents(path, stats=stats, **reader_options))  # type: ignore[arg-type]
    return CorpusFile(
        source=str(path),
        documents=documents,
        deleted_ids=tuple(stats.deleted_pmids),
        sha256=sha256 or sha256_file(Path(path)),
    )


@dataclass
class ChangeCounts:
    """Counts of the changes that applying input files made to a document set.

    Attributes:
        added: documents whose id was not in the set before.
        replaced: documents that replaced one with the same id (a revised record).
        repeated: documents whose id occurred again later in the same file; the later
            version was kept.
        deleted: ids removed by a deletion.
        deletions_not_found: deleted ids that were not in the set (PubMed deletes records
            of its whole database, most of which a given index never held).
    """

    added: int = 0
    replaced: int = 0
    repeated: int = 0
    deleted: int = 0
    deletions_not_found: int = 0


@dataclass
class AppliedChanges:
    """The document set after :func:`apply_changes`, in row order, with the counts."""

    documents: list[Document]
    counts: ChangeCounts = field(default_factory=ChangeCounts)


def apply_changes(documents: Sequence[Document], files: Sequence[CorpusFile]) -> AppliedChanges:
    """Apply ``files`` in order to ``documents``: each file's documents, then its deletions.

    A replaced document keeps its position, a new one is appended, and a deleted one is
    removed, so that the result is in the order a fresh build of the same inputs gives.
    ``documents`` is not modified. Logs a WARNING with the count of ids repeated within a
    file and an INFO line with the other counts.
    """
    by_id: dict[str, Document] = {document.doc_id: document for document in documents}
    counts = ChangeCounts()
    for corpus_file in files:
        seen: set[str] = set()
        for document in corpus_file.documents:
            if document.doc_id in seen:
                counts.repeated += 1
            elif document.doc_id in by_id:
                counts.replaced += 1
            else:
                counts.added += 1
            seen.add(document.doc_id)
            by_id[document.doc_id] = document
        for doc_id in corpus_file.deleted_ids:
            if by_id.pop(doc_id, None) is None:
                counts.deletions_not_found += 1
            else:
                counts.deleted += 1

    if counts.repeated:
        logger.warning(
            "%d documents repeated an id seen before in the same input file; the last version of each was kept",
            counts.repeated,
        )
    logger.info(
        "Applied %d input files: %d documents added, %d replaced, %d deleted "
        "(%d deleted ids were not in the document set)",
        len(files), counts.added, counts.replaced, counts.deleted, counts.deletions_not_found,
    )
    return AppliedChanges(list(by_id.values()), counts)
