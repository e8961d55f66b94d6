"""medsearch: biomedical literature retrieval with BM25, dense and hybrid search.

Typical use::

    import medsearch

    summary = medsearch.build_index(medsearch.read_documents("pubmed.xml.gz"), "my-index")
    index = medsearch.Index.load("my-index")
    for hit in index.search("statins and muscle pain", k=10):
        print(hit.rank, hit.doc_id, hit.document.title)
"""

from medsearch.data import Document, ReadStats, bundled_corpus_path, read_documents
from medsearch.errors import (
    IndexFileError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    InputFormatError,
    MedsearchError,
)
from medsearch.indexer import (
    BM25Config,
    BuildSummary,
    CorpusFile,
    Encoder,
    PassageConfig,
    UpdateSummary,
    build_index,
    read_corpus_file,
    update_index,
)
from medsearch.retriever import Hit, HybridConfig, Index

__version__ = "0.1.0"

__all__ = [
    "BM25Config",
    "BuildSummary",
    "CorpusFile",
    "Document",
    "Encoder",
    "Hit",
    "HybridConfig",
    "Index",
    "IndexFileError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "InputFormatError",
    "MedsearchError",
    "PassageConfig",
    "ReadStats",
    "UpdateSummary",
    "__version__",
    "bundled_corpus_path",
    "build_index",
    "read_corpus_file",
    "read_documents",
    "update_index",
]
