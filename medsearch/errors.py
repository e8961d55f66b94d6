"""Exceptions raised by medsearch.

Every error that a user can fix derives from :class:`MedsearchError`, so the CLI can
print its message on one line and exit with status 1 instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class MedsearchError(Exception):
    """Base class for errors caused by input, configuration or a damaged index."""


class InputFormatError(MedsearchError):
    """A corpus, query or qrels file could not be read.

    The message names the file and, where known, the 1-based line number.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class IndexFileError(MedsearchError):
    """An index directory is missing, damaged or was built with other settings."""


class IndexNotFoundError(IndexFileError):
    """No index exists at the requested path."""


class IndexMismatchError(IndexFileError):
    """The index was built with another format version or encoder than requested."""


class IndexLockedError(IndexFileError):
    """Another process is writing to the index."""
