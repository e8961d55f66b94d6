"""The document store: every document's fields in one Parquet file, in index row order.

Data pages carry a CRC-32 checksum (Parquet ``write_page_checksum``), which the loader
verifies, so a damaged page raises instead of giving altered text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from medsearch.data.document import Document
from medsearch.errors import IndexFileError
from medsearch.indexer.manifest import rebuild_hint

DOCUMENTS_FILENAME = "documents.parquet"

SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("title", pa.string()),
        ("abstract", pa.string()),
        ("pmid", pa.string()),
        ("year", pa.int32()),
        ("journal", pa.string()),
        ("mesh_terms", pa.list_(pa.string())),
        ("publication_types", pa.list_(pa.string())),
        ("doi", pa.string()),
    ]
)


def write_documents(documents: Sequence[Document], directory: Path) -> None:
    """Write ``documents`` to ``directory/documents.parquet``; row ``i`` is ``documents[i]``."""
    columns = {name: [getattr(doc, name) for doc in documents] for name in SCHEMA.names}
    columns["mesh_terms"] = [list(doc.mesh_terms) for doc in documents]
    columns["publication_types"] = [list(doc.publication_types) for doc in documents]
    table = pa.Table.from_pydict(columns, schema=SCHEMA)
    pq.write_table(table, directory / DOCUMENTS_FILENAME, compression="zstd", write_page_checksum=True)


class DocumentStore:
    """Read access to the stored documents by row number or document id."""

    def __init__(self, table: pa.Table):
        self.table = table
        self.doc_ids: list[str] = table.column("doc_id").to_pylist()
        self._rows = {doc_id: row for row, doc_id in enumerate(self.doc_ids)}

    @classmethod
    def load(cls, directory: Path) -> DocumentStore:
        """Open ``directory/documents.parquet`` memory-mapped.

        Raises:
            IndexFileError: the file cannot be read, fails its page checksums, has another
                schema, or contains a null or repeated ``doc_id``.
        """
        path = directory / DOCUMENTS_FILENAME
        try:
            table = pq.read_table(path, memory_map=True, page_checksum_verification=True)
        except (pa.ArrowException, OSError, UnicodeDecodeError) as error:
            raise IndexFileError(f"index file {path} is damaged ({error}); {rebuild_hint(directory)}") from None
        if not table.schema.equals(SCHEMA):
            raise IndexFileError(
                f"index file {path} has the columns {table.schema.names} with other types than expected "
                f"({SCHEMA.names}); {rebuild_hint(directory)}"
            )
        store = cls(table)
        if len(store._rows) != len(store.doc_ids) or None in store._rows:
            raise IndexFileError(f"index file {path} has a null or repeated doc_id; {rebuild_hint(directory)}")
        return store

    def __len__(self) -> int:
        return len(self.doc_ids)

    def row_of(self, doc_id: str) -> int | None:
        """Row number of ``doc_id``, or ``None`` if the index has no such document."""
        return self._rows.get(doc_id)

    def get(self, row: int) -> Document:
        """Return the document stored at ``row``."""
        return self.get_many([row])[0]

    def get_many(self, rows: Sequence[int]) -> list[Document]:
        """Return the documents stored at ``rows``, in that order."""
        records = self.table.take(pa.array(rows, type=pa.int64())).to_pylist()
        return [
            Document(
                **{
                    **record,
                    "title": record["title"] or "",
                    "abstract": record["abstract"] or "",
                    "mesh_terms": tuple(record["mesh_terms"] or ()),
                    "publication_types": tuple(record["publication_types"] or ()),
                }
            )
            for record in records
        ]
