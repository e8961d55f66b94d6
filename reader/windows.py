"""Cut a question and a context into overlapping token windows (shared by training and reading).

Each window is ``[CLS] question [SEP] context piece [SEP]``; neighbouring windows share ``stride``
context tokens, so an answer cut by one window boundary lies whole inside the next window. The
question is cut to ``max_length // 4`` tokens so that every window keeps room for the context.
"""

from __future__ import annotations

import logging
from typing import Any

from medsearch.errors import MedsearchError

logger = logging.getLogger(__name__)

# [CLS] question [SEP] context [SEP]
SPECIAL_TOKENS_PER_WINDOW = 3


def max_question_tokens(max_length: int) -> int:
    """Return the number of question tokens kept in a window of ``max_length`` tokens."""
    return max_length // 4


def check_window_sizes(max_length: int, stride: int) -> None:
    """Raise if ``stride`` leaves no new context tokens in a window of ``max_length`` tokens.

    Raises:
        MedsearchError: when ``stride`` is negative or not smaller than the context part of a window.
    """
    room = max_length - max_question_tokens(max_length) - SPECIAL_TOKENS_PER_WINDOW
    if max_length < 32 or stride < 0 or stride >= room:
        raise MedsearchError(
            f"invalid window sizes max_length={max_length}, stride={stride}: max_length must be at least 32 "
            f"and stride between 0 and {room - 1} (the context tokens in a window, less one)"
        )


def truncate_questions(tokenizer: Any, questions: list[str], max_length: int) -> list[str]:
    """Cut each question to its first ``max_question_tokens(max_length)`` tokens.

    Logs one WARNING with the number of questions that were cut.
    """
    limit = max_question_tokens(max_length)
    encoded = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    truncated = []
    cut = 0
    for question, offsets in zip(questions, encoded["offset_mapping"]):
        if len(offsets) > limit:
            question = question[: offsets[limit - 1][1]]
            cut += 1
        truncated.append(question)
    if cut:
        logger.warning("Cut %d of %d questions to their first %d tokens", cut, len(questions), limit)
    return truncated


def encode_windows(tokenizer: Any, questions: list[str], contexts: list[str], max_length: int, stride: int) -> Any:
    """Tokenize question/context pairs into windows of at most ``max_length`` tokens.

    Returns the tokenizer's ``BatchEncoding`` without padding: ``input_ids``, ``token_type_ids``,
    ``offset_mapping`` (character offsets into the question or the context) and
    ``overflow_to_sample_mapping`` (the index of the pair each window comes from);
    ``encoding.sequence_ids(i)`` tells question tokens (0) from context tokens (1).
    """
    # NOTE: the question goes first, as in BERT-style SQuAD models; a model fine-tuned with the
    # context first would read these windows wrongly.
    check_window_sizes(max_length, stride)
    questions = truncate_questions(tokenizer, questions, max_length)
    return tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )


def context_token_range(sequence_ids: list[int | None]) -> tuple[int, int]:
    """Return the first and last token index of the context in one window."""
    first = sequence_ids.index(1)
    last = len(sequence_ids) - 1 - sequence_ids[::-1].index(1)
    return first, last
