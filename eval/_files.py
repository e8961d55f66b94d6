"""Line reading shared by the run, query and qrels readers: plain or gzip text, UTF-8."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from medsearch.errors import InputFormatError


def open_text(path: Path, mode: str = "rt") -> IO[str]:
    """Open ``path`` as UTF-8 text, through gzip when the name ends in ``.gz``.

    ``mode`` is ``"rt"`` or ``"wt"``.
    """
    if path.name.endswith(".gz"):
        return gzip.open(path, mode, encoding="utf-8", newline="")
    return path.open(mode, encoding="utf-8", newline="")


def read_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` for every line of a text file, without the line ending.

    Line numbers start at 1. Blank lines are yielded too, so callers decide about them.

    Raises:
        InputFormatError: the file does not exist, is not UTF-8, or is not valid gzip.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFormatError(path, "file not found; check the path")

    line_number = 0
    try:
        with open_text(path) as handle:
            for line_number, line in enumerate(handle, start=1):
                yield line_number, line.rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise InputFormatError(
            path, f"is not valid UTF-8 text ({error.reason})", line=line_number + 1
        ) from error
    except (gzip.BadGzipFile, EOFError) as error:
        raise InputFormatError(path, f"is not a valid gzip file ({error})") from error
