"""Counts of what a corpus reader read, yielded and skipped."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from medsearch.data.document import Document


@dataclass
class ReadStats:
    """Counters that a reader fills in place while its iterator is consumed.

    The counts are final only once the iterator is exhausted. Every record is either
    yielded or counted in one ``skipped_*`` field, so
    ``records_read == documents + skipped_without_abstract + skipped_empty + skipped_unsupported``.
    Pass a new ReadStats for each file: a reader adds to the counts already present.

    Attributes:
        path: the file being read.
        records_read: citation records (PubMed XML, not counting ``DeleteCitation`` blocks),
            non-blank lines (JSONL) or rows (Parquet).
        documents: documents yielded.
        without_abstract: records with an empty abstract, whether yielded or skipped.
        skipped_without_abstract: records skipped because ``require_abstract=True``.
        skipped_empty: records skipped because both title and abstract are empty.
        skipped_unsupported: records of a kind the reader does not read
            (``PubmedBookArticle`` in PubMed XML).
        deleted_pmids: PMIDs listed in ``DeleteCitation`` blocks, in file order.
    """

    path: str = ""
    records_read: int = 0
    documents: int = 0
    without_abstract: int = 0
    skipped_without_abstract: int = 0
    skipped_empty: int = 0
    skipped_unsupported: int = 0
    deleted_pmids: list[str] = field(default_factory=list)

    def snapshot(self) -> ReadStats:
        """Return a copy whose ``deleted_pmids`` list is independent of this one."""
        return dataclasses.replace(self, deleted_pmids=list(self.deleted_pmids))


def admit_document(document: Document, *, require_abstract: bool, stats: ReadStats) -> bool:
    """Count ``document`` in ``stats`` and return whether the reader should yield it.

    A document with an empty title and an empty abstract is never yielded, because there
    is nothing to index. A document with a title but no abstract is yielded unless
    ``require_abstract`` is true.
    """
    if not document.abstract:
        stats.without_abstract += 1

    if not document.title and not document.abstract:
        stats.skipped_empty += 1
        return False

    if require_abstract and not document.abstract:
        stats.skipped_without_abstract += 1
        return False

    stats.documents += 1
    return True


def log_skipped_records(logger: logging.Logger, stats: ReadStats, *, before: ReadStats) -> None:
    """Log the records skipped since the ``before`` snapshot: a WARNING per kind, an INFO for requested skips."""
    skipped_empty = stats.skipped_empty - before.skipped_empty
    if skipped_empty:
        logger.warning(
            "%s: skipped %d records whose title and abstract are both empty (nothing to index)",
            stats.path,
            skipped_empty,
        )

    skipped_without_abstract = stats.skipped_without_abstract - before.skipped_without_abstract
    if skipped_without_abstract:
        logger.info(
            "%s: skipped %d records without an abstract because require_abstract is set",
            stats.path,
            skipped_without_abstract,
        )
