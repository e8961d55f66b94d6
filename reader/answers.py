"""Answer spans: pick the best spans from a window's logits, then rank and merge them across passages."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from medsearch.reader.metrics import normalize_answer
from medsearch.reader.sentences import sentence_around

# Start/end token pairs kept per window before ranking across windows.
SPANS_PER_WINDOW = 20


@dataclass(frozen=True)
class Answer:
    """One answer span.

    ``start`` and ``end`` are character offsets into the text of document ``doc_id``, so
    ``text == document_text[start:end]``. ``sentence`` is the sentence (or sentences) holding the
    span and starts at character ``sentence_start`` of that text. ``score`` is the span's start
    plus end logit minus the same sum for the [CLS] token of its window, that is, how strongly the
    model prefers this span to "no answer in this window"; higher is better, and scores compare
    across windows and passages.
    """

    text: str
    score: float
    doc_id: str
    start: int
    end: int
    sentence: str
    sentence_start: int


@dataclass(frozen=True)
class SpanCandidate:
    """A span before merging: character offsets into passage ``passage_index``."""

    passage_index: int
    start: int
    end: int
    score: float


def window_candidates(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    offsets: list[tuple[int, int]],
    context_range: tuple[int, int],
    passage_index: int,
    max_answer_tokens: int,
) -> list[SpanCandidate]:
    """Return the best spans of one window.

    ``start_logits`` and ``end_logits`` are (length,) tensors for the window's tokens;
    ``offsets`` maps each token to character offsets in the passage; ``context_range`` is the
    first and last context token. A span lies inside the context, ends at or after its start
    and has at most ``max_answer_tokens`` tokens.
    """
    first, last = context_range
    null_score = float(start_logits[0] + end_logits[0])
    starts = start_logits[first : last + 1]
    ends = end_logits[first : last + 1]

    size = starts.shape[0]
    scores = starts[:, None] + ends[None, :]
    rows = torch.arange(size)[:, None]
    columns = torch.arange(size)[None, :]
    allowed = (columns >= rows) & (columns - rows < max_answer_tokens)
    scores = scores.masked_fill(~allowed, float("-inf"))

    flat = scores.flatten()
    count = min(SPANS_PER_WINDOW, int(allowed.sum()))
    values, indices = torch.topk(flat, count)
    candidates = []
    for value, index in zip(values.tolist(), indices.tolist()):
        start_token = first + index // size
        end_token = first + index % size
        candidates.append(
            SpanCandidate(
                passage_index=passage_index,
                start=offsets[start_token][0],
                end=offsets[end_token][1],
                score=value - null_score,
            )
        )
    return candidates


def rank_answers(
    candidates: list[SpanCandidate],
    passages: list[tuple[str, str]],
    top_k: int,
    threshold: float,
) -> list[Answer]:
    """Rank spans by score, merge spans with the same normalised text, keep ``top_k``.

    ``passages`` are (doc_id, text) pairs indexed by ``SpanCandidate.passage_index``. A merged
    answer keeps the offsets and score of its best-scoring span. Spans are widened to whole words
    first (see :func:`snap_to_words`). Spans scoring below
    ``threshold``, and spans whose normalised text is empty (punctuation only), are left out.
    Ties break by (doc_id, start) so the order is the same on every run.
    """
    ordered = sorted(
        candidates,
        key=lambda span: (-span.score, passages[span.passage_index][0], span.start, span.end),
    )
    answers: list[Answer] = []
    seen: set[str] = set()
    for span in ordered:
        if span.score < threshold or len(answers) == top_k:
            break
        doc_id, text = passages[span.passage_index]
        start, end = snap_to_words(text, span.start, span.end)
        key = normalize_answer(text[start:end])
        if not key or key in seen:
            continue
        seen.add(key)
        sentence_start, sentence_end = sentence_around(text, start, end)
        answers.append(
            Answer(
                text=text[start:end],
                score=span.score,
                doc_id=doc_id,
                start=start,
                end=end,
                sentence=text[sentence_start:sentence_end],
                sentence_start=sentence_start,
            )
        )
    return answers


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``text[start:end]`` so that it neither starts nor ends inside a word.

    WordPiece tokens can end mid-word ("Metform" + "##in"); a span ending on such a token is
    extended to the end of the word. Only letters and digits count as word characters, so
    punctuation next to a span stays outside it.
    """
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and end > start and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end
