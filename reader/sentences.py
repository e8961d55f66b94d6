"""Find sentence boundaries in abstracts, to show the sentence that holds an answer span.

A sentence ends at ``.``, ``!`` or ``?`` followed by whitespace and an upper-case letter, a
digit or an opening bracket, and at every line break. This rule is a heuristic: it splits after
abbreviations such as "et al." when a capitalised word follows.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])|\n+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` character offsets of each sentence, without outer whitespace."""
    spans = []
    begin = 0
    for match in _BOUNDARY.finditer(text):
        spans.append((begin, match.start()))
        begin = match.end()
    spans.append((begin, len(text)))
    return [_strip(text, start, end) for start, end in spans if text[start:end].strip()]


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """Return the offsets of the sentence(s) that contain ``text[start:end]``.

    A span that crosses a boundary gets every sentence it touches.
    """
    spans = sentence_spans(text)
    touched = [span for span in spans if span[0] < max(end, start + 1) and span[1] > start]
    if not touched:
        return start, end
    return min(touched[0][0], start), max(touched[-1][1], end)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
