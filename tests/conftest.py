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


@pytest.fixture(autouse=True)
def restore_medsearch_logging():
    """Undo the CLI's logging set-up after each test.

    Commands run in-process call ``configure_logging``, which gives the ``medsearch`` logger
    its own handler and stops propagation; without this, later tests reading ``caplog``
    would miss records depending on test order.
    """
    import logging

    logger = logging.getLogger("medsearch")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]
