"""The ``medsearch`` command line: each command lives in its own module."""

from __future__ import annotations

from medsearch.cli import ask_cmd, bench_cmd, eval_cmd, eval_reader_cmd, index_cmd, query_cmd, train_reader_cmd, verify_cmd  # noqa: F401  (registers the commands)
from medsearch.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Run the ``medsearch`` console script."""
    app()
