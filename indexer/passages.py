"""Split abstracts into overlapping passages on sentence boundaries.

A bi-encoder reads at most ``max_seq_length`` word pieces and silently drops the rest.
Instead of truncating, a long abstract becomes several passages: sentences are packed
greedily until the next one would exceed the budget, and each new passage starts
``overlap`` sentences before the end of the previous one. The title is prepended to every
passage, so each passage vector also encodes the paper's topic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# A sentence ends at . ! or ? followed by white space and an upper-case letter, digit or
# opening bracket. The look-behinds skip common abbreviations ("e.g.", "et al.", "Fig.")
# and initials ("J. Smith").
_SENTENCE_END = re.compile(
    r"(?<![Ee]\.g\.)(?<![Ii]\.e\.)(?<!\bal\.)(?<!\bvs\.)(?<!\bFig\.)(?<!\bNo\.)(?<!\bDr\.)"
    r"(?<!\b[A-Z]\.)(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])"
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` character spans of the sentences in ``text``.

    Spans exclude the white space between sentences; ``text[start:end]`` is the sentence.
    Empty or all-white-space text gives an empty list.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        _append_span(text, start, match.start(), spans)
        start = match.end()
    _append_span(text, start, len(text), spans)
    return spans


def _append_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


@dataclass(frozen=True)
class PassageConfig:
    """Settings for cutting abstracts into passages.

    Attributes:
        max_tokens: word-piece budget of one passage, title included; ``None`` means the
            encoder's ``max_seq_length``.
        overlap_sentences: sentences repeated at the start of the next passage.
    """

    max_tokens: int | None = None
    overlap_sentences: int = 1

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 16:
            raise ValueError(f"max_tokens must be at least 16 word pieces, got {self.max_tokens}")
        if self.overlap_sentences < 0:
            raise ValueError(f"overlap_sentences must be >= 0, got {self.overlap_sentences}")


def split_passages(
    title: str,
    abstract: str,
    *,
    max_tokens: int,
    count_tokens: Callable[[str], int],
    overlap_sentences: int = 1,
) -> list[str]:
    """Cut one document into passages that each fit ``max_tokens`` word pieces.

    Args:
        title: prepended to every passage (may be empty).
        abstract: the text to cut (may be empty, giving the title alone).
        max_tokens: budget per passage including the title and the special tokens, which
            ``count_tokens`` is expected to leave out; two are reserved for them.
        count_tokens: the encoder's word-piece count of a string.
        overlap_sentences: how many sentences each passage shares with the previous one.

    Returns:
        At least one passage. A single sentence longer than the budget is cut at word
        boundaries into pieces that fit.
    """
    title = title.strip()
    budget = max_tokens - 2 - (count_tokens(title) + 1 if title else 0)
    if budget < 8:
        # The title alone nearly fills the encoder: give up on the title prefix.
        title, budget = "", max_tokens - 2

    sentences = _fit_sentences(abstract, budget, count_tokens)
    if not sentences:
        return [title]

    lengths = [count_tokens(sentence) for sentence in sentences]
    chunks: list[list[str]] = []
    start = 0
    while start < len(sentences):
        end, used = start, 0
        while end < len(sentences) and used + lengths[end] <= budget:
            used += lengths[end]
            end += 1
        end = max(end, start + 1)
        chunks.append(sentences[start:end])
        if end >= len(sentences):
            break
        start = max(end - overlap_sentences, start + 1)

    return [_join(title, " ".join(chunk)) for chunk in chunks]


def _fit_sentences(abstract: str, budget: int, count_tokens: Callable[[str], int]) -> list[str]:
    sentences: list[str] = []
    for start, end in split_sentences(abstract):
        sentence = abstract[start:end]
        if count_tokens(sentence) <= budget:
            sentences.append(sentence)
        else:
            sentences.extend(_cut_words(sentence, budget, count_tokens))
    return sentences


def _cut_words(sentence: str, budget: int, count_tokens: Callable[[str], int]) -> list[str]:
    # Word-piece counts add up across white-space separated words for BERT-style
    # tokenizers, so each word is counted once instead of re-counting the growing piece.
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for word in sentence.split():
        length = count_tokens(word)
        if current and used + length > budget:
            pieces.append(" ".join(current))
            current, used = [], 0
        current.append(word)
        used += length
    if current:
        pieces.append(" ".join(current))
    return pieces


def _join(title: str, body: str) -> str:
    return f"{title}\n{body}" if title else body
