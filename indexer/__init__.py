"""Index building: the bi-encoder, passages, BM25, FAISS and the on-disk layout."""

from medsearch.indexer.bm25 import BM25Config, BM25Index
from medsearch.indexer.build import BuildSummary, build_index
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.encoder import DEFAULT_MODEL, Encoder, EncoderLoadError
from medsearch.indexer.manifest import FORMAT_VERSION, Manifest
from medsearch.indexer.passages import PassageConfig, split_passages, split_sentences
from medsearch.indexer.tokenizer import BiomedicalTokenizer

__all__ = [
    "DEFAULT_MODEL",
    "FORMAT_VERSION",
    "BM25Config",
    "BM25Index",
    "BiomedicalTokenizer",
    "BuildSummary",
    "DenseIndex",
    "Encoder",
    "EncoderLoadError",
    "Manifest",
    "PassageConfig",
    "build_index",
    "split_passages",
    "split_sentences",
]
