"""The typer application and the error handling shared by every command."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from medsearch.errors import MedsearchError

app = typer.Typer(
    name="medsearch",
    help="Index PubMed-style abstracts and search them with BM25, dense or hybrid retrieval.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def configure_logging(verbose: bool = False) -> None:
    """Send medsearch's log records to stderr and quiet the model libraries; only the CLI calls this."""
    # Hugging Face libraries read these when first imported: no "Loading weights" bar, no
    # advisory warnings. A value the user has set is kept.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger("medsearch")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def handle_errors(command: F) -> F:
    """Turn a :class:`MedsearchError` into a one-line message on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MedsearchError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(code=1) from None

    return wrapper  # type: ignore[return-value]
