"""One entry point that reads any supported corpus file, chosen by its extension."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from medsearch.data.document import Document
from medsearch.data.input_file import check_input_path
from medsearch.data.jsonl import read_jsonl
from medsearch.data.parquet import read_parquet
from medsearch.data.pubmed import read_pubmed_xml
from medsearch.data.stats import ReadStats
from medsearch.errors import InputFormatError

__all__ = ["SUPPORTED_EXTENSIONS", "ReadStats", "corpus_format", "read_documents"]

# Extension -> format name, longest extensions first so that ".xml.gz" wins over ".gz".
SUPPORTED_EXTENSIONS = {
    ".xml.gz": "pubmed-xml",
    ".xml": "pubmed-xml",
    ".jsonl.gz": "jsonl",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
}


def corpus_format(path: str | Path) -> str:
    """Return ``"pubmed-xml"``, ``"jsonl"`` or ``"parquet"`` from the file name's extension (case-insensitive).

    Raises:
        InputFormatError: the extension is not one of :data:`SUPPORTED_EXTENSIONS`.
    """
    name = Path(path).name.lower()
    for extension, format_name in SUPPORTED_EXTENSIONS.items():
        if name.endswith(extension):
            return format_name
    raise InputFormatError(
        path,
        f"unsupported file extension; supported: {', '.join(SUPPORTED_EXTENSIONS)} "
        "(PubMed XML, JSON Lines, Parquet); rename the file or convert it",
    )


def read_documents(
    path: str | Path,
    *,
    id_field: str = "_id",
    title_field: str = "title",
    text_field: str = "text",
    require_abstract: bool = False,
    stats: ReadStats | None = None,
) -> Iterator[Document]:
    """Yield the documents of a corpus file in file order, choosing the reader by extension.

    - ``.xml``, ``.xml.gz``: PubMed/MEDLINE XML (:func:`read_pubmed_xml`); the field
      names do not apply.
    - ``.jsonl``, ``.jsonl.gz``: JSON Lines such as BEIR ``corpus.jsonl`` (:func:`read_jsonl`).
    - ``.parquet``: Parquet (:func:`read_parquet`).

    Records whose title and abstract are both empty are skipped with a WARNING, and
    records without an abstract are skipped when ``require_abstract`` is true. The counts
    go to ``stats``, which is filled in place while the iterator is consumed. Deleted PMIDs
    from PubMed update files are in ``stats.deleted_pmids``, not in the documents.

    Args:
        path: the corpus file.
        id_field, title_field, text_field: field or column names for JSON Lines and
            Parquet input; the defaults follow BEIR (``_id``, ``title``, ``text``).
        require_abstract: skip records without an abstract instead of yielding them title-only.
        stats: a new :class:`ReadStats` to fill, or ``None``.

    Raises:
        InputFormatError: the path is missing, is a directory or has an unsupported
            extension, or the content is malformed (the error names the line where known).
    """
    path = check_input_path(path)
    format_name = corpus_format(path)

    if format_name == "pubmed-xml":
        return read_pubmed_xml(path, require_abstract=require_abstract, stats=stats)

    reader = read_jsonl if format_name == "jsonl" else read_parquet
    return reader(
        path,
        id_field=id_field,
        title_field=title_field,
        text_field=text_field,
        require_abstract=require_abstract,
        stats=stats,
    )
