"""Text clean-up shared by the corpus readers."""

from __future__ import annotations

import re

# C0 controls other than tab, line feed and carriage return, DEL, the C1 controls, and
# lone surrogates. NUL and its neighbours break tokenizers and terminal output, C1
# controls in text are almost always Windows-1252 bytes that were decoded as Latin-1,
# and a lone surrogate (from a JSON escape such as "\ud800") cannot be encoded as UTF-8.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def normalize_whitespace(text: str) -> str:
    """Collapse every run of Unicode whitespace to one space and strip both ends."""
    return " ".join(text.split())


def strip_control_characters(text: str) -> str:
    """Remove NUL, the other control characters and lone surrogates, keeping tab, line feed and carriage return."""
    return _CONTROL_CHARACTERS.sub("", text)


def has_control_characters(text: str) -> bool:
    """Return whether :func:`strip_control_characters` would change ``text``."""
    return _CONTROL_CHARACTERS.search(text) is not None
