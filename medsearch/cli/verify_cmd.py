"""``medsearch verify``: check every file of an index against the SHA-256 in its manifest."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsearch.cli.app import app, configure_logging, handle_errors
from medsearch.cli.defaults import INDEX_HELP, default_index_path
from medsearch.indexer.load import load_index_files


@app.command("verify")
@handle_errors
def verify_command(
    index: Annotated[Optional[Path], typer.Option("--index", "-i", help=INDEX_HELP, show_default=False)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Check that no index file was truncated, altered or damaged since the build.

    Every file's SHA-256 is compared with the manifest, then the index is loaded and its
    parts are checked against each other. Exits with status 1 and names each damaged file.
    """
    configure_logging(verbose)
    path = index or default_index_path()
    started = time.perf_counter()
    files = load_index_files(path, verify=True)
    size = sum(entry["bytes"] for entry in files.manifest.files.values())
    typer.echo(
        f"Index {path} is intact: {len(files.manifest.files)} files ({size / 1e6:.1f} MB) match their "
        f"SHA-256 checksums; {len(files.documents):,} documents, {files.dense.num_passages:,} passages "
        f"({time.perf_counter() - started:.1f} s)"
    )
