"""Corpus input: the document model and the readers for each file format."""

from medsearch.data.bundled import bundled_corpus_path, bundled_qrels_path, bundled_queries_path
from medsearch.data.document import Document
from medsearch.data.jsonl import read_jsonl
from medsearch.data.parquet import read_parquet
from medsearch.data.pubmed import read_pubmed_xml
from medsearch.data.readers import SUPPORTED_EXTENSIONS, corpus_format, read_documents
from medsearch.data.stats import ReadStats

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "Document",
    "ReadStats",
    "bundled_corpus_path",
    "bundled_qrels_path",
    "bundled_queries_path",
    "corpus_format",
    "read_documents",
    "read_jsonl",
    "read_parquet",
    "read_pubmed_xml",
]
