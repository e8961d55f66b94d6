"""Streamed reader for PubMed/MEDLINE XML (``.xml`` and ``.xml.gz``).

Two layouts are read:

- ``PubmedArticleSet`` (the current baseline, update and efetch files): one
  ``PubmedArticle`` per record, containing ``MedlineCitation`` and ``PubmedData``.
- ``MedlineCitationSet`` (older MEDLINE files, such as those of the 2010 DTD):
  ``MedlineCitation`` records directly under the root.

``DeleteCitation`` blocks list PMIDs to remove from an index. They yield no documents,
and their PMIDs go to :attr:`ReadStats.deleted_pmids`.

The parser never resolves entities, loads a DTD or touches the network. An entity
reference therefore stays unexpanded and contributes no text, and a WARNING gives the
count. External entities (XXE) are never read, and an entity-expansion bomb is either
left unexpanded or, with libxml2 2.14, rejected by its amplification limit as
InputFormatError. The predefined entities (``&lt;``) and character references
(``&#946;``) are always decoded; the NLM files tested contain no other entities.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from medsearch.data.document import Document
from medsearch.data.input_file import GZIP_READ_ERRORS, check_input_path, open_input_file
from medsearch.data.pubmed_record import CitationError, citation_to_document
from medsearch.data.stats import ReadStats, admit_document, log_skipped_records
from medsearch.errors import InputFormatError

logger = logging.getLogger(__name__)

# Root element -> the record elements directly below it that this reader handles.
RECORD_TAGS = {
    "PubmedArticleSet": ("PubmedArticle", "PubmedBookArticle", "DeleteCitation"),
    "MedlineCitationSet": ("MedlineCitation", "DeleteCitation"),
}

# Parser options that keep untrusted input from expanding entities or fetching files.
SAFE_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "attribute_defaults": False,
    "huge_tree": False,
}


def read_pubmed_xml(
    path: str | Path,
    *,
    require_abstract: bool = False,
    stats: ReadStats | None = None,
) -> Iterator[Document]:
    """Yield a Document for each citation in a PubMed or MEDLINE XML file.

    Memory stays bounded by one record: each record element and its preceding siblings
    are removed from the tree once read. Documents come in file order. An update file
    can contain several versions of one PMID (``<PMID Version="2">``), and each is yielded,
    so a consumer that keeps the last document per ``doc_id`` keeps the latest version.

    Args:
        path: an ``.xml`` file, plain or gzip-compressed (detected from the magic bytes).
        require_abstract: skip records without an abstract instead of yielding them
            title-only. Either way they are counted in ``stats.without_abstract``.
        stats: filled in place while the iterator is consumed; see :class:`ReadStats`.

    Raises:
        InputFormatError: the file is missing, is not well-formed XML (the error carries
            the line that libxml2 reports), is a truncated or damaged gzip stream, has a
            root element other than ``PubmedArticleSet`` or ``MedlineCitationSet``, or
            has a citation without a PMID.
    """
    path = check_input_path(path)
    stats = stats if stats is not None else ReadStats()
    stats.path = str(path)
    before = stats.snapshot()
    started = time.perf_counter()

    root_tag = _read_root_tag(path)
    if root_tag not in RECORD_TAGS:
        raise InputFormatError(
            path,
            f"root element is <{root_tag}>, expected <PubmedArticleSet> or <MedlineCitationSet>; "
            "pass a PubMed or MEDLINE XML file",
            line=None,
        )

    unexpanded_entities = 0
    with open_input_file(path) as stream:
        for record in _iter_records(path, stream, RECORD_TAGS[root_tag]):
            if record.tag == "DeleteCitation":
                _collect_deleted_pmids(record, stats)
            elif record.tag == "PubmedBookArticle":
                stats.records_read += 1
                stats.skipped_unsupported += 1
            else:
                stats.records_read += 1
                unexpanded_entities += sum(1 for _ in record.iter(etree.Entity))
                document = _record_to_document(path, record)
                if admit_document(document, require_abstract=require_abstract, stats=stats):
                    yield document
            _release(record)

    _log_summary(stats, before=before, unexpanded_entities=unexpanded_entities, seconds=time.perf_counter() - started)


def _read_root_tag(path: Path) -> str:
    """Return the root element's tag, reading only as far as its start tag."""
    with open_input_file(path) as stream:
        try:
            is_empty = not stream.read(1)
        except GZIP_READ_ERRORS as error:
            raise _gzip_error(path, error) from None
        if is_empty:
            raise InputFormatError(path, "the file is empty; pass a PubMed or MEDLINE XML file")
        stream.seek(0)

        for _event, element in _parse_events(path, stream, events=("start",), tag=None):
            return str(element.tag)
    raise InputFormatError(path, "the file contains no XML element")


