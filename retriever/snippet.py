"""Snippets: the abstract sentence that best matches a query, with the matching words marked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from medsearch.data.document import Document
from medsearch.indexer.passages import split_sentences
from medsearch.indexer.tokenizer import BiomedicalTokenizer

_WORD = re.compile(r"[^\W_]+(?:[-‐‑–][^\W_]+)*")


@dataclass(frozen=True)
class Snippet:
    """A sentence of a document and the character spans in it that match query terms."""

    text: str
    matches: tuple[tuple[int, int], ...]

    def marked(self, before: str = "**", after: str = "**") -> str:
        """Return the sentence with each match wrapped in ``before`` and ``after``."""
        parts: list[str] = []
        position = 0
        for start, end in self.matches:
            parts.append(self.text[position:start])
            parts.append(f"{before}{self.text[start:end]}{after}")
            position = end
        parts.append(self.text[position:])
        return "".join(parts)


def best_snippet(document: Document, query: str, tokenizer: BiomedicalTokenizer, max_chars: int = 300) -> Snippet:
    """Pick the abstract sentence sharing the most distinct terms with ``query``.

    Ties go to the earlier sentence; a document without an abstract gives its title. The
    sentence is cut to ``max_chars`` characters, keeping the first match in view.
    """
    query_terms = set(tokenizer.tokenize(query))
    text = document.abstract or document.title
    best_text, best_count = "", -1
    for start, end in split_sentences(text) or [(0, len(text))]:
        sentence = text[start:end]
        count = len(query_terms.intersection(tokenizer.tokenize(sentence)))
        if count > best_count:
            best_text, best_count = sentence, count
    matches = tuple(
        (match.start(), match.end())
        for match in _WORD.finditer(best_text)
        if query_terms.intersection(tokenizer.tokenize(match.group()))
    )
    return _shorten(Snippet(best_text, matches), max_chars)


def _shorten(snippet: Snippet, max_chars: int) -> Snippet:
    if len(snippet.text) <= max_chars:
        return snippet
    first = snippet.matches[0][0] if snippet.matches else 0
    start = max(0, min(first - max_chars // 4, len(snippet.text) - max_chars))
    end = start + max_chars
    prefix = "…" if start else ""
    suffix = "…" if end < len(snippet.text) else ""
    text = prefix + snippet.text[start:end] + suffix
    shift = 1 if start else 0
    matches = tuple(
        (begin - start + shift, stop - start + shift)
        for begin, stop in snippet.matches
        if begin >= start and stop <= end
    )
    return Snippet(text, matches)
