"""An exclusive writer lock on an index directory, held while a build or update runs.

The lock is an ``fcntl.flock`` on the file ``.NAME.lock`` beside the index directory
``NAME``, with the holder's PID written into it. The kernel releases a flock when its
process exits, however it exits, so a lock file left behind by a killed process (a stale
lock of a dead PID) is simply taken over. Readers never lock: they rely on the index
being replaced in one rename (see :mod:`medsearch.indexer.swap`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType

from medsearch.errors import IndexLockedError, MedsearchError

try:
    import fcntl
except ImportError:  # Windows has no flock.
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)


def lock_path(target: Path) -> Path:
    """Return the lock file of the index directory ``target``: ``.NAME.lock`` beside it."""
    return target.parent / f".{target.name}.lock"


class IndexLock:
    """Hold the writer lock of the index directory ``target`` inside a ``with`` block.

    Raises:
        IndexLockedError: on entry, when another process holds the lock; the message
            names that process's PID.
    """

    def __init__(self, target: str | Path):
        self.target = Path(target)
        self.path = lock_path(self.target)
        self._fd: int | None = None

    def __enter__(self) -> IndexLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock without waiting; see the class docstring for what is raised."""
        if fcntl is None:
            # NOTE: without flock two writers are not kept apart; each still builds in its
            # own staging directory, and the last rename wins.
            logger.warning("file locking is not available on this platform; %s is not locked", self.target)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                raise IndexLockedError(_locked_message(self.target, holder)) from None
            except OSError as error:
                os.close(fd)
                raise MedsearchError(f"cannot lock {self.path}: {error}") from error
            # The previous holder unlinks the file before it unlocks, so a lock taken on an
            # unlinked file locks nothing: open the path again and retry.
            if _same_file(fd, self.path):
                break
            os.close(fd)

        stale = _read_pid(fd)
        if stale is not None and stale != os.getpid():
            logger.info("Took over the lock %s left by PID %d, which has exited", self.path, stale)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Remove the lock file and unlock; does nothing if the lock is not held."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else None


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (opened.st_dev, opened.st_ino)


def _locked_message(target: Path, holder: int | None) -> str:
    who = f"PID {holder}" if holder is not None else "another process"
    return (
        f"index {target} is locked by {who}, which is building or updating it; "
        "wait for that process to finish, or stop it, then run the command again"
    )
