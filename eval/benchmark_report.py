"""Markdown for the benchmark page: the machine, package versions, tables, section updates."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

__all__ = [
    "REPORTED_PACKAGES",
    "cpu_description",
    "markdown_table",
    "package_versions",
    "replace_section",
]

REPORTED_PACKAGES = ("medsearch", "torch", "sentence-transformers", "transformers", "faiss-cpu", "bm25s")

PAGE_TITLE = "# Benchmarks"


def cpu_description() -> str:
    """Return the CPU model and the number of cores this process may use, e.g. ``"AMD EPYC, 2 cores"``."""
    model = _cpu_model() or platform.processor() or platform.machine() or "unknown CPU"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores"


def package_versions(names: Sequence[str] = REPORTED_PACKAGES) -> str:
    """Return ``"name version"`` pairs joined by commas; a missing package shows as ``not installed``."""
    parts = []
    for name in names:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        parts.append(f"{name} {version}")
    return ", ".join(parts)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], align_right_from: int = 1) -> str:
    """Format a Markdown table; columns from ``align_right_from`` on are right-aligned."""
    rules = ["---:" if column >= align_right_from else "---" for column in range(len(header))]
    lines = [_row(header), _row(rules)]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def replace_section(path: Path, heading: str, body: str) -> None:
    """Write ``body`` under the level-2 ``heading`` of the Markdown file at ``path``.

    The section runs from its ``## heading`` line to the next level-2 heading or the end of
    the file; other sections are kept unchanged. A missing section is appended, and a
    missing file is created with a ``# Benchmarks`` title.
    """
    section = f"## {heading}\n\n{body.strip()}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else f"{PAGE_TITLE}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    match = pattern.search(text)
    if match is None:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = "\n" if match.end() < len(text) else ""
        text = text[: match.start()] + section + following + text[match.end() :]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _cpu_model() -> str | None:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return None
    for line in cpuinfo.read_text(errors="replace").splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return None


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
