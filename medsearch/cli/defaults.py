"""Defaults shared by the commands."""

from __future__ import annotations

import os
from pathlib import Path

INDEX_ENV_VAR = "MEDSEARCH_INDEX"
DEFAULT_INDEX_DIRNAME = "medsearch-index"


def default_index_path() -> Path:
    """``$MEDSEARCH_INDEX`` if set, else ``./medsearch-index`` in the working directory."""
    return Path(os.environ.get(INDEX_ENV_VAR) or DEFAULT_INDEX_DIRNAME)


INDEX_HELP = (
    f"Index directory. Default: ${INDEX_ENV_VAR} if set, else ./{DEFAULT_INDEX_DIRNAME} "
    "in the working directory."
)
