"""Reader for Parquet corpora with id, title and text columns, read in record batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from medsearch.data.document import Document
from medsearch.data.input_file import check_input_path
from medsearch.data.records import FieldNames, RecordCounts, RecordError, log_record_counts, record_to_document
from medsearch.data.stats import ReadStats, admit_document, log_skipped_records
from medsearch.errors import InputFormatError

logger = logging.getLogger(__name__)

BATCH_SIZE = 4096


def read_parquet(
    path: str | Path,
    *,
    id_field: str = "_id",
    title_field: str = "title",
    text_field: str = "text",
    require_abstract: bool = False,
    stats: ReadStats | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[Document]:
    """Yield a Document for each row of a Parquet file.

    Only the id, title and text columns are read, ``batch_size`` rows at a time, so memory
    stays bounded for large files. The id column may contain strings or integers. Title and
    text contain strings, and nulls become empty strings. A missing title or text column
    gives empty values with a WARNING; at least one of the two must exist.

    Args:
        path: a ``.parquet`` file.
        id_field, title_field, text_field: names of the id, title and text columns.
        require_abstract: skip rows with an empty text instead of yielding them
            title-only. Either way they are counted in ``stats.without_abstract``.
        stats: filled in place while the iterator is consumed; see :class:`ReadStats`.
        batch_size: rows per record batch.

    Raises:
        InputFormatError: the file is missing or not Parquet, the id column or both text
            columns are missing, or a row has a null id or a value of the wrong type.
            Messages give the 0-based row index; ``line`` stays ``None``.
    """
    path = check_input_path(path)
    fields = FieldNames(id_field=id_field, title_field=title_field, text_field=text_field)
    stats = stats if stats is not None else ReadStats()
    stats.path = str(path)
    before = stats.snapshot()
    counts = RecordCounts()
    started = time.perf_counter()

    parquet_file = _open_parquet(path)
    columns = _select_columns(path, parquet_file.schema_arrow, fields)

    row = 0
    try:
        for batch in parquet_file.iter_batches(batch_size=batch_size, columns=columns):
            values = {name: batch.column(name).to_pylist() for name in columns}
            for offset in range(batch.num_rows):
                record = {name: column[offset] for name, column in values.items()}
                stats.records_read += 1
                try:
                    document = record_to_document(record, fields, counts)
                except RecordError as error:
                    raise InputFormatError(path, f"row {row + offset}: {error}") from None
                if admit_document(document, require_abstract=require_abstract, stats=stats):
                    yield document
            row += batch.num_rows
    except (pa.ArrowException, OSError) as error:
        raise InputFormatError(path, f"failed to read rows from row {row} on: {error}; the file is damaged") from None
    finally:
        parquet_file.close()

    log_record_counts(logger, stats.path, counts, fields)
    log_skipped_records(logger, stats, before=before)
    logger.info(
        "%s: read %d rows, yielded %d documents (%d without text) in %.1f s",
        stats.path,
        stats.records_read - before.records_read,
        stats.documents - before.documents,
        stats.without_abstract - before.without_abstract,
        time.perf_counter() - started,
    )


def _open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise InputFormatError(path, f"not a readable Parquet file ({error})") from None


def _select_columns(path: Path, schema: pa.Schema, fields: FieldNames) -> list[str]:
    """Return the configured columns that exist, in id, title, text order."""
    available = schema.names
    if fields.id_field not in available:
        raise InputFormatError(
            path,
            f"no {fields.id_field!r} column (columns: {', '.join(available) or 'none'}); "
            "set id_field (--id-field in the CLI) to the name of the id column",
        )
    if fields.title_field not in available and fields.text_field not in available:
        raise InputFormatError(
            path,
            f"neither a {fields.title_field!r} nor a {fields.text_field!r} column "
            f"(columns: {', '.join(available)}); set title_field and text_field "
            "(--title-field and --text-field in the CLI)",
        )
    requested = (fields.id_field, fields.title_field, fields.text_field)
    return [name for name in requested if name in available]