def _iter_records(path: Path, stream: BinaryIO, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    for _event, element in _parse_events(path, stream, events=("end",), tag=tags):
        # A record nested deeper than the root's children is not a record of this layout.
        parent = element.getparent()
        if parent is not None and parent.getparent() is None:
            yield element


def _parse_events(
    path: Path,
    stream: BinaryIO,
    *,
    events: tuple[str, ...],
    tag: tuple[str, ...] | None,
) -> Iterator[tuple[str, etree._Element]]:
    """Run ``etree.iterparse`` with the safe options, turning parse and gzip errors into InputFormatError."""
    # lxml adds iterparse errors to the thread's global error log, which keeps the entries
    # of earlier parses. Clearing it first leaves only this file's errors in the exception.
    etree.clear_error_log()
    context = etree.iterparse(stream, events=events, tag=tag, **SAFE_PARSER_OPTIONS)
    try:
        yield from context
    except etree.XMLSyntaxError as error:
        raise _syntax_error(path, error) from None
    except GZIP_READ_ERRORS as error:
        raise _gzip_error(path, error) from None


def _gzip_error(path: Path, error: Exception) -> InputFormatError:
    return InputFormatError(
        path, f"the gzip stream is truncated or damaged ({error}); download or copy the file again"
    )


def _syntax_error(path: Path, error: etree.XMLSyntaxError) -> InputFormatError:
    # lxml's own message can be a generic "no element found" on line 0, while the error
    # log contains the libxml2 message that names the problem, so the log comes first.
    fatal = [entry for entry in error.error_log if entry.level >= etree.ErrorLevels.ERROR]
    if fatal:
        message, line = fatal[0].message, fatal[0].line
    else:
        message, line = str(error.msg), error.lineno
    if not line:
        line = None
    return InputFormatError(path, f"invalid XML: {message}; the file is damaged or is not XML", line=line)


def _record_to_document(path: Path, record: etree._Element) -> Document:
    if record.tag == "PubmedArticle":
        citation = record.find("MedlineCitation")
        pubmed_data = record.find("PubmedData")
    else:
        citation = record
        pubmed_data = None

    if citation is None:
        raise InputFormatError(path, "PubmedArticle has no MedlineCitation", line=record.sourceline)
    try:
        return citation_to_document(citation, pubmed_data)
    except CitationError as error:
        raise InputFormatError(path, str(error), line=citation.sourceline) from None


def _collect_deleted_pmids(record: etree._Element, stats: ReadStats) -> None:
    for pmid in record.iterfind("PMID"):
        text = (pmid.text or "").strip()
        if text:
            stats.deleted_pmids.append(text)


def _release(record: etree._Element) -> None:
    """Free a record that has been read, and every earlier sibling that is still in the tree."""
    record.clear(keep_tail=False)
    parent = record.getparent()
    if parent is None:
        return
    while record.getprevious() is not None:
        del parent[0]


def _log_summary(stats: ReadStats, *, before: ReadStats, unexpanded_entities: int, seconds: float) -> None:
    log_skipped_records(logger, stats, before=before)

    skipped_unsupported = stats.skipped_unsupported - before.skipped_unsupported
    if skipped_unsupported:
        logger.warning(
            "%s: skipped %d PubmedBookArticle records (book chapters are not supported)",
            stats.path,
            skipped_unsupported,
        )

    if unexpanded_entities:
        logger.warning(
            "%s: left %d entity references unexpanded; their text is missing from the documents "
            "(entities are never resolved, so that a file cannot expand or fetch content)",
            stats.path,
            unexpanded_entities,
        )

    deleted = len(stats.deleted_pmids) - len(before.deleted_pmids)
    if deleted:
        logger.info("%s: DeleteCitation lists %d PMIDs to delete", stats.path, deleted)

    logger.info(
        "%s: read %d records, yielded %d documents (%d without an abstract) in %.1f s",
        stats.path,
        stats.records_read - before.records_read,
        stats.documents - before.documents,
        stats.without_abstract - before.without_abstract,
        seconds,
    )
