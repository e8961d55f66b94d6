"""The index manifest: what an index directory contains and how it was built.

``manifest.json`` is written last, so its presence marks a complete index. Loading checks
the format version, every file's size against the recorded one, and the encoder;
:meth:`Manifest.verify_checksums` also compares every file's SHA-256, which reads the
whole index.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medsearch.errors import IndexFileError, IndexMismatchError, IndexNotFoundError

MANIFEST_FILENAME = "manifest.json"
FORMAT_VERSION = 1


@dataclass
class Manifest:
    """The contents of ``manifest.json``; see the module docstring."""

    medsearch_version: str
    encoder: dict[str, Any]
    passages: dict[str, Any]
    bm25: dict[str, Any]
    dense: dict[str, Any]
    counts: dict[str, int]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    def write(self, directory: Path) -> None:
        """Record size and SHA-256 of every other file in ``directory``, then write the manifest."""
        self.files = {
            str(path.relative_to(directory)): {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
            for path in sorted(directory.rglob("*"))
            if path.is_file() and path.name != MANIFEST_FILENAME
        }
        (directory / MANIFEST_FILENAME).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, directory: Path, *, verify: bool = False) -> Manifest:
        """Read and check the manifest of the index at ``directory``.

        Every file's size is compared with the recorded one; with ``verify``, its SHA-256
        too (see :meth:`verify_checksums`).

        Raises:
            IndexNotFoundError: ``directory`` has no manifest.
            IndexMismatchError: the index uses another format version.
            IndexFileError: the manifest is unreadable, or a file is missing, has another size
                or, with ``verify``, another SHA-256.
        """
        path = directory / MANIFEST_FILENAME
        if not directory.is_dir():
            raise IndexNotFoundError(
                f"no index at {directory}: build one with `medsearch index CORPUS --out {directory}`"
            )
        if not path.is_file():
            raise IndexNotFoundError(
                f"{directory} is not a medsearch index ({MANIFEST_FILENAME} is missing): "
                f"build one with `medsearch index CORPUS --out {directory}`"
            )
        try:
            data = json.loads(path.read_text())
            version = data.get("format_version")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
            raise IndexFileError(f"{path} is not a valid manifest ({error}); {rebuild_hint(directory)}") from error
        if version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index {directory} has format version {version}, but this medsearch reads "
                f"version {FORMAT_VERSION}; {rebuild_hint(directory)}"
            )
        try:
            manifest = cls(**data)
        except TypeError as error:
            raise IndexFileError(f"{path} is not a valid manifest ({error}); {rebuild_hint(directory)}") from error
        problem = manifest._type_problem()
        if problem:
            raise IndexFileError(f"{path} is not a valid manifest ({problem}); {rebuild_hint(directory)}")
        if verify:
            manifest.verify_checksums(directory)
        else:
            manifest.check_files(directory)
        return manifest

    def _type_problem(self) -> str | None:
        for name in ("encoder", "passages", "bm25", "dense", "counts", "files"):
            if not isinstance(getattr(self, name), dict):
                return f"{name!r} is not an object"
        if not isinstance(self.inputs, list):
            return "'inputs' is not a list"
        if not isinstance(self.encoder.get("name"), str) or not isinstance(self.encoder.get("dim"), int):
            return "'encoder' lacks the model name or dimension"
        if not all(isinstance(self.counts.get(name), int) for name in ("documents", "passages")):
            return "'counts' lacks the document or passage count"
        for name, entry in self.files.items():
            if not (isinstance(entry, dict) and isinstance(entry.get("bytes"), int) and isinstance(entry.get("sha256"), str)):
                return f"the entry of file {name!r} lacks its size or SHA-256"
            if Path(name).is_absolute() or ".." in Path(name).parts:
                return f"file name {name!r} points outside the index directory"
        return None

    def check_files(self, directory: Path) -> None:
        """Raise :class:`IndexFileError` naming the first file that is missing or has another size."""
        for name, entry in self.files.items():
            path = directory / name
            if not path.is_file():
                raise IndexFileError(f"index file {path} is missing; {rebuild_hint(directory)}")
            size = path.stat().st_size
            if size != entry["bytes"]:
                raise IndexFileError(
                    f"index file {path} has {size} bytes but the manifest records {entry['bytes']}: "
                    f"it was truncated or altered; {rebuild_hint(directory)}"
                )

    def verify_checksums(self, directory: Path) -> None:
        """Compare the SHA-256 of every file with the recorded one.

        Raises:
            IndexFileError: naming every file that is missing, has another size or another
                SHA-256; each of these means the file was damaged or altered after the build.
        """
        damaged = []
        for name, entry in self.files.items():
            path = directory / name
            if not path.is_file():
                damaged.append(f"{path} is missing")
            elif path.stat().st_size != entry["bytes"]:
                damaged.append(f"{path} has {path.stat().st_size} bytes, not {entry['bytes']}")
            elif sha256_file(path) != entry["sha256"]:
                damaged.append(f"{path} has another SHA-256 than the manifest records")
        if damaged:
            raise IndexFileError(
                f"{len(damaged)} index files are damaged or altered: {'; '.join(damaged)}; {rebuild_hint(directory)}"
            )

    def check_encoder(self, name: str) -> None:
        """Raise :class:`IndexMismatchError` if the index was built with another encoder."""
        built_with = self.encoder["name"]
        if name != built_with:
            raise IndexMismatchError(
                f"the index was built with encoder {built_with!r}, but encoder {name!r} was requested; "
                "query it with the same encoder or rebuild the index"
            )


def sha256_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def rebuild_hint(directory: Path) -> str:
    """Return the advice that ends each message about a damaged index at ``directory``."""
    return f"rebuild the index with `medsearch index CORPUS... --out {directory} --overwrite`"
