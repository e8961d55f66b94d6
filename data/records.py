"""Conversion of one JSONL object or Parquet row into a Document, with configurable field names."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from medsearch.data.document import Document
from medsearch.data.text import has_control_characters, strip_control_characters


class RecordError(ValueError):
    """A record cannot become a Document; the reader adds the file and the line or row."""


@dataclass(frozen=True)
class FieldNames:
    """Names of the id, title and text fields; the defaults follow BEIR's ``corpus.jsonl``."""

    id_field: str = "_id"
    title_field: str = "title"
    text_field: str = "text"


@dataclass
class RecordCounts:
    """Per-file counts of repairs and gaps that a reader reports at WARNING once the file is read."""

    missing_title_field: int = 0
    missing_text_field: int = 0
    control_characters_removed: int = 0


def record_to_document(record: Mapping[str, Any], fields: FieldNames, counts: RecordCounts) -> Document:
    """Build a Document from a mapping of field names to values.

    The id may be a string or an integer and becomes a string. A missing or null title or
    text becomes an empty string, and the gap is counted in ``counts``. Control characters
    (NUL and the others except tab and line breaks) are removed from title and text.
    Other fields, such as BEIR's ``metadata``, are ignored.

    Raises:
        RecordError: the id is missing, empty, neither a string nor an integer, or
            contains control characters (tab and line breaks included). Also raised
            when title or text is not a string, or when both fields are missing.
    """
    doc_id = _document_id(record, fields)

    if fields.title_field not in record and fields.text_field not in record:
        raise RecordError(
            f"record {doc_id!r} has neither a {fields.title_field!r} nor a {fields.text_field!r} field "
            f"(fields: {_field_list(record)}); set title_field and text_field "
            "(--title-field and --text-field in the CLI)"
        )
    if fields.title_field not in record:
        counts.missing_title_field += 1
    if fields.text_field not in record:
        counts.missing_text_field += 1

    title = _text_value(record, fields.title_field, doc_id)
    text = _text_value(record, fields.text_field, doc_id)
    if has_control_characters(title) or has_control_characters(text):
        counts.control_characters_removed += 1
        title = strip_control_characters(title)
        text = strip_control_characters(text)

    return Document(doc_id=doc_id, title=title, abstract=text)


def _document_id(record: Mapping[str, Any], fields: FieldNames) -> str:
    if fields.id_field not in record:
        raise RecordError(
            f"record has no {fields.id_field!r} field (fields: {_field_list(record)}); "
            "set id_field (--id-field in the CLI) to the name of the id field"
        )

    value = record[fields.id_field]
    if value is None:
        raise RecordError(f"field {fields.id_field!r} is null; every document needs an id")
    # bool is a subclass of int, but True is no document id.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(
            f"field {fields.id_field!r} must be a string or an integer, got {type(value).__name__}; "
            "set id_field (--id-field in the CLI) if the id is stored in another field"
        )

    doc_id = str(value)
    if not doc_id.strip():
        raise RecordError(f"field {fields.id_field!r} is empty; every document needs a non-empty id")
    # Ids end up in tab-separated run files and in UTF-8 index files.
    if has_control_characters(doc_id) or any(character in doc_id for character in "\t\n\r"):
        raise RecordError(
            f"field {fields.id_field!r} contains a tab, line break, control character or lone surrogate "
            f"({doc_id!r}); ids must be printable text"
        )
    return doc_id


def _text_value(record: Mapping[str, Any], field_name: str, doc_id: str) -> str:
    value = record.get(field_name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(
            f"record {doc_id!r}: field {field_name!r} must be a string or null, got {type(value).__name__}"
        )
    return value


def _field_list(record: Mapping[str, Any]) -> str:
    names = [str(name) for name in record][:20]
    return ", ".join(names) if names else "none"


def log_record_counts(logger: logging.Logger, path: str, counts: RecordCounts, fields: FieldNames) -> None:
    """Log a WARNING for each kind of gap or repair counted while reading ``path``."""
    if counts.missing_title_field:
        logger.warning(
            "%s: %d records have no %r field and get an empty title; set title_field "
            "(--title-field in the CLI) if titles are stored under another name",
            path,
            counts.missing_title_field,
            fields.title_field,
        )
    if counts.missing_text_field:
        logger.warning(
            "%s: %d records have no %r field and get an empty abstract; set text_field "
            "(--text-field in the CLI) if the text is stored under another name",
            path,
            counts.missing_text_field,
            fields.text_field,
        )
    if counts.control_characters_removed:
        logger.warning(
            "%s: removed NUL or other control characters from the title or text of %d records",
            path,
            counts.control_characters_removed,
        )
