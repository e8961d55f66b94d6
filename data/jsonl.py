"""Reader for JSON Lines corpora such as BEIR's ``corpus.jsonl`` (plain or gzip-compressed)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medsearch.data.document import Document
from medsearch.data.input_file import GZIP_READ_ERRORS, check_input_path, open_input_file
from medsearch.data.records import FieldNames, RecordCounts, RecordError, log_record_counts, record_to_document
from medsearch.data.stats import ReadStats, admit_document, log_skipped_records
from medsearch.errors import InputFormatError

logger = logging.getLogger(__name__)


def read_jsonl(
    path: str | Path,
    *,
    id_field: str = "_id",
    title_field: str = "title",
    text_field: str = "text",
    require_abstract: bool = False,
    stats: ReadStats | None = None,
) -> Iterator[Document]:
    """Yield a Document for each JSON object in a JSON Lines file.

    Each non-blank line contains one object. The defaults read BEIR's ``corpus.jsonl``
    (``{"_id": ..., "title": ..., "text": ...}``): ``text`` becomes the abstract and other
    fields are ignored. Gzip compression is detected from the magic bytes. Blank lines
    are skipped and a UTF-8 byte order mark on the first line is accepted.

    Args:
        path: a ``.jsonl`` or ``.jsonl.gz`` file in UTF-8.
        id_field, title_field, text_field: names of the id, title and text fields.
        require_abstract: skip records with an empty text instead of yielding them
            title-only. Either way they are counted in ``stats.without_abstract``.
        stats: filled in place while the iterator is consumed; see :class:`ReadStats`.

    Raises:
        InputFormatError: with the 1-based line number, for a line that is not valid
            UTF-8 or JSON, is not an object, lacks the id field or has values of the
            wrong type; and for a missing file or a truncated gzip stream.
    """
    path = check_input_path(path)
    fields = FieldNames(id_field=id_field, title_field=title_field, text_field=text_field)
    stats = stats if stats is not None else ReadStats()
    stats.path = str(path)
    before = stats.snapshot()
    counts = RecordCounts()
    started = time.perf_counter()

    for line_number, record in _iter_objects(path):
        stats.records_read += 1
        try:
            document = record_to_document(record, fields, counts)
        except RecordError as error:
            raise InputFormatError(path, str(error), line=line_number) from None
        if admit_document(document, require_abstract=require_abstract, stats=stats):
            yield document

    log_record_counts(logger, stats.path, counts, fields)
    log_skipped_records(logger, stats, before=before)
    logger.info(
        "%s: read %d records, yielded %d documents (%d without text) in %.1f s",
        stats.path,
        stats.records_read - before.records_read,
        stats.documents - before.documents,
        stats.without_abstract - before.without_abstract,
        time.perf_counter() - started,
    )


def _iter_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line."""
    line_number = 0
    with open_input_file(path) as stream:
        try:
            for line_number, raw_line in enumerate(stream, start=1):
                if not raw_line.strip():
                    continue
                yield line_number, _parse_line(path, raw_line, line_number)
        except GZIP_READ_ERRORS as error:
            raise InputFormatError(
                path,
                f"the gzip stream is truncated or damaged ({error}); download or copy the file again",
                line=line_number + 1,
            ) from None


def _parse_line(path: Path, raw_line: bytes, line_number: int) -> dict[str, Any]:
    encoding = "utf-8-sig" if line_number == 1 else "utf-8"
    try:
        line = raw_line.decode(encoding)
    except UnicodeDecodeError as error:
        raise InputFormatError(
            path,
            f"invalid UTF-8 (byte 0x{raw_line[error.start]:02x} at byte offset {error.start} of the line); "
            "convert the file to UTF-8",
            line=line_number,
        ) from None

    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputFormatError(
            path,
            f"invalid JSON ({error.msg} at column {error.colno}); each line must contain one JSON object",
            line=line_number,
        ) from None
    except RecursionError:
        raise InputFormatError(path, "JSON nested too deeply to parse", line=line_number) from None

    if not isinstance(value, dict):
        raise InputFormatError(
            path,
            f"expected a JSON object, got {_json_type(value)}; each line must contain one object such as "
            '{"_id": "1", "title": "...", "text": "..."}',
            line=line_number,
        )
    return value


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
