"""SQuAD exact match and F1, with the answer normalisation of the official SQuAD v1.1 script.

Normalisation lower-cases, removes punctuation, removes the articles "a", "an" and "the", and
collapses whitespace (Rajpurkar et al., 2016, ``evaluate-v1.1.py``). A prediction is scored
against every gold answer and keeps the best score.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Lower-case ``text`` and strip punctuation, articles and extra whitespace."""
    text = text.lower()
    text = "".join(character for character in text if character not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    """Return 1.0 if the normalised texts are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Return the F1 of the bag of normalised tokens of ``prediction`` against ``gold``."""
    predicted_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(predicted_tokens) & Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted_tokens)
    recall = overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def best_scores(prediction: str, golds: Iterable[str]) -> tuple[float, float]:
    """Return (exact match, F1) of ``prediction`` against its best-matching gold answer.

    With no gold answers (an unanswerable question) both are 1.0 for an empty prediction and
    0.0 otherwise, as in the SQuAD 2.0 script.
    """
    golds = list(golds)
    if not golds:
        score = float(not normalize_answer(prediction))
        return score, score
    return (
        max(exact_match(prediction, gold) for gold in golds),
        max(f1_score(prediction, gold) for gold in golds),
    )
