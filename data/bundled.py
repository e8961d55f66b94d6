"""Paths of the SciFact files shipped inside the package (see ``bundled/SOURCES.md``).

SciFact (Wadden et al., 2020, allenai/scifact, in the BEIR layout): 5,183 abstracts,
1,109 claims used as queries (809 train, 300 test), and relevance judgments.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from medsearch.errors import MedsearchError

CORPUS_FILE = "scifact-corpus.jsonl.gz"
QUERIES_FILE = "scifact-queries.jsonl.gz"
QRELS_FILES = {"test": "scifact-qrels-test.tsv.gz", "train": "scifact-qrels-train.tsv.gz"}


def bundled_corpus_path() -> Path:
    """Return the path of the bundled SciFact corpus: BEIR ``corpus.jsonl`` (``_id``, ``title``, ``text``), gzip-compressed.

    Raises:
        MedsearchError: the file is missing from the installation.
    """
    return _bundled_path(CORPUS_FILE)


def bundled_queries_path() -> Path:
    """Return the path of the bundled SciFact queries, gzip-compressed JSON Lines.

    Each line is ``{"_id": ..., "text": ..., "metadata": {"split": "train" | "test"}}``.

    Raises:
        MedsearchError: the file is missing from the installation.
    """
    return _bundled_path(QUERIES_FILE)


def bundled_qrels_path(split: str = "test") -> Path:
    """Return the path of the bundled SciFact qrels for ``split`` (``"test"`` or ``"train"``).

    The file is a gzip-compressed TSV with the header ``query-id corpus-id score``.

    Raises:
        ValueError: ``split`` is neither ``"test"`` nor ``"train"``.
        MedsearchError: the file is missing from the installation.
    """
    if split not in QRELS_FILES:
        raise ValueError(f"unknown SciFact split {split!r}; choose one of: {', '.join(QRELS_FILES)}")
    return _bundled_path(QRELS_FILES[split])


def _bundled_path(name: str) -> Path:
    resource = resources.files("medsearch.data") / "bundled" / name
    # NOTE: a package imported from a zip archive has no file-system path for its data.
    # Installed from a wheel into site-packages, the resource is a real file.
    if not isinstance(resource, Path) or not resource.is_file():
        raise MedsearchError(
            f"bundled file {name} not found at {resource}; reinstall medsearch "
            "(the wheel ships it under medsearch/data/bundled/)"
        )
    return resource
