"""Turn questions and contexts into labelled token windows for training the span head.

A window that holds the whole answer is labelled with the answer's first and last token. Any
other window is labelled with the [CLS] token (index 0), the usual "no answer in this window"
target. A long context yields many such negative windows, so at most ``negatives_per_question``
of them, drawn at random, are kept for each question.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

from medsearch.reader.squad import QAExample
from medsearch.reader.windows import context_token_range, encode_windows

logger = logging.getLogger(__name__)

ENCODE_CHUNK = 512


@dataclass
class TrainingFeatures:
    """Token windows with span labels; all lists have one entry per window."""

    input_ids: list[list[int]] = field(default_factory=list)
    token_type_ids: list[list[int]] = field(default_factory=list)
    start_positions: list[int] = field(default_factory=list)
    end_positions: list[int] = field(default_factory=list)
    positive_windows: int = 0
    negative_windows: int = 0
    dropped_negative_windows: int = 0

    def __len__(self) -> int:
        return len(self.input_ids)

    def extend(self, other: TrainingFeatures) -> None:
        """Append another set of windows and add up its counts."""
        self.input_ids += other.input_ids
        self.token_type_ids += other.token_type_ids
        self.start_positions += other.start_positions
        self.end_positions += other.end_positions
        self.positive_windows += other.positive_windows
        self.negative_windows += other.negative_windows
        self.dropped_negative_windows += other.dropped_negative_windows


def build_training_features(
    examples: list[QAExample],
    tokenizer: Any,
    *,
    max_length: int,
    stride: int,
    negatives_per_question: int,
    rng: random.Random,
) -> TrainingFeatures:
    """Tokenize ``examples`` into labelled windows, using each question's first answer.

    ``rng`` draws which negative windows are kept. Windows keep the order of ``examples``.
    """
    features = TrainingFeatures()
    for begin in range(0, len(examples), ENCODE_CHUNK):
        chunk = examples[begin : begin + ENCODE_CHUNK]
        features.extend(
            _label_chunk(
                chunk,
                tokenizer,
                max_length=max_length,
                stride=stride,
                negatives_per_question=negatives_per_question,
                rng=rng,
            )
        )
    return features


def _label_chunk(
    examples: list[QAExample],
    tokenizer: Any,
    *,
    max_length: int,
    stride: int,
    negatives_per_question: int,
    rng: random.Random,
) -> TrainingFeatures:
    encoding = encode_windows(
        tokenizer,
        questions=[example.question for example in examples],
        contexts=[example.context for example in examples],
        max_length=max_length,
        stride=stride,
    )

    positives: dict[int, list[tuple[int, int, int]]] = {}
    negatives: dict[int, list[tuple[int, int, int]]] = {}
    for window, example_index in enumerate(encoding["overflow_to_sample_mapping"]):
        example = examples[example_index]
        label = _span_label(encoding, window, example)
        if label == (0, 0):
            negatives.setdefault(example_index, []).append((window, 0, 0))
        else:
            positives.setdefault(example_index, []).append((window, *label))

    chunk = TrainingFeatures()
    for example_index in range(len(examples)):
        kept = positives.get(example_index, [])
        candidates = negatives.get(example_index, [])
        chosen = rng.sample(candidates, min(negatives_per_question, len(candidates)))
        chunk.positive_windows += len(kept)
        chunk.negative_windows += len(chosen)
        chunk.dropped_negative_windows += len(candidates) - len(chosen)
        for window, start, end in sorted(kept + chosen):
            chunk.input_ids.append(encoding["input_ids"][window])
            chunk.token_type_ids.append(encoding["token_type_ids"][window])
            chunk.start_positions.append(start)
            chunk.end_positions.append(end)
    return chunk


def _span_label(encoding: Any, window: int, example: QAExample) -> tuple[int, int]:
    """Return the answer's first and last token in ``window``, or (0, 0) if it is not all inside."""
    if example.is_impossible or not example.answers:
        return 0, 0

    text, answer_start = example.answers[0]
    answer_end = answer_start + len(text)
    offsets = encoding["offset_mapping"][window]
    first, last = context_token_range(encoding.sequence_ids(window))
    if offsets[first][0] > answer_start or offsets[last][1] < answer_end:
        return 0, 0

    start_token = first
    while start_token <= last and offsets[start_token][1] <= answer_start:
        start_token += 1
    end_token = last
    while end_token >= first and offsets[end_token][0] >= answer_end:
        end_token -= 1
    return start_token, end_token
