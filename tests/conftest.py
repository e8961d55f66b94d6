"""Shared fixtures: the bundled encoder (loaded once per session) and data locations."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
TEST_DATA = TESTS_DIR / "data"
SHARED_DATA = TESTS_DIR.parents[1] / "shared" / "data"


@pytest.fixture(scope="session")
def encoder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole test session."""
    from medsearch.indexer import Encoder

    return Encoder()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets beside the repository; tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data sets not found at {SHARED_DATA}")
    return SHARED_DATA
