"""Opening the files of an index directory, with checks that turn damage into IndexFileError.

Each part is loaded by its library (pyarrow, bm25s, FAISS, NumPy), and the errors that a
damaged file makes these libraries raise are re-raised as :class:`IndexFileError` naming
the file. The loaded arrays are then checked against each other and against the manifest:
shapes, id ranges, and row order. Those checks find damage in the structure of a file,
while a changed byte inside the vector or score data is found only by the SHA-256
comparison that ``verify=True`` (or ``medsearch verify``) runs.

No loader here unpickles or runs code from the index: NumPy arrays are read with
``allow_pickle=False``, bm25s with ``allow_pickle=False``, and the other files are JSON,
Parquet and FAISS's own binary format.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import time
import tokenize
from pathlib import Path
from typing import NamedTuple

import bm25s
import faiss
import numpy as np

from medsearch.errors import IndexFileError
from medsearch.indexer.bm25 import BM25_DIRNAME, TOKENIZER_FILENAME, BM25Config, BM25Index
from medsearch.indexer.dense import EXACT_INDEX_TYPE, FAISS_FILENAME, PASSAGE_DOCS_FILENAME, DenseIndex
from medsearch.indexer.manifest import Manifest, rebuild_hint
from medsearch.indexer.store import DocumentStore
from medsearch.indexer.tokenizer import BiomedicalTokenizer

logger = logging.getLogger(__name__)

# Loads tried when the directory is replaced by a concurrent build while it is read.
LOAD_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.1

# Exceptions that NumPy's and json's readers raise for a damaged file. np.load parses the
# .npy header with Python's tokenizer, hence tokenize.TokenError.
_ARRAY_READ_ERRORS = (OSError, ValueError, EOFError, tokenize.TokenError)
# Exceptions that bm25s.BM25.load raises for a damaged params, vocabulary or array file,
# and that BiomedicalTokenizer.from_config raises for a damaged tokenizer.json.
_BM25_READ_ERRORS = (*_ARRAY_READ_ERRORS, TypeError, KeyError, AttributeError)
# faiss.read_index raises RuntimeError for a malformed file and MemoryError when a
# damaged length field requests an impossible allocation.
_FAISS_READ_ERRORS = (RuntimeError, MemoryError)
_FLAT_HEADER = struct.Struct("<4siqqqBiQ")
# The file in which bm25s.BM25.save writes its parameters (bm25s 0.2 and 0.3).
BM25_PARAMS_FILENAME = "params.index.json"


class IndexFiles(NamedTuple):
    """The loaded parts of an index directory."""

    manifest: Manifest
    documents: DocumentStore
    bm25: BM25Index
    dense: DenseIndex


def load_index_files(path: Path, *, verify: bool = False, mmap: bool = True) -> IndexFiles:
    """Load and check every part of the index directory ``path``.

    Args:
        path: the index directory.
        verify: also compare every file's SHA-256 with the manifest (reads every byte).
        mmap: memory-map the BM25 and FAISS arrays instead of reading them into memory.

    Raises:
        IndexNotFoundError: no index at ``path``.
        IndexMismatchError: another format version.
        IndexFileError: a file is missing, damaged or inconsistent with the others; the
            message names the file.
    """
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        before = _identity(path)
        try:
            files = _load_once(path, verify=verify, mmap=mmap)
        except IndexFileError:
            replaced = _identity(path) != before
            # A missing path may be the moment between the two renames of a replacement
            # on a file system without atomic exchange (see medsearch.indexer.swap).
            if attempt < LOAD_ATTEMPTS and (replaced or before is None):
                time.sleep(RETRY_PAUSE_SECONDS)
                continue
            raise
        if _identity(path) == before:
            return files
        logger.info("Index %s was replaced while it was loaded; loading it again", path)
    raise IndexFileError(f"index {path} was replaced {LOAD_ATTEMPTS} times while it was loaded; try again")


def _load_once(path: Path, *, verify: bool, mmap: bool) -> IndexFiles:
    manifest = Manifest.read(path, verify=verify)
    documents = DocumentStore.load(path)
    bm25 = _load_bm25(path, manifest, mmap)
    dense = _load_dense(path, manifest, mmap)

    num_docs = len(documents)
    if num_docs != manifest.counts["documents"]:
        raise IndexFileError(
            f"index {path} is inconsistent: documents.parquet has {num_docs} documents but the manifest "
            f"records {manifest.counts['documents']}; {rebuild_hint(path)}"
        )
    _check_bm25(path, bm25, manifest, num_docs)
    _check_dense(path, dense, manifest, num_docs)
    return IndexFiles(manifest, documents, bm25, dense)


def bm25_config(manifest: Manifest, path: Path) -> BM25Config:
    """Return the BM25 parameters recorded in ``manifest``, the manifest of the index at ``path``.

    Raises:
        IndexFileError: the manifest lacks them or they are invalid.
    """
    settings = manifest.bm25
    try:
        return BM25Config(k1=settings["k1"], b=settings["b"], method=settings["method"])
    except (KeyError, TypeError, ValueError) as error:
        raise IndexFileError(
            f"the BM25 settings in the manifest of {path} are invalid ({error!r}); {rebuild_hint(path)}"
        ) from None


def _load_bm25(path: Path, manifest: Manifest, mmap: bool) -> BM25Index:
    config = bm25_config(manifest, path)
    try:
        return BM25Index.load(path, config, mmap=mmap)
    except _BM25_READ_ERRORS as error:
        culprit = _first_unreadable(path / BM25_DIRNAME)
        raise IndexFileError(
            f"index file {culprit} is damaged ({type(error).__name__}: {error}); {rebuild_hint(path)}"
        ) from None


def _first_unreadable(directory: Path) -> Path:
    """Return the first file under ``directory`` that fails to load on its own, else ``directory``."""
    for file in sorted(directory.iterdir()):
        try:
            if file.suffix == ".npy":
                np.load(file, allow_pickle=False, mmap_mode="r")
            elif file.name == TOKENIZER_FILENAME:
                BiomedicalTokenizer.from_config(json.loads(file.read_text(encoding="utf-8")))
            elif file.name == BM25_PARAMS_FILENAME:
                params = json.loads(file.read_text(encoding="utf-8"))
                bm25s.BM25(**{name: value for name, value in params.items() if name not in ("num_docs", "version")})
            elif file.suffix == ".json":
                json.loads(file.read_text(encoding="utf-8"))
        except (*_BM25_READ_ERRORS, UnicodeDecodeError):
            return file
    return directory


def _load_dense(path: Path, manifest: Manifest, mmap: bool) -> DenseIndex:
    faiss_path = path / FAISS_FILENAME
    passage_docs_path = path / PASSAGE_DOCS_FILENAME
    flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
    _check_flat_header(path, manifest)
    try:
        index = faiss.read_index(str(faiss_path), flags)
    except _FAISS_READ_ERRORS as error:
        raise IndexFileError(f"index file {faiss_path} is damaged ({error}); {rebuild_hint(path)}") from None
    try:
        # Memory-mapped first, so that NumPy compares a damaged shape in the header with the
        # file size instead of allocating the array it claims. The copy then reads it in.
        passage_docs = np.array(np.load(passage_docs_path, allow_pickle=False, mmap_mode="r"))
    except _ARRAY_READ_ERRORS as error:
        raise IndexFileError(f"index file {passage_docs_path} is damaged ({error}); {rebuild_hint(path)}") from None

    if passage_docs.dtype != np.int64 or passage_docs.ndim != 1:
        raise IndexFileError(
            f"index file {passage_docs_path} contains a {passage_docs.dtype} array of shape {passage_docs.shape}, "
            f"not a 1-D int64 array; {rebuild_hint(path)}"
        )
    if index.ntotal != passage_docs.shape[0] or index.ntotal != manifest.counts["passages"]:
        raise IndexFileError(
            f"index {path} is inconsistent: {FAISS_FILENAME} has {index.ntotal} vectors, {PASSAGE_DOCS_FILENAME} "
            f"{passage_docs.shape[0]} rows, the manifest records {manifest.counts['passages']} passages; "
            f"{rebuild_hint(path)}"
        )
    return DenseIndex(
        index,
        passage_docs,
        manifest.dense.get("index_type", EXACT_INDEX_TYPE),
        manifest.dense.get("search_params"),
        requested_type=manifest.dense.get("requested_type"),
    )


def _check_flat_header(path: Path, manifest: Manifest) -> None:
    """Check the header of ``dense.faiss`` against the manifest before FAISS reads it.

    faiss.read_index allocates the vector array that the header's length field claims, so
    a damaged length can ask for more memory than the machine has. The layout of an
    ``IndexFlatIP`` file (FAISS 1.x ``write_index``): the fourcc ``IxFI``, d (int32),
    ntotal (int64), two unused int64, is_trained (1 byte), metric_type (int32), the
    number of floats (uint64), then the floats.
    """
    faiss_path = path / FAISS_FILENAME
    if manifest.dense.get("index_type") != EXACT_INDEX_TYPE:
        # NOTE: approximate index files (HNSW, IVF) have no fixed layout to check here;
        # they rely on the manifest's size check and on faiss.read_index's own errors.
        return
    dim, passages = manifest.encoder["dim"], manifest.counts["passages"]
    with faiss_path.open("rb") as handle:
        header = handle.read(_FLAT_HEADER.size)
    size = faiss_path.stat().st_size
    if len(header) == _FLAT_HEADER.size:
        fourcc, d, ntotal, _, _, _, metric, floats = _FLAT_HEADER.unpack(header)
        if (
            fourcc == b"IxFI"
            and (d, ntotal, metric) == (dim, passages, faiss.METRIC_INNER_PRODUCT)
            and floats == ntotal * d
            and size == _FLAT_HEADER.size + 4 * floats
        ):
            return
    raise IndexFileError(
        f"index file {faiss_path} is damaged: its header does not describe {passages} inner-product vectors "
        f"of {dim} dimensions in {size} bytes; {rebuild_hint(path)}"
    )


def _check_dense(path: Path, dense: DenseIndex, manifest: Manifest, num_docs: int) -> None:
    if dense.dim != manifest.encoder["dim"] or dense.index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise IndexFileError(
            f"index file {path / FAISS_FILENAME} contains {dense.dim}-dimensional vectors with metric "
            f"{dense.index.metric_type}, but the manifest records {manifest.encoder['dim']} dimensions "
            f"and inner product; {rebuild_hint(path)}"
        )
    rows = dense.passage_docs
    steps = np.diff(rows)
    # Every document has at least one passage and a document's passages are contiguous, so
    # the rows run 0, 0, 1, 2, 2, ... num_docs - 1 in steps of 0 or 1.
    if rows.size == 0 or rows[0] != 0 or rows[-1] != num_docs - 1 or steps.min(initial=0) < 0 or steps.max(initial=0) > 1:
        raise IndexFileError(
            f"index file {path / PASSAGE_DOCS_FILENAME} does not map passages to the {num_docs} documents "
            f"in order; {rebuild_hint(path)}"
        )


def _check_bm25(path: Path, bm25: BM25Index, manifest: Manifest, num_docs: int) -> None:
    directory = path / BM25_DIRNAME
    try:
        culprit, problem = _bm25_problem(bm25, num_docs, manifest.bm25.get("tokenizer"))
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        culprit, problem = BM25_PARAMS_FILENAME, f"it has unexpected values ({error!r})"
    if problem:
        raise IndexFileError(f"index file {directory / culprit} is damaged: {problem}; {rebuild_hint(path)}")


def _bm25_problem(bm25: BM25Index, num_docs: int, manifest_tokenizer: object) -> tuple[str, str | None]:
    """Return the bm25s file name and the problem found in it, or ``(..., None)``."""
    model = bm25.model
    scores = model.scores
    data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]

    if bm25.num_docs != num_docs:
        return BM25_PARAMS_FILENAME, f"it counts {bm25.num_docs} documents but documents.parquet has {num_docs}"
    saved = (model.k1, model.b, model.method)
    if saved != (bm25.config.k1, bm25.config.b, bm25.config.method):
        return BM25_PARAMS_FILENAME, f"its k1, b and method {saved} differ from the manifest's"
    if bm25.tokenizer.config() != manifest_tokenizer:
        return TOKENIZER_FILENAME, "its settings differ from the tokenizer settings in the manifest"
    if np.dtype(model.dtype).kind != "f" or np.dtype(model.int_dtype).kind not in "iu":
        return BM25_PARAMS_FILENAME, f"it names the array types {model.dtype!r} and {model.int_dtype!r}"
    if data.ndim != 1 or not np.issubdtype(data.dtype, np.floating):
        return "data.csc.index.npy", f"it contains a {data.dtype} array of shape {data.shape}, not 1-D floats"
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer) or indices.size != data.size:
        return "indices.csc.index.npy", f"it contains a {indices.dtype} array of shape {indices.shape}, not {data.size} integers"
    if indptr.ndim != 1 or not np.issubdtype(indptr.dtype, np.integer) or indptr.size == 0:
        return "indptr.csc.index.npy", f"it contains a {indptr.dtype} array of shape {indptr.shape}, not 1-D integers"
    if indptr[0] != 0 or indptr[-1] != data.size or np.any(indptr[1:] < indptr[:-1]):
        return "indptr.csc.index.npy", f"its column pointers do not ascend from 0 to {data.size}"

    try:
        vocab_ids = np.fromiter(model.vocab_dict.values(), dtype=np.int64, count=len(model.vocab_dict))
    except (TypeError, ValueError, OverflowError):
        return "vocab.index.json", "it maps terms to values that are not integer term ids"
    if vocab_ids.size and (vocab_ids.min() < 0 or vocab_ids.max() >= indptr.size):
        return "vocab.index.json", f"it has term ids outside the {indptr.size} columns of the score matrix"
    # NOTE: this pass reads the whole indices array (4 bytes per posting), so it is the
    # slowest check here for a large index. Without it, an out-of-range document row
    # would make every query that touches the term fail.
    if indices.size and (indices.min() < 0 or indices.max() >= num_docs):
        return "indices.csc.index.npy", f"its postings point at documents outside rows 0-{num_docs - 1}"
    return "", None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino

