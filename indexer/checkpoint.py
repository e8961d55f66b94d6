"""Encoded chunks saved during a build, so that a killed build can resume.

A build of the index directory ``NAME`` works in ``.NAME.partial`` beside it. The name
depends on the target only, so a second run finds the first one's work. The writer lock
(:mod:`medsearch.indexer.lock`) keeps two runs from sharing it at once. The directory contains:

- ``checkpoint.json``: the build key, that is everything that decides the content of the
  chunks (a digest of the documents, the encoder, the passage settings, the chunk size).
  A resumed build must have the same key.
- ``chunks/chunk-NNNNNN.npz``: one file per finished chunk, with the passage vectors and
  the document row of each passage. A file appears under its final name only once it is
  complete (written to a temporary name, then renamed).
- ``index/``: the finished index files, written last and then moved to ``NAME``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medsearch.data.document import Document
from medsearch.errors import MedsearchError

logger = logging.getLogger(__name__)

CHECKPOINT_FILENAME = "checkpoint.json"
CHUNKS_DIRNAME = "chunks"
INDEX_DIRNAME = "index"


def work_directory(target: Path) -> Path:
    """Return the build's working directory for the index directory ``target``."""
    return target.parent / f".{target.name}.partial"


def documents_digest(documents: Sequence[Document]) -> str:
    """Return the hex SHA-256 of every document's id, title and abstract, in order.

    Each field is length-prefixed, so no two different document lists share a digest
    by moving text from one field to the next.
    """
    digest = hashlib.sha256()
    for document in documents:
        for value in (document.doc_id, document.title, document.abstract):
            encoded = value.encode("utf-8", errors="surrogatepass")
            digest.update(len(encoded).to_bytes(8, "little"))
            digest.update(encoded)
    return digest.hexdigest()


class Checkpoint:
    """The finished chunks of one build, stored under ``directory/chunks``.

    Args:
        directory: the working directory (see :func:`work_directory`).
        num_chunks: chunks the build encodes in all.
        dim: vector length, used to check saved chunks.
    """

    def __init__(self, directory: Path, num_chunks: int, dim: int):
        self.directory = directory
        self.num_chunks = num_chunks
        self.dim = dim
        self.chunks_dir = directory / CHUNKS_DIRNAME
        self.reused = 0

    @classmethod
    def open(
        cls,
        directory: Path,
        key: dict[str, Any],
        *,
        num_chunks: int,
        dim: int,
        resume: bool | None,
    ) -> Checkpoint:
        """Start a build in ``directory``, or continue the unfinished one there.

        Args:
            directory: the working directory.
            key: the build key (see the module docstring), JSON-serialisable.
            num_chunks: chunks this build encodes.
            dim: vector length.
            resume: ``True`` continues an unfinished build with the same key, and ``False``
                discards any unfinished build. ``None`` discards one that finished no
                chunk and raises for one that did.

        Raises:
            MedsearchError: ``resume`` is ``True`` and the unfinished build has another
                key, or ``resume`` is ``None`` and an unfinished build has finished chunks.
        """
        checkpoint = cls(directory, num_chunks, dim)
        saved_key = _read_key(directory / CHECKPOINT_FILENAME)
        finished = checkpoint.finished_chunks()

        if saved_key is not None and resume:
            differences = _differences(saved_key, key)
            if differences:
                raise MedsearchError(
                    f"the unfinished build in {directory} was started with other input or settings "
                    f"(different: {', '.join(differences)}); rerun with the same corpus files and "
                    "options to resume it, or pass --no-resume to discard it"
                )
            logger.info(
                "Resuming the unfinished build in %s: %d of %d chunks are already encoded",
                directory, len(finished), num_chunks,
            )
            shutil.rmtree(directory / INDEX_DIRNAME, ignore_errors=True)
            return checkpoint

        if saved_key is not None and finished and resume is None:
            raise MedsearchError(
                f"an unfinished build with {len(finished)} of {saved_key.get('chunks', '?')} chunks "
                f"encoded is in {directory}; pass --resume to continue it or --no-resume to discard it"
            )
        if resume and saved_key is None:
            logger.info("No unfinished build to resume in %s; encoding from the first chunk", directory)
        if directory.exists():
            if finished:
                logger.warning("Discarded the unfinished build in %s (%d chunks encoded)", directory, len(finished))
            shutil.rmtree(directory)

        checkpoint.chunks_dir.mkdir(parents=True)
        _write_atomically(directory / CHECKPOINT_FILENAME, (json.dumps(key, indent=1) + "\n").encode())
        return checkpoint

    def finished_chunks(self) -> list[int]:
        """Return the numbers of the chunks saved so far, ascending."""
        if not self.chunks_dir.is_dir():
            return []
        numbers = []
        for path in self.chunks_dir.glob("chunk-*.npz"):
            number = path.stem.removeprefix("chunk-")
            if number.isdigit():
                numbers.append(int(number))
        return sorted(numbers)

    def load(self, number: int, first_row: int, num_rows: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Return ``(vectors, passage_docs)`` of a saved chunk, or ``None`` if it is not saved.

        ``passage_docs`` contains document rows of the whole build, and the chunk covers rows
        ``first_row`` to ``first_row + num_rows - 1``. A saved file that fails these checks
        is deleted with a WARNING, and the caller encodes the chunk again.
        """
        path = self._path(number)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as saved:
                vectors, passage_docs = saved["vectors"], saved["passage_docs"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            return self._discard(path, f"unreadable ({error})")

        rows = np.arange(first_row, first_row + num_rows)
        if vectors.dtype != np.float32 or vectors.ndim != 2 or vectors.shape[1] != self.dim:
            return self._discard(path, f"vectors of shape {vectors.shape} and type {vectors.dtype}")
        if passage_docs.dtype != np.int64 or passage_docs.shape != (vectors.shape[0],):
            return self._discard(path, f"{passage_docs.shape} passage rows for {vectors.shape[0]} vectors")
        if not np.array_equal(np.unique(passage_docs), rows):
            return self._discard(path, f"passages of other documents than rows {first_row}-{rows[-1]}")
        self.reused += 1
        return vectors, passage_docs

    def save(self, number: int, vectors: np.ndarray, passage_docs: np.ndarray) -> None:
        """Write one chunk's vectors and passage rows; the file appears only when complete."""
        path = self._path(number)
        temporary = path.with_name(f".{path.name}.tmp")
        with temporary.open("wb") as handle:
            np.savez(handle, vectors=vectors, passage_docs=passage_docs)
        os.replace(temporary, path)

    @property
    def index_directory(self) -> Path:
        """Where the finished index files are written before they move to the target."""
        return self.directory / INDEX_DIRNAME

    def _path(self, number: int) -> Path:
        return self.chunks_dir / f"chunk-{number:06d}.npz"

    def _discard(self, path: Path, reason: str) -> None:
        logger.warning("Saved chunk %s is invalid (%s); encoding it again", path, reason)
        path.unlink(missing_ok=True)
        return None


def _read_key(path: Path) -> dict[str, Any] | None:
    try:
        key = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        logger.warning("Ignoring the unreadable build key %s (%s)", path, error)
        return None
    return key if isinstance(key, dict) else None


def _differences(saved: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[str]:
    names = []
    for name in sorted(set(saved) | set(current)):
        old, new = saved.get(name), current.get(name)
        if isinstance(old, dict) and isinstance(new, dict):
            names.extend(_differences(old, new, prefix=f"{prefix}{name}."))
        elif old != new:
            names.append(f"{prefix}{name} {old!r} -> {new!r}" if name != "documents_sha256" else "document texts")
    return names


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
