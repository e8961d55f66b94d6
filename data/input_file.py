"""Opening corpus files, plain or gzip-compressed, with errors that name the file."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import BinaryIO

from medsearch.errors import InputFormatError

GZIP_MAGIC = b"\x1f\x8b"

# Exceptions that gzip.GzipFile.read raises for a truncated or damaged stream.
GZIP_READ_ERRORS: tuple[type[Exception], ...] = (EOFError, zlib.error, gzip.BadGzipFile)


def check_input_path(path: str | Path) -> Path:
    """Return ``path`` as a Path after checking that it is an existing regular file.

    Raises:
        InputFormatError: the path does not exist or is a directory.
    """
    path = Path(path)
    if not path.exists():
        raise InputFormatError(path, "file not found; check the path")
    if path.is_dir():
        raise InputFormatError(path, "is a directory; pass a corpus file, not a folder")
    return path


def is_gzip_file(path: Path) -> bool:
    """Return whether the file starts with the gzip magic bytes ``1f 8b``."""
    with path.open("rb") as stream:
        return stream.read(len(GZIP_MAGIC)) == GZIP_MAGIC


def open_input_file(path: str | Path) -> BinaryIO:
    """Open a corpus file for binary reading, decompressing it when it is gzip-compressed.

    Compression is detected from the magic bytes, so ``corpus.xml`` containing gzip data
    is read as well. The caller closes the returned stream.

    Raises:
        InputFormatError: the path does not exist, is a directory, or its name ends in
            ``.gz`` but its content is not gzip-compressed.
    """
    path = check_input_path(path)

    if is_gzip_file(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]

    if path.name.lower().endswith(".gz"):
        raise InputFormatError(
            path,
            "the file name ends in .gz but the file does not start with the gzip magic bytes; "
            "recompress it with gzip or remove the .gz suffix",
        )
    return path.open("rb")
