"""Index building: the bi-encoder, passages, BM25, FAISS and the on-disk layout."""

from medsearch.indexer.bm25 import BM25Config, BM25Index
from medsearch.indexer.build import BuildSummary, build_index
from medsearch.indexer.changes import CorpusFile, read_corpus_file
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.encoder import DEFAULT_MODEL, Encoder, EncoderLoadError
from medsearch.indexer.manifest import FORMAT_VERSION, Manifest
from medsearch.indexer.passages import PassageConfig, split_passages, split_sentences
from medsearch.indexer.tokenizer import BiomedicalTokenizer
from medsearch.indexer.update import UpdateSummary, update_index

__all__ = [
    "DEFAULT_MODEL",
    "FORMAT_VERSION",
    "BM25Config",
    "BM25Index",
    "BiomedicalTokenizer",
    "BuildSummary",
    "CorpusFile",
    "DenseIndex",
    "Encoder",
    "EncoderLoadError",
    "Manifest",
    "PassageConfig",
    "UpdateSummary",
    "build_index",
    "read_corpus_file",
    "split_passages",
    "split_sentences",
    "update_index",
]
