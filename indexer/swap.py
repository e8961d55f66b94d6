"""Putting a finished index directory in place of the previous one.

On Linux the two directories are exchanged with one ``renameat2(RENAME_EXCHANGE)`` call,
so the index path always names a complete index: a reader sees either the old or the new
one. Where that call is missing or the file system rejects it, the old directory is first
renamed aside and the new one renamed into place. Between those two renames the path does
not exist, and :func:`medsearch.indexer.load.load_index_files` retries a load that fails
in that window or during which the directory changes.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import shutil
import sys
from pathlib import Path

from medsearch.errors import MedsearchError

logger = logging.getLogger(__name__)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def replace_directory(new: Path, target: Path) -> None:
    """Move the directory ``new`` to ``target``, replacing and deleting any directory there.

    Both paths must be on one file system. Processes that opened files of the old index
    keep reading them (POSIX keeps deleted files alive while they are open or mapped).
    """
    if not target.exists():
        new.rename(target)
        return

    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)
        return

    retired = target.parent / f".{target.name}.old-{os.getpid()}"
    shutil.rmtree(retired, ignore_errors=True)
    target.rename(retired)
    new.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; return False where the platform or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        logger.info("renameat2 is not available (glibc before 2.28); the index is replaced with two renames")
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        logger.info(
            "the file system of %s cannot exchange directories atomically (%s); "
            "the index is replaced with two renames",
            second, os.strerror(code),
        )
        return False
    raise MedsearchError(f"failed to put the new index {first} in place of {second}: {os.strerror(code)}")
